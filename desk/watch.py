"""What the desk's watches share: the deadline watch (:mod:`desk.deadline_watch`) and the
automation watch (:mod:`desk.automation_watch`) each ask a view which tickets are due, in
batches, and ask the desk to act on each, in a thread of their own that outlives a lost
database. The ticket decides, so a change already made answers "nothing to do"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from desk.service import SupportDesk
from domain.errors import DocketError, NothingChanged
from domain.stamp import Stamp
from projections.kit import Tables
from store.background import Background


def system_now() -> datetime:
    return datetime.now(UTC)


class DeskWatch(Background):
    """Subclasses write :meth:`sweep_on` (one sweep on a connection) and name their
    ``thread_name`` (their connection's name too, and their log's: ``docket-deadlines``
    logs as ``docket.deadlines``), ``what``, ``actor`` and ``interval``."""

    what = "watch"
    """What its log lines call the watch."""
    actor = "watch"
    """The system actor the desk's changes for the watch are stamped with."""
    interval = 10.0
    acted = 0
    """How many changes the desk made for the watch, in all its sweeps."""

    def __init__(
        self,
        desk: SupportDesk,
        url: str,
        schema: str,
        *,
        clock: Callable[[], datetime] = system_now,
        interval: float | None = None,
        batch: int = 200,
    ) -> None:
        self.desk = desk
        self.url = url
        self.tables = Tables(schema)
        self.clock = clock
        if interval is not None:
            self.interval = interval
        self.batch = batch
        self.last_error: str | None = None
        self.log = logging.getLogger(self.thread_name.replace("-", ".", 1))
        super().__init__()

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.url, autocommit=True, connect_timeout=5, application_name=self.thread_name
        )

    def sweep(self, conn: psycopg.Connection[Any] | None = None) -> int:
        """One sweep (on a connection of its own without ``conn``): how many tickets the
        desk acted on (added to :attr:`acted`)."""
        if conn is None:
            with self.connect() as own:
                return self.sweep(own)
        done = self.sweep_on(conn)
        self.acted += done
        return done

    def sweep_on(self, conn: psycopg.Connection[Any]) -> int:
        raise NotImplementedError

    def pause(self, conn: psycopg.Connection[Any]) -> float:
        """How long to wait after a sweep."""
        return self.interval

    def in_batches(
        self, due: Callable[[datetime], Sequence[UUID]], act: Callable[[UUID, datetime], int]
    ) -> int:
        """``act`` on every ticket ``due`` answers as of now, a batch at a time, until a
        batch comes short or changes nothing (what is left is not the desk's to do)."""
        total = 0
        while True:
            now = self.clock()
            tickets = due(now)
            acted = sum(act(ticket_id, now) for ticket_id in tickets)
            total += acted
            if len(tickets) < self.batch or acted == 0:
                return total

    def ask(
        self,
        ticket_id: UUID,
        use_case: Callable[[Stamp], object],
        now: datetime,
        causation_id: str,
        what: str | None = None,
    ) -> int:
        """Run ``use_case`` stamped by the watch's ``actor`` at ``now``, caused by
        ``causation_id``: 1 if the desk made the change, 0 if there was nothing to do or
        it refused (logged as ``what``, else as the watch: only the ticket can be wrong,
        and the next sweep asks again)."""
        try:
            use_case(Stamp(self.actor, "system", "system", now, causation_id=causation_id))
        except NothingChanged:  # done by another watch, or no longer due
            return 0
        except DocketError as refused:
            self.log.warning("%s: ticket %s: %s", what or self.what, ticket_id, refused)
            return 0
        return 1

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with self.connect() as conn:
                    while not self._stop.is_set():
                        self.sweep(conn)
                        pause = self.pause(conn)
                        self.last_error = None
                        backoff = 0.5
                        self._stop.wait(pause)
            except Exception as error:  # a lost database: try again, visibly
                self.last_error = f"{type(error).__name__}: {error}"
                self.log.warning("%s: %s; retrying", self.what, error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
