"""One row per ticket for the list views, kept as versions in time.

The inbox and the customers' lists (:mod:`projections.lists.inbox`,
:mod:`projections.lists.customer_tickets`) both fold ticket events into a
:class:`TicketRow`; they differ in which events they see (customers' lists never
see internal notes) and how they sort.

Rows are *temporal*: a change does not overwrite a ticket's row, it closes it
(``valid_to``) and adds the new one (``valid_from``), both at the position of
the change. A list read "as of position S" takes the rows with
``valid_from <= S < valid_to``, so a walk through its pages is one consistent
snapshot while tickets are being written: nothing skipped, nothing repeated.
Within one runner batch a ticket gets a single new version at its last event:
no snapshot can fall inside a batch, since tracking positions are only ever
committed at batch ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from domain.sla import SlaState, state_from_data, state_to_data
from domain.ticket import PUBLIC_EVENTS, STAFF_ONLY_EVENTS, Ticket, sla_after
from domain.vocabulary import PRIORITIES
from projections import ticket_fields
from projections.kit import EventClass, Fact, Tables, View, clean_text, rows_by_ticket
from projections.lists.filters import SORTS, Count, ListFilter, Page, count, micros, page
from store.bulk import copy_rows

OPEN_END = 2**63 - 1

NO_DUE_KEY = 2**62
"""The due-soonest sort key of a ticket with no running SLA clock: after every due one."""


@dataclass(frozen=True)
class TicketRow:
    ticket_id: UUID
    number: str
    account_id: str
    requester_id: str
    subject: str
    type: str
    priority: str
    product: str
    topic: str
    channel: str
    status: str
    assignee_id: str | None
    support_group: str | None
    created_at: datetime
    last_activity_at: datetime
    waiting_since: datetime | None
    """When the oldest customer message still without an agent reply was written."""
    message_count: int
    note_count: int
    version: int
    collaborators: tuple[str, ...]
    sla_due_at: datetime | None
    """The soonest due instant of the ticket's running SLA clocks (overdue ones included)."""
    sla_state: SlaState
    callback_phone: str | None = None
    callback_window_start: datetime | None = None
    callback_window_end: datetime | None = None
    callback_state: str | None = None
    """``to_make`` from CallbackRequested until CallbackMade, then ``made``."""
    tags: tuple[str, ...] = ()
    """Staff only: the customers' lists never fold the events that set them."""
    merged_into: str | None = None
    """The ticket this one was merged into (it is closed, and worked there)."""
    cc_member_ids: tuple[str, ...] = ()
    """The members of the ticket's account it copies (CCs): it is in their lists too."""
    cc_member_emails: tuple[str, ...] = ()
    """Their addresses, in the same order (a CC is removed by address)."""
    custom_fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Field key → value, as the ticket's latest CustomFieldsSet gave them (GIN-indexed)."""

    @property
    def needs_answer(self) -> bool:
        return self.status == "open" and self.waiting_since is not None

    def sort_keys(self) -> dict[str, Any]:
        """Columns every sort reads in ascending order (newer and more urgent first)."""
        priority_rank = len(PRIORITIES) - 1 - PRIORITIES.index(self.priority)
        ranks = {"open": 1, "pending": 2, "closed": 3}
        attention_rank = 0 if self.needs_answer else ranks[self.status]
        waiting = self.waiting_since if attention_rank == 0 else None
        return {
            "needs_answer": self.needs_answer,
            "priority_rank": priority_rank,
            "attention_rank": attention_rank,
            "attention_priority": priority_rank if attention_rank <= 1 else 0,
            "attention_at": micros(waiting) if waiting else -micros(self.last_activity_at),
            "activity_key": -micros(self.last_activity_at),
            "created_key": -micros(self.created_at),
            "due_key": micros(self.sla_due_at) if self.sla_due_at else NO_DUE_KEY,
        }


ROW_FIELDS = tuple(f.name for f in dataclasses.fields(TicketRow))
SORT_FIELDS = (
    "needs_answer",
    "priority_rank",
    "attention_rank",
    "attention_priority",
    "attention_at",
    "activity_key",
    "created_key",
    "due_key",
)


def evolve(row: TicketRow | None, fact: Fact) -> TicketRow | None:
    """The row after ``fact``; a pure function of the previous row and the event."""
    e = fact.event
    if isinstance(e, Ticket.Opened):
        sla = sla_after(SlaState(), e)
        return TicketRow(
            **ticket_fields.filed(e),
            last_activity_at=e.timestamp,
            waiting_since=e.timestamp,
            message_count=1,
            note_count=0,
            version=e.originator_version,
            collaborators=(),
            sla_due_at=sla.next_due(),
            sla_state=sla,
        )
    if row is None:  # an event of a ticket this view never saw opened
        return None
    sla = sla_after(row.sla_state, e)
    changes: dict[str, Any] = {
        "version": e.originator_version,
        "sla_state": sla,
        "sla_due_at": sla.next_due(),
        **ticket_fields.changes(e),
    }
    if ticket_fields.is_activity(e):
        changes["last_activity_at"] = e.timestamp
    match e:
        case Ticket.MessageAdded():
            changes["message_count"] = row.message_count + 1
            if e.author_role == "agent":
                changes["waiting_since"] = None
            elif row.waiting_since is None:
                changes["waiting_since"] = e.timestamp
            joining = ticket_fields.joining_collaborator(e, row.collaborators)
            if joining is not None:
                changes["collaborators"] = (*row.collaborators, joining)
        case Ticket.InternalNoteAdded():
            changes["note_count"] = row.note_count + 1
        case Ticket.Reopened() if row.waiting_since is None:
            changes["waiting_since"] = e.timestamp
        case Ticket.CallbackRequested():
            changes["callback_phone"] = clean_text(e.phone)
            changes["callback_window_start"] = e.window_start
            changes["callback_window_end"] = e.window_end
            changes["callback_state"] = "to_make"
        case Ticket.CallbackMade():
            changes["callback_state"] = "made"
        case Ticket.TagsAdded():
            changes["tags"] = (*row.tags, *e.tags)
        case Ticket.TagsRemoved():
            changes["tags"] = tuple(tag for tag in row.tags if tag not in e.tags)
        case Ticket.MergedInto():
            changes["merged_into"] = e.target_number
        case Ticket.CcAdded() if e.member_id:
            changes["cc_member_ids"] = (*row.cc_member_ids, clean_text(e.member_id))
            changes["cc_member_emails"] = (*row.cc_member_emails, clean_text(e.email))
        case Ticket.CcRemoved() if clean_text(e.email) in row.cc_member_emails:
            kept = [
                (m, a)
                for m, a in zip(row.cc_member_ids, row.cc_member_emails, strict=True)
                if a != clean_text(e.email)
            ]
            changes["cc_member_ids"] = tuple(m for m, _ in kept)
            changes["cc_member_emails"] = tuple(a for _, a in kept)
    return changed(row, changes)


def changed(row: TicketRow, changes: dict[str, Any]) -> TicketRow:
    """``dataclasses.replace`` without re-running ``__init__``: the fold's hot path."""
    new = object.__new__(TicketRow)
    fields = new.__dict__
    fields.update(row.__dict__)
    fields.update(changes)
    return new


def fold(rows: dict[UUID, TicketRow | None], facts: Iterable[Fact]) -> dict[UUID, int]:
    """Fold ``facts`` into ``rows`` in place; answer each changed ticket's last position."""
    touched: dict[UUID, int] = {}
    for fact in facts:
        if not isinstance(fact.event, Ticket.Event):
            continue
        new = evolve(rows.get(fact.stream_id), fact)
        if new is not None:
            rows[fact.stream_id] = new
            touched[fact.stream_id] = fact.position
    return touched


ATTENTION_ORDER = "attention_rank, attention_priority, attention_at, ticket_id"
TRIAGE_INDEXES = {
    "assignee": f"(assignee_id, {ATTENTION_ORDER})",
    "group": f"(support_group, {ATTENTION_ORDER})",
    "priority_filter": f"(priority, {ATTENTION_ORDER})",
    "type": f"(type, {ATTENTION_ORDER})",
    "product": f"(product, type, {ATTENTION_ORDER})",
    "tags": "USING gin (tags)",
}
"""The inbox's filters agents triage by, each in the default order, chosen from EXPLAIN
ANALYZE at 1,000,000 tickets: without them a filter on a value the first rows of the
attention order lack walks most of the index (type=bug took 0.8 s). Tags are found
through a GIN index on the row's array (``tags_all`` is ``@>``, ``tags_any`` ``&&``)."""


def create_row_table(
    conn: psycopg.Connection[Any], t: Tables, table: str, *, triage: bool = False
) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(table)} (
            ticket_id uuid NOT NULL,
            valid_from bigint NOT NULL,
            valid_to bigint NOT NULL DEFAULT {OPEN_END},
            number text NOT NULL,
            {ticket_fields.FILED_TEXT_COLUMNS},
            assignee_id text,
            support_group text,
            created_at timestamptz NOT NULL,
            last_activity_at timestamptz NOT NULL,
            waiting_since timestamptz,
            message_count integer NOT NULL,
            note_count integer NOT NULL,
            version integer NOT NULL,
            collaborators text[] NOT NULL,
            sla_due_at timestamptz,
            sla_state jsonb NOT NULL,
            callback_phone text,
            callback_window_start timestamptz,
            callback_window_end timestamptz,
            callback_state text,
            tags text[] NOT NULL DEFAULT '{{}}',
            merged_into text,
            cc_member_ids text[] NOT NULL DEFAULT '{{}}',
            cc_member_emails text[] NOT NULL DEFAULT '{{}}',
            custom_fields jsonb NOT NULL DEFAULT '{{}}',
            needs_answer boolean NOT NULL,
            priority_rank smallint NOT NULL,
            attention_rank smallint NOT NULL,
            attention_priority smallint NOT NULL,
            attention_at bigint NOT NULL,
            activity_key bigint NOT NULL,
            created_key bigint NOT NULL,
            due_key bigint NOT NULL,
            PRIMARY KEY (ticket_id, valid_from)
        )
        """
    )
    indexes = {
        "current": f"(ticket_id) WHERE valid_to = {OPEN_END}",
        "attention": "(attention_rank, attention_priority, attention_at, ticket_id)",
        "activity": "(activity_key, ticket_id)",
        "created": "(created_key, ticket_id)",
        "priority": "(priority_rank, activity_key, ticket_id)",
        "due": "(due_key, ticket_id)",
        "callback": f"(callback_window_start) WHERE callback_state = 'to_make' "
        f"AND valid_to = {OPEN_END}",
        "account": "(account_id, activity_key, ticket_id)",
        "requester": "(requester_id, activity_key, ticket_id)",
        "cc_members": "USING gin (cc_member_ids)",
        "superseded": f"(valid_to) WHERE valid_to <> {OPEN_END}",
        # field.<key> filters: custom_fields @> {key: value}
        "custom_fields": "USING gin (custom_fields jsonb_path_ops)",
        **(TRIAGE_INDEXES if triage else {}),
    }
    for name, definition in indexes.items():
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {t.index(table + '_' + name)} ON {t(table)} {definition}"
        )
    # status, needs_answer and attention_rank say the same thing twice (a filter on one adds
    # its twin on the rank, for the attention index): without this the planner multiplies
    # their selectivities, thinks "needs an answer" holds 20 times fewer tickets than it
    # does, and reads them all to sort them where walking the index would stop at a page
    # (or a count's cap); created with the table, or on the next start for a stored one
    conn.execute(
        f'CREATE STATISTICS IF NOT EXISTS "{t.schema}".{t.index(table + "_facts")} '
        f"(dependencies, mcv) ON status, needs_answer, attention_rank, assignee_id "
        f"FROM {t(table)}"
    )


def prune_rows(conn: psycopg.Connection[Any], t: Tables, table: str, horizon: int) -> int:
    """Drop row versions superseded at or before ``horizon``: no snapshot still reads them."""
    deleted = conn.execute(f"DELETE FROM {t(table)} WHERE valid_to <= %s", (horizon,))
    return deleted.rowcount


def create_search_table(conn: psycopg.Connection[Any], t: Tables, table: str) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(table)} (
            ticket_id uuid PRIMARY KEY,
            document tsvector NOT NULL
        )
        """
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {t.index(table + '_document')} "
        f"ON {t(table)} USING gin (document)"
    )


def apply_rows(
    conn: psycopg.Connection[Any], t: Tables, table: str, facts: Sequence[Fact]
) -> None:
    """Fold a batch into new row versions: load current rows, fold, close, insert."""
    ids = list({f.stream_id for f in facts if isinstance(f.event, Ticket.Event)})
    if not ids:
        return
    open_rows = rows_by_ticket(conn, t(table), ROW_FIELDS, ids, where=f"valid_to = {OPEN_END}")
    current = {tid: row_from_record(r) for tid, r in open_rows.items()}
    rows: dict[UUID, TicketRow | None] = dict(current)
    touched = fold(rows, facts)
    closing = [
        (position, ticket_id) for ticket_id, position in touched.items() if ticket_id in current
    ]
    columns = ("valid_from", *ROW_FIELDS, *SORT_FIELDS)
    inserts = []
    for ticket_id, position in touched.items():
        row = rows[ticket_id]
        assert row is not None
        record = {**{f: getattr(row, f) for f in ROW_FIELDS}, **row.sort_keys()}
        record["collaborators"] = list(row.collaborators)
        record["tags"] = list(row.tags)
        record["cc_member_ids"] = list(row.cc_member_ids)
        record["cc_member_emails"] = list(row.cc_member_emails)
        record["sla_state"] = Jsonb(state_to_data(row.sla_state))
        record["custom_fields"] = Jsonb(row.custom_fields)
        inserts.append((position, *(record[c] for c in columns[1:])))
    with conn.cursor() as cur:
        if closing:  # one statement per row: a join with the batch's tickets can be planned
            # as a scan of the whole table (a rebuild's shadow is never analysed)
            cur.executemany(
                f"UPDATE {t(table)} SET valid_to = %s "
                f"WHERE ticket_id = %s AND valid_to = {OPEN_END}",
                closing,
            )
        if inserts:  # new versions: no stored row has their (ticket, position)
            copy_rows(cur, t(table), columns, inserts)


def row_from_record(record: dict[str, Any]) -> TicketRow:
    values = {f: record[f] for f in ROW_FIELDS}
    values["collaborators"] = tuple(values["collaborators"])
    values["tags"] = tuple(values["tags"])
    values["cc_member_ids"] = tuple(values["cc_member_ids"])
    values["cc_member_emails"] = tuple(values["cc_member_emails"])
    values["sla_state"] = state_from_data(values["sla_state"])
    return TicketRow(**values)


def apply_search(
    conn: psycopg.Connection[Any],
    t: Tables,
    table: str,
    facts: Sequence[Fact],
    *,
    with_internal_notes: bool,
) -> None:
    """Keep each ticket's search document: subject, description and messages (and notes)."""
    texts: dict[UUID, list[str]] = {}
    for fact in facts:
        e = fact.event
        match e:
            case Ticket.Opened():
                texts.setdefault(fact.stream_id, []).append(f"{e.subject}\n{e.description}")
            case Ticket.MessageAdded():
                texts.setdefault(fact.stream_id, []).append(e.body)
            case Ticket.InternalNoteAdded() if with_internal_notes:
                texts.setdefault(fact.stream_id, []).append(e.body)
    if not texts:
        return
    # one upsert per ticket, all in one statement: a stripped document is a set of
    # lexemes, so the texts of a batch joined by line breaks give the same document as
    # one upsert per text
    conn.execute(
        f"INSERT INTO {t(table)} AS d (ticket_id, document) "
        "SELECT ticket_id, strip(to_tsvector('english', text)) "
        "FROM unnest(%s::uuid[], %s::text[]) AS w (ticket_id, text) "
        "ON CONFLICT (ticket_id) DO UPDATE "
        "SET document = strip(d.document || excluded.document)",
        (list(texts), [clean_text("\n".join(parts)) for parts in texts.values()]),
    )


@dataclass(frozen=True, kw_only=True)
class TicketList:
    """A list view of tickets: its tables, its fold of events, and its paged query."""

    name: str
    rows: str
    search: str
    with_internal_notes: bool
    ignores: tuple[EventClass, ...]
    columns: tuple[str, ...]
    default_sort: str

    @cached_property
    def view(self) -> View:
        handles = PUBLIC_EVENTS + STAFF_ONLY_EVENTS if self.with_internal_notes else PUBLIC_EVENTS
        return View(
            self.name,
            frozenset(handles),
            self.create_tables,
            self.apply,
            (self.rows, self.search),
            self.prune,
            shape=8,  # 5: tags (only the inbox folds them); 6: merged_into; 7: the members
            # each ticket copies (CCs), in their lists; 8: custom fields, GIN-indexed
            ignores=frozenset(self.ignores),
        )

    def create_tables(self, conn: psycopg.Connection[Any], t: Tables) -> None:
        create_row_table(conn, t, self.rows, triage=self.with_internal_notes)
        create_search_table(conn, t, self.search)

    def apply(self, conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
        apply_rows(conn, t, self.rows, facts)
        apply_search(conn, t, self.search, facts, with_internal_notes=self.with_internal_notes)

    def prune(self, conn: psycopg.Connection[Any], t: Tables, horizon: int) -> int:
        return prune_rows(conn, t, self.rows, horizon)

    def tickets(
        self,
        conn: psycopg.Connection[Any],
        t: Tables,
        where: ListFilter,
        *,
        sort: str | None = None,
        reverse: bool = False,
        limit: int = 25,
        cursor: str | None = None,
    ) -> Page:
        return page(
            conn,
            t,
            view=self.name + t.suffix,
            table=self.rows,
            search_table=self.search,
            columns=self.columns,
            where=where,
            sort=SORTS[sort or self.default_sort],
            reverse=reverse,
            limit=limit,
            cursor=cursor,
        )

    def count(
        self,
        conn: psycopg.Connection[Any],
        t: Tables,
        where: ListFilter,
        snapshot: int,
        *,
        sort: str | None = None,
    ) -> Count:
        """How many tickets ``where`` selects as of ``snapshot``, counted along the list's
        ``sort`` (capped, see :data:`projections.lists.filters.COUNT_CAP`)."""
        return count(
            conn,
            t,
            table=self.rows,
            search_table=self.search,
            where=where,
            snapshot=snapshot,
            sort=SORTS[sort or self.default_sort],
        )
