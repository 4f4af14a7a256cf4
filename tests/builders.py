"""Small builders the tests share: stamps, a desk with one account, a filed ticket."""

from __future__ import annotations

import csv
import gzip
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypedDict, TypeVar
from uuid import UUID, uuid4

import psycopg

from desk.answers import AccountReceipt, AttachmentRef, Receipt
from desk.service import SupportDesk
from domain.staff import StaffMember
from domain.stamp import Stamp
from domain.ticket import Ticket

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


class TicketText(TypedDict):
    subject: str
    description: str
    type: str
    priority: str
    product: str


SYNC_FAILS: TicketText = {
    "subject": "Sync fails",
    "description": "Files stop syncing.",
    "type": "bug",
    "priority": "normal",
    "product": "Files",
}
"""What the builders' tickets say: a sync bug on Files."""


def requester(at: datetime = T0, who: str = "req-1") -> Stamp:
    return Stamp(who, "requester", "web", at, correlation_id="corr-1")


def agent(at: datetime = T0, who: str = "agent-1") -> Stamp:
    return Stamp(who, "agent", "web", at, correlation_id="corr-2", causation_id="cause-2")


def agent_reply(
    desk: SupportDesk, ticket: str | UUID, body: str, at: datetime = T0, **more: Any
) -> Receipt:
    """agent-1's public reply on ``ticket`` at ``at`` (``more``: the reply's other keywords)."""
    return desk.add_message(
        ticket, author_id="agent-1", author_role="agent", body=body, stamp=agent(at), **more
    )


def agent_note(
    desk: SupportDesk, ticket: str | UUID, body: str, at: datetime = T0, **more: Any
) -> Receipt:
    """agent-1's internal note on ``ticket`` at ``at`` (``more``: the note's other keywords)."""
    return desk.add_internal_note(ticket, author_id="agent-1", body=body, stamp=agent(at), **more)


def now() -> datetime:
    """The wall clock, for tests whose mail and views run in real time."""
    return datetime.now(UTC)


def system(at: datetime = T0) -> Stamp:
    return Stamp("system", "system", "api", at)


def new_ticket(at: datetime = T0, sla_terms: dict[str, Any] | None = None) -> Ticket:
    return Ticket.file(
        ticket_id=uuid4(),
        number="T-000001",
        **SYNC_FAILS,
        topic="sync",
        channel="web",
        requester_id="req-1",
        account_id="acct-1",
        stamp=requester(at),
    )


def desk_with_account(desk: SupportDesk, plan: str = "business", tier: str = "standard") -> UUID:
    account = desk.open_account(
        name="Acme", plan=plan, support_tier=tier, stamp=system()
    ).account_id
    new_member(desk, account, "req-1", "r@acme.test", "R")
    new_member(desk, account, "admin-1", "a@acme.test", "A", role="admin")
    return account


def new_member(
    desk: SupportDesk,
    account: UUID,
    member_id: str,
    email: str,
    name: str,
    role: str = "member",
    at: datetime = T0,
    **more: Any,
) -> AccountReceipt:
    """``member_id`` (``name``, at ``email``) added to ``account`` as ``role`` by the system at
    ``at`` (``more``: the member's other keywords, as ``language``)."""
    return desk.add_member(
        account, member_id=member_id, email=email, name=name, role=role, stamp=system(at), **more
    )


def file(
    desk: SupportDesk,
    account: UUID,
    at: datetime = T0,
    attachments: list[AttachmentRef] | None = None,
) -> Receipt:
    return desk.file_ticket(
        account_id=account,
        requester_id="req-1",
        **SYNC_FAILS,
        attachments=attachments,
        stamp=requester(at),
    )


def filed_an_hour_apart(desk: SupportDesk, account: UUID, count: int) -> list[Receipt]:
    """Tickets of the account filed an hour apart from T0, the oldest first: for lists
    whose order is the point."""
    return [file(desk, account, at=later(hours=i)) for i in range(count)]


def visitor(at: datetime = T0) -> Stamp:
    """Whoever sent the contact form: known to nobody."""
    return Stamp("contact-form", "requester", "api", at, correlation_id="form-1")


def send_contact_form(
    desk: SupportDesk, email: str, client: str = "203.0.113.9", at: datetime = T0
) -> str:
    """Ada, locked out, writes from ``email`` and the address ``client``: the reference."""
    return desk.receive_contact(
        name="Ada",
        email=email,
        subject="Locked out",
        description="The reset email never arrives.",
        product="Files",
        client_address=client,
        stamp=visitor(at),
    ).reference


def save_an_old_agent(desk: SupportDesk, group: str) -> None:
    """Old, an agent in ``group``, as registrations were stored before support groups had
    streams of their own: the group has none."""
    old = StaffMember.register(
        staff_id=StaffMember.id_for("old@docket.test"),
        name="Old",
        email="old@docket.test",
        role="agent",
        groups=[group],
        stamp=system(),
    )
    desk.save(old)


def new_staff(
    desk: SupportDesk,
    name: str,
    email: str,
    *,
    role: str = "agent",
    groups: list[str] | None = None,
    at: datetime = T0,
    language: str = "en",
) -> str:
    """The id, as text, of ``name`` registered on the desk's staff by the system at ``at``:
    an agent unless told otherwise."""
    registered = desk.register_staff(
        name=name, email=email, role=role, groups=groups, language=language, stamp=system(at)
    )
    return str(registered.staff_id)


def later(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    name = "p_" + uuid.uuid4().hex[:16]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def admin(at: datetime = T0, who: str = "admin-9") -> Stamp:
    return Stamp(who, "admin", "api", at, correlation_id="corr-9")


def field_data(key: str = "os", kind: str = "dropdown", **overrides: Any) -> dict[str, Any]:
    """A custom ticket field as an admin defines it: by default the dropdown "os"
    (linux, macos), for every product, optional."""
    data: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "labels": {"en": key.title(), "fr": f"{key.title()} (fr)"},
        "options": [
            {"key": "linux", "labels": {"en": "Linux", "fr": "Linux"}},
            {"key": "macos", "labels": {"en": "macOS", "fr": "macOS"}},
        ]
        if kind == "dropdown"
        else [],
    }
    return {**data, **overrides}


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a gzipped CSV file (tests/fixtures), each by its header's columns."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def written_csv(
    path: Path, rows: Sequence[Mapping[str, str]], columns: Sequence[str] | None = None
) -> Path:
    """``rows`` written to ``path`` as CSV under a header of ``columns`` (by default the
    first row's), as an importer reads it."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns or rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


class HasTables(Protocol):
    def create_tables(self) -> None: ...


Store = TypeVar("Store", bound=HasTables)


def with_tables(store: Store) -> Store:
    """``store`` once its tables are created (as a serving process does at start)."""
    store.create_tables()
    return store


def write_while_following(
    follower: threading.Thread, writers: Sequence[threading.Thread], writing: threading.Event
) -> None:
    """The gap test's run: the follower tails the log while every writer writes; once they
    are done, ``writing`` is cleared and the follower reads to the end."""
    follower.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    writing.clear()
    follower.join(timeout=60)
