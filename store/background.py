"""A loop that runs in a daemon thread of its own until asked to stop."""

from __future__ import annotations

import threading


class Background:
    """Subclasses write :meth:`_run`, which returns once ``self._stop`` is set."""

    thread_name = "docket-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
