"""What both importers share: reading CSV (plain or gzip), accounts on demand, the report."""

from __future__ import annotations

import csv
import gzip
import io
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from uuid import NAMESPACE_URL, UUID, uuid5

from desk.answers import Change, Receipt
from desk.service import SupportDesk
from domain.errors import DocketError
from domain.stamp import Stamp


def import_id(dataset: str, key: str) -> UUID:
    """The same source record always maps to the same id: imports resume without duplicates."""
    return uuid5(NAMESPACE_URL, f"docket:import:{dataset}:{key}")


def open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def records(handle: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Each CSV record with the line it starts on (records may span lines).

    NUL characters become U+FFFD: PostgreSQL text cannot hold them, and an id with
    one would reach every view."""
    reader = csv.DictReader(handle)
    line = 2
    for row in reader:
        yield (
            line,
            {k: (v or "").replace("\x00", "\ufffd") for k, v in row.items() if k is not None},
        )
        line = reader.line_num + 1


@dataclass
class ImportReport:
    rows: int = 0
    tickets: int = 0
    already_there: int = 0
    events: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    shown: float = 0.0

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def refuse(self, line: int, reason: str) -> None:
        self.problems.append((line, reason))

    def imported(
        self,
        line: int,
        outcome: tuple[Receipt | None, list[tuple[Change, DocketError]]],
        what: str = "",
    ) -> None:
        """What one ticket's import did (:meth:`desk.imports.Imports.import_ticket`): each
        change the rules refused, on the ticket's first ``line`` (``what`` first); the
        ticket and its events counted, or counted as already there."""
        receipt, refused = outcome
        for change, error in refused:
            self.refuse(line, f"{what}{change.command} refused: {error}")
        if receipt is None:
            self.already_there += 1
        else:
            self.tickets += 1
            self.events += receipt.version

    @contextmanager
    def taking(self, line: int, rows: int = 1, what: str = "") -> Iterator[None]:
        """One record (of ``rows`` rows, from ``line``) imported: counted, and refused with
        its line (``what`` first) when its data does not fit, the import going on."""
        self.rows += rows
        try:
            yield
        except (KeyError, ValueError, ArithmeticError, DocketError) as error:
            self.refuse(line, f"{what}{type(error).__name__}: {error}")
        self.progress()

    def progress(self, *, force: bool = False) -> None:
        """A progress line on stderr, at most twice a second."""
        now = time.perf_counter()
        if not force and now - self.shown < 0.5:
            return
        self.shown = now
        print(
            f"\r  {self.rows:>8,} rows  {self.tickets:,} tickets  {self.events:,} events  "
            f"{self.events / max(self.seconds, 1e-9):,.0f} events/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def summary(self) -> str:
        lines = [
            f"{self.rows:,} rows read; {self.tickets:,} tickets imported with {self.events:,} "
            f"events in {self.seconds:.1f} s ({self.events / max(self.seconds, 1e-9):,.0f} "
            f"events/s); {self.already_there:,} tickets were already imported",
            f"{len(self.problems)} rows or changes could not be used"
            + (":" if self.problems else "."),
        ]
        lines += [f"  line {line}: {reason}" for line, reason in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  … and {len(self.problems) - 50} more")
        return "\n".join(lines)


class Accounts:
    """Opens accounts and adds members once, whatever the order rows come in."""

    def __init__(self, desk: SupportDesk, stamp: Stamp, plan: str = "enterprise") -> None:
        self.desk = desk
        self.stamp = stamp
        self.plan = plan
        self.members: dict[UUID, set[str]] = {}

    def ensure(
        self, account_id: UUID, name: str, member_id: str, member_name: str, email: str
    ) -> None:
        members = self.members.get(account_id)
        if members is None:
            if self.desk.has_account(account_id):
                members = {m for m in (member_id,) if self.desk.has_member(account_id, m)}
            else:
                self.desk.open_account(
                    account_id=account_id, name=name, plan=self.plan,
                    support_tier="standard", stamp=self.stamp,
                )  # fmt: skip
                members = set()
            self.members[account_id] = members
        if member_id not in members:
            if not self.desk.has_member(account_id, member_id):
                self.desk.add_member(
                    account_id, member_id=member_id, email=email, name=member_name,
                    role="member", stamp=self.stamp,
                )  # fmt: skip
            members.add(member_id)


@dataclass
class Import:
    """One import under way: the desk it writes to, the accounts it has opened and added
    members to, and its report."""

    desk: SupportDesk
    accounts: Accounts
    report: ImportReport = field(default_factory=ImportReport)
