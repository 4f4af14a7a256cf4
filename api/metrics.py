"""The HTTP request counts ``/metrics`` reports, summed over every API process of one
``docket serve``.

Each process counts its own answers in memory (a dict increment per request). With
several workers (``docket serve --workers N``) the server gives them one folder
(``DOCKET_METRICS_DIR``), and each process writes its counts there as a file of its own,
``http-<pid>.json``, at most every :data:`FLUSH_SECONDS` when they changed and when it
stops. Whichever worker answers ``/metrics`` adds its own live counts to the other
processes' files, so a scrape sees every worker's answers (the others' as at most
:data:`FLUSH_SECONDS` old), and a worker that exited or was replaced still counts: a
counter never goes down. Nothing is written on a request's path.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

Key = tuple[str, str, int]
"""Method, route, status."""

FLUSH_SECONDS = 0.5


class RequestCounts:
    """This process's answers by method, route and status, and the other workers' too."""

    def __init__(self, folder: Path | None = None) -> None:
        self.own: dict[Key, int] = {}
        self.folder = folder
        self.pid = os.getpid()
        self._written = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def note(self, key: Key) -> None:
        self.own[key] = self.own.get(key, 0) + 1

    @property
    def file(self) -> Path | None:
        return self.folder / f"http-{self.pid}.json" if self.folder else None

    def start(self) -> None:
        """Write this process's counts to the shared folder until :meth:`stop`."""
        if self.folder is None or self._thread is not None:
            return
        self.pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="docket-metrics", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def flush(self) -> None:
        file = self.file
        if file is None:
            return
        counts = self.own.copy().items()  # a copy: the event loop keeps counting meanwhile
        total = sum(n for _, n in counts)
        if total == self._written and file.exists():
            return
        rows = [[method, route, status, n] for (method, route, status), n in counts]
        part = file.with_suffix(".part")
        part.write_text(json.dumps({"pid": self.pid, "counts": rows}))
        os.replace(part, file)  # a reader sees the old counts or the new, never half
        self._written = total

    def by_process(self) -> dict[int, dict[Key, int]]:
        """Every API process's counts: this one's live, the others' as last written."""
        found: dict[int, dict[Key, int]] = {}
        if self.folder is not None:
            for file in self.folder.glob("http-*.json"):
                try:
                    data = json.loads(file.read_text())
                except (OSError, ValueError):
                    continue  # gone since the listing (a folder being removed)
                found[int(data["pid"])] = {
                    (str(m), str(r), int(s)): int(n) for m, r, s, n in data["counts"]
                }
        found[self.pid] = dict(self.own)
        return found

    def totals(self) -> dict[Key, int]:
        """Answers by method, route and status, summed over every API process."""
        summed: dict[Key, int] = {}
        for counts in self.by_process().values():
            for key, n in counts.items():
                summed[key] = summed.get(key, 0) + n
        return summed
