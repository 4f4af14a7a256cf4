"""The projection runner: follows the event log and keeps every view's tables current.

A view (see :class:`projections.kit.View`) names the event classes it handles and
how a batch of them changes its tables. The runner reads the notification log in position
order and, for each view, writes the view's rows **and** the view's tracking
position in one transaction, so an event is applied exactly once even across
crashes: either both are committed or neither is.

* **Gap-safe.** The recorder commits notification ids in order (see
  :mod:`store.eventstore`), so reading "after position P" never skips an
  event that commits later.
* **Batched.** While catching up a transaction takes up to ``batch_size``
  events; when live, each wake-up takes whatever has arrived, usually one.
* **One writer per view.** The tracking row is locked ``FOR UPDATE SKIP
  LOCKED``: a second worker on the same view finds it taken and waits, so two
  workers never apply the same event twice.
* **Resilient.** A lost connection is reopened with back-off; the view resumes
  from its committed tracking position.
* **Stuck, visibly.** A view that keeps failing (a bug, or a log someone damaged so
  that an event no longer fits the view's keys) retries with back-off growing to
  ``STUCK_BACKOFF`` seconds, one event at a time so the position it fails on is
  exact, and logs once per streak of failures (with the traceback), once more when
  it counts as stuck (``STUCK_AFTER`` attempts on the same position) and once when
  it works again. Its error, attempts and position are on record in the tracking
  table, where ``/healthz`` of any process reads them and says ``degraded``.
* **Live.** Writers ``NOTIFY`` on append; a listener wakes the views at once,
  and an idle timeout catches anything a lost notification would have delayed.
* **Read once.** The views of one runner share a :class:`store.log.LogTail`: the first view
  to need newer events reads and decodes them, the others take them from memory.
  A view that finds nothing it handles in a stretch commits its new position
  only now and then (its rows did not change, and this process's readers learn
  the position at once), so a ticket event costs the directory nothing but a lock.
* **Analysed.** A view that has taken in ``ANALYZE_EVERY`` events since it last did
  (a catch-up, an import) refreshes its tables' planner statistics at once,
  rather than serving queries planned for a much smaller table until autovacuum
  comes round to it.
* **Paced.** A view steps at most once per ``pace`` seconds: under a stream of
  writes each step takes the few events that arrived meanwhile instead of one
  transaction per event per view, which is most of what projecting costs. A
  quiet view that wakes up steps at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper

from projections.kit import Tables, View
from projections.tracking import (
    MARKS_TABLE,
    STUCK_AFTER,
    TRACKING_TABLE,
    create_tracking_table,
)
from store.eventstore import docket_mapper
from store.log import NOTIFY_CHANNEL, LogTail, log_head

log = logging.getLogger("docket.projections")

CURSOR_LIFETIME_SECONDS = 15 * 60
"""How long a list cursor stays valid; history older than that is pruned."""


class Wakeup:
    """A generation counter that sleeping views wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.generation = 0

    def wake(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self._cond:
            if self.generation == seen:
                self._cond.wait(timeout)


@dataclass
class ViewStatus:
    position: int = 0
    last_error: str | None = None
    events_applied: int = 0
    batches: int = 0
    failures: int = 0
    """Attempts in a row that failed (0 while it works)."""
    failing_at: int | None = None
    """The position of the last event of the batch that failed (one event after the first
    failure, so then exactly the event it fails on)."""
    attempting: int | None = None
    """The position of the last event of the batch being applied."""

    @property
    def stuck(self) -> bool:
        return self.failures >= STUCK_AFTER


@dataclass
class Board:
    """Each view's committed position as this process last saw it, for waiting readers."""

    positions: dict[str, int] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def advance(self, view: str, position: int) -> None:
        with self.cond:
            if position > self.positions.get(view, 0):
                self.positions[view] = position
            self.cond.notify_all()

    def wait(self, view: str, position: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.positions.get(view, 0) >= position, timeout)


ANALYZE_EVERY = 20_000
"""Events a view applies before it refreshes its tables' planner statistics."""
SKIP_COMMIT_SECONDS = 0.25
"""How long a view may leave a stretch with nothing for it uncommitted."""
FIRST_BACKOFF = 0.05
FAILING_BACKOFF = 5.0
"""The longest pause between attempts of a view that is failing but not yet stuck."""
STUCK_BACKOFF = 30.0
"""The longest pause between attempts of a stuck view."""


def passed(status: ViewStatus) -> bool:
    """Whether a failing view has got past the event it failed on."""
    return status.failing_at is None or status.position >= status.failing_at


class ProjectionRunner:
    """Keeps ``views`` current from the event log in ``schema`` at ``url``."""

    def __init__(
        self,
        url: str,
        schema: str,
        views: Iterable[View],
        *,
        batch_size: int = 500,
        idle_wait: float = 1.0,
        pace: float = 0.02,
        maintain_every: float = 60.0,
        cursor_lifetime: float = CURSOR_LIFETIME_SECONDS,
        mapper: Mapper[UUID] | None = None,
        suffix: str = "",
    ) -> None:
        self.url = url
        self.schema = schema
        self.views = list(views)
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.pace = pace
        self.maintain_every = maintain_every
        self.cursor_lifetime = cursor_lifetime
        self.mapper = mapper or docket_mapper()
        self.tables = Tables(schema, suffix)
        self.tracking = f'"{schema}".{TRACKING_TABLE}'
        self.suffix = suffix
        self.status = {v.name: ViewStatus() for v in self.views}
        self.tail = LogTail(
            schema, self.mapper, frozenset().union(*(v.handles for v in self.views))
        )
        self._ahead: dict[str, tuple[int, int, float]] = {}
        """Per view: (committed position, position reached, since when) while it skips."""
        self.board = Board()
        self.wakeup = Wakeup()
        self._stop = threading.Event()
        self._stop_requested = False
        """A stop asked for (a signal, the parent gone) even before :meth:`run_forever`
        began: ``start`` clears ``_stop``, this it keeps."""
        self._threads: list[threading.Thread] = []

    # --- set-up ------------------------------------------------------------------------

    def create_tables(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            create_tracking_table(conn, self.schema)
            for view in self.views:
                with conn.transaction():
                    key = self.tracking_key(view)
                    found = conn.execute(
                        f"SELECT shape, position FROM {self.tracking} WHERE view = %s FOR UPDATE",
                        (key,),
                    ).fetchone()
                    if found is not None and found[0] > view.shape:
                        raise RuntimeError(
                            f"View {key} is stored in shape {found[0]}, newer than this "
                            f"Docket's {view.shape}: run the newer Docket."
                        )
                    if found is not None and found[0] < view.shape:
                        log.warning("view %s changed shape: folding it again from 0", key)
                        for table in view.tables:
                            conn.execute(f"DROP TABLE IF EXISTS {self.tables(table)} CASCADE")
                        # cursors of walks over the old tables expire (their position as horizon)
                        conn.execute(
                            f"UPDATE {self.tracking} SET position = 0, pruned_upto = %s, "
                            "shape = %s WHERE view = %s",
                            (found[1], view.shape, key),
                        )
                        conn.execute(
                            f'DELETE FROM "{self.schema}".{MARKS_TABLE} WHERE view = %s', (key,)
                        )
                    view.create_tables(conn, self.tables)
                    conn.execute(
                        f"INSERT INTO {self.tracking} (view, position, shape) VALUES (%s, 0, %s) "
                        "ON CONFLICT (view) DO NOTHING",
                        (key, view.shape),
                    )

    def tracking_key(self, view: View) -> str:
        return view.name + self.suffix

    # --- one step ----------------------------------------------------------------------

    def _hold(self, conn: psycopg.Connection[Any], key: str) -> int | None:
        """The view's committed position, its tracking row held until the transaction
        ends; ``None`` when another worker holds it."""
        row = conn.execute(
            f"SELECT position FROM {self.tracking} WHERE view = %s FOR UPDATE SKIP LOCKED",
            (key,),
        ).fetchone()
        return None if row is None else int(row[0])

    def step(
        self, conn: psycopg.Connection[Any], view: View, upto: int | None = None
    ) -> int | None:
        """Apply the next batch to ``view`` in one transaction (none after ``upto``).

        Returns how many log events the batch covered (0 when caught up), or
        ``None`` when another worker holds the view.
        """
        key = self.tracking_key(view)
        with conn.transaction():
            committed = self._hold(conn, key)
            if committed is None:
                return None
            ahead = self._ahead.pop(view.name, None)
            if ahead is not None and ahead[0] != committed:  # another worker moved it since
                ahead = None
            position = committed if ahead is None else ahead[1]
            status = self.status[view.name]
            limit = 1 if status.failures else self.batch_size  # failing: find the event
            read, new_position, facts = self.tail.read(conn, position, limit, upto)
            status.attempting = new_position if read else None
            facts = [f for f in facts if view.wants(f)]
            now = time.monotonic()
            since = now if ahead is None else ahead[2]
            if not facts and read and now - since < SKIP_COMMIT_SECONDS:
                self._ahead[view.name] = (committed, new_position, since)
            elif new_position > committed:
                if facts:
                    view.apply(conn, self.tables, facts)
                conn.execute(
                    f"UPDATE {self.tracking} SET position = %s, updated_at = now() "
                    "WHERE view = %s",
                    (new_position, key),
                    prepare=True,
                )
            if not read:
                status.position = position
                self.board.advance(view.name, position)
                return 0
        status.attempting = None
        status.position = new_position
        status.events_applied += len(facts)
        status.batches += 1
        status.last_error = None
        self.board.advance(view.name, new_position)
        return read

    def maintain(self, conn: psycopg.Connection[Any], view: View) -> int:
        """Mark where the view is now; prune what no live cursor can still read. Rows pruned."""
        if view.prune is None:
            return 0
        key = self.tracking_key(view)
        marks = f'"{self.schema}".{MARKS_TABLE}'
        with conn.transaction():
            committed = self._hold(conn, key)
            if committed is None:
                return 0
            conn.execute(
                f"INSERT INTO {marks} (view, position, at) VALUES (%s, %s, now())",
                (key, committed),
            )
            found = conn.execute(
                f"SELECT coalesce(max(position), 0) FROM {marks} "
                "WHERE view = %s AND at < now() - make_interval(secs => %s)",
                (key, self.cursor_lifetime),
            ).fetchone()
            horizon = int(found[0]) if found else 0
            if horizon == 0:
                return 0
            pruned = view.prune(conn, self.tables, horizon)
            conn.execute(
                f"UPDATE {self.tracking} SET pruned_upto = GREATEST(pruned_upto, %s) "
                "WHERE view = %s",
                (horizon, key),
            )
            conn.execute(f"DELETE FROM {marks} WHERE view = %s AND position < %s", (key, horizon))
        return pruned

    def catch_up(self) -> None:
        """Apply everything in the log now (for tests, tools and `replay`).

        Up to the head as it is when called, so that writers going on meanwhile
        cannot keep it from returning.
        """
        with psycopg.connect(self.url, autocommit=True) as conn:
            head = log_head(conn, self.schema)
            for view in self.views:
                while True:
                    covered = self.step(conn, view, head)
                    if covered is None:
                        time.sleep(0.01)
                    elif covered == 0:
                        break

    # --- running in the background ---------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._listen, name="docket-listen", daemon=True),
            *(
                threading.Thread(
                    target=self._follow, args=(v,), name=f"docket-{v.name}", daemon=True
                )
                for v in self.views
            ),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wakeup.wake()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def request_stop(self) -> None:
        """Ask the threads to finish (safe from a signal handler)."""
        self._stop_requested = True
        self._stop.set()

    def run_forever(self) -> None:
        self.start()
        if self._stop_requested:  # asked before it started: start() cleared the event
            self._stop.set()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    def _connect(self, role: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=5,
            application_name=f"docket-projection:{self.schema}:{role}"[:63],
        )

    def _follow(self, view: View) -> None:
        backoff = FIRST_BACKOFF
        failing = True  # a worker before this one may have left an error on record
        status = self.status[view.name]
        while not self._stop.is_set():
            try:
                with self._connect(view.name) as conn:
                    maintained = stepped = time.monotonic()
                    analysed = self.status[view.name].events_applied
                    while not self._stop.is_set():
                        if time.monotonic() - maintained > self.maintain_every:
                            self.maintain(conn, view)
                            maintained = time.monotonic()
                        if self.status[view.name].events_applied - analysed >= ANALYZE_EVERY:
                            for table in view.tables:
                                conn.execute(f"ANALYZE {self.tables(table)}")
                            analysed = self.status[view.name].events_applied
                        early = stepped + self.pace - time.monotonic()
                        if early > 0:
                            self._stop.wait(early)
                        stepped = time.monotonic()
                        seen = self.wakeup.generation
                        covered = self.step(conn, view)
                        backoff = FIRST_BACKOFF
                        if covered is not None and status.failures and passed(status):
                            log.warning(
                                "projection %s works again after %d failed attempts",
                                view.name, status.failures,
                            )  # fmt: skip
                            status.failures, status.failing_at = 0, None
                        if failing and covered is not None:
                            failing = not self._put_on_record(conn, view, None)
                        if covered:
                            continue
                        self.wakeup.wait(seen, self.idle_wait if covered == 0 else 0.05)
            except Exception as error:  # a lost database, or a bug in a view: retry, visibly
                message = f"{type(error).__name__}: {error}"[:1000]
                at = status.attempting
                status.failures += 1  # one streak until it gets past where it failed
                status.failing_at, status.last_error = at, message
                where = f"at position {at}" if at is not None else "before reading an event"
                if status.failures == 1:
                    log.warning(
                        "projection %s fails %s: %s; retrying with back-off (logged once "
                        "until it works again)", view.name, where, error, exc_info=True,
                    )  # fmt: skip
                elif status.failures == STUCK_AFTER:
                    log.error(
                        "projection %s is stuck %s after %d attempts: %s; /healthz says "
                        "degraded; retrying at most every %.0f s",
                        view.name, where, status.failures, message, STUCK_BACKOFF,
                    )  # fmt: skip
                failing = True
                try:
                    with self._connect(view.name) as conn:
                        self._put_on_record(conn, view, message)
                except psycopg.Error:  # the database is away: the log above still says it
                    pass
                self._stop.wait(backoff)
                limit = STUCK_BACKOFF if status.stuck else FAILING_BACKOFF
                backoff = min(backoff * 2, limit)

    def _put_on_record(self, conn: psycopg.Connection[Any], view: View, error: str | None) -> bool:
        """The view's failure (``None``: it works again) where any process can see it; whether
        it was put (not when another worker or a rebuild holds the view: try again later)."""
        key, said = self.tracking_key(view), error[:1000] if error else None
        status = self.status[view.name]
        failures, at = (status.failures, status.failing_at) if error else (0, None)
        with conn.transaction():
            held = conn.execute(
                f"SELECT 1 FROM {self.tracking} WHERE view = %s FOR UPDATE SKIP LOCKED", (key,)
            ).fetchone()
            if held is None:
                return False
            conn.execute(
                f"UPDATE {self.tracking} SET last_error = %s, failures = %s, failing_at = %s "
                "WHERE view = %s AND (last_error, failures, failing_at) "
                "IS DISTINCT FROM (%s, %s, %s)",
                (said, failures, at, key, said, failures, at),
            )
        if error is None:
            self.status[view.name].last_error = None
        return True

    def _listen(self) -> None:
        backoff = 0.05
        while not self._stop.is_set():
            try:
                with self._connect("listen") as conn:
                    conn.execute(f'LISTEN "{NOTIFY_CHANNEL}"')
                    backoff = 0.05
                    self.wakeup.wake()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.wakeup.wake()
            except psycopg.Error as error:
                log.warning("projection listener: %s; retrying", error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
