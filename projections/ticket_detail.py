"""Ticket detail: a ticket's fields, its conversation in order, its files, and,
in separate tables only staff reads reach, its internal notes and their files.

The detail carries the ticket's version (every event counts, so it equals the
version staff writes compare ``If-Match`` against) and the log position of its
latest event; and the same as customers see them (only the events they see
count), which their reads answer and their ``If-Match`` names (see
:meth:`domain.ticket.Ticket.version_seen_by`).

:func:`fold` is the view's one fold, pure: the view writes what it makes of a
batch, and :func:`detail_as_folded` runs it in memory over one ticket's events
(the audit's ticket "as of" a version or an instant folds a prefix of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from domain.attachments import display_name, served_type
from domain.numbers import format_number, parse_number
from domain.ticket import (
    CALLBACK_EVENTS,
    PUBLIC_EVENTS,
    STAFF_ONLY_EVENTS,
    Ticket,
    TicketOwner,
)
from projections import ticket_fields
from projections.kit import Fact, Tables, View, clean_text, rows_by_ticket
from projections.ticket_fields import TICKET_FIELDS
from store.bulk import copy_rows, replace_rows

NAME = "ticket_detail"
DETAILS = "ticket_details"
CONVERSATION = "ticket_conversation"
NOTES = "ticket_internal_notes"
FILES = "ticket_files"
NOTE_FILES = "ticket_note_files"
"""The files of internal notes: staff only, as the notes are, so no customer's read of
the detail (which never touches this table) can list one."""


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(DETAILS)} (
            ticket_id uuid PRIMARY KEY,
            number text NOT NULL UNIQUE,
            {ticket_fields.FILED_TEXT_COLUMNS},
            cycle integer NOT NULL,
            assignee_id text,
            support_group text,
            follow_up_of text,
            rating smallint,
            rating_comment text,
            collaborators text[] NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            closed_at timestamptz,
            version integer NOT NULL,
            position bigint NOT NULL,
            customer_version integer NOT NULL,
            customer_position bigint NOT NULL,
            customer_updated_at timestamptz NOT NULL,
            requester_version integer NOT NULL,
            requester_position bigint NOT NULL,
            requester_updated_at timestamptz NOT NULL,
            transcript jsonb,
            callback jsonb,
            tags text[] NOT NULL,
            merged_into text,
            merged_from text[] NOT NULL,
            participants text[] NOT NULL,
            ccs jsonb NOT NULL,
            custom_fields jsonb NOT NULL
        )
        """
    )
    for table in (CONVERSATION, NOTES):
        extra = "author_role text NOT NULL," if table == CONVERSATION else ""
        conn.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {t(table)} (
                ticket_id uuid NOT NULL,
                version integer NOT NULL,
                position bigint NOT NULL,
                at timestamptz NOT NULL,
                author_id text NOT NULL,
                {extra}
                attachments text[] NOT NULL,
                via text NOT NULL,
                body text NOT NULL,
                PRIMARY KEY (ticket_id, version)
            )
            """
        )
    for table in (FILES, NOTE_FILES):
        conn.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {t(table)} (
                ticket_id uuid NOT NULL,
                attachment_id text NOT NULL,
                filename text NOT NULL,
                content_type text NOT NULL,
                size bigint NOT NULL,
                added_at timestamptz NOT NULL,
                version integer NOT NULL,
                PRIMARY KEY (ticket_id, attachment_id)
            )
            """
        )
        conn.execute(  # downloads ask which tickets carry a file
            f"CREATE INDEX IF NOT EXISTS {t.index(f'{table}_attachment')} "
            f"ON {t(table)} (attachment_id)"
        )


SEEN_COLUMNS = ("version", "position", "updated_at")
"""What moves with every event staff see, kept again as customers see the ticket (only
:data:`PUBLIC_EVENTS` move them) and as its requester does (their callback's events too),
so a customer reading it sees nothing change, not even its ETag, when only a staff-only
event happened."""
DETAIL_COLUMNS = (
    *TICKET_FIELDS,
    "cycle",
    "follow_up_of",
    "rating",
    "rating_comment",
    "collaborators",
    "updated_at",
    "closed_at",
    "version",
    "position",
    *(f"{seen_by}_{c}" for seen_by in ("customer", "requester") for c in SEEN_COLUMNS),
    "transcript",
    "callback",
    "tags",
    "merged_into",
    "merged_from",
    "participants",
    "ccs",
)
MESSAGE_COLUMNS = (
    "ticket_id", "version", "position", "at", "author_id", "author_role", "attachments", "via",
    "body",
)  # fmt: skip
NOTE_COLUMNS = (
    "ticket_id", "version", "position", "at", "author_id", "attachments", "via", "body",
)  # fmt: skip
FILE_COLUMNS = (
    "ticket_id", "attachment_id", "filename", "content_type", "size", "added_at", "version",
)  # fmt: skip
JSON_COLUMNS = frozenset({"transcript", "callback", "ccs", "custom_fields"})
"""``transcript``: the chat's lines. ``callback``: the phone, window and state of the
latest callback request; read only by staff and the ticket's requester. ``ccs``: who the
ticket copies, in the order added (address, member id or null, when). ``custom_fields``:
key → value as stored on the ticket's events (what they mean now is read at answer time)."""


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    """Fold the batch into the touched tickets' rows in memory, then write each once."""
    ids = list({f.stream_id for f in facts})
    tickets = rows_by_ticket(conn, t(DETAILS), DETAIL_COLUMNS, ids)
    folded = fold(tickets, facts)
    with conn.cursor() as cur:
        replace_rows(
            cur,
            t(DETAILS),
            DETAIL_COLUMNS,
            [
                tuple(_column(c, folded.tickets[tid][c]) for c in DETAIL_COLUMNS)
                for tid in folded.touched
            ],
        )
        if folded.messages:
            copy_rows(cur, t(CONVERSATION), MESSAGE_COLUMNS, folded.messages)
        if folded.notes:
            copy_rows(cur, t(NOTES), NOTE_COLUMNS, folded.notes)
        if folded.files:
            copy_rows(cur, t(FILES), FILE_COLUMNS, folded.files)
        if folded.note_files:
            copy_rows(cur, t(NOTE_FILES), FILE_COLUMNS, folded.note_files)


@dataclass
class Folded:
    """What a run of facts made of the tickets' rows: each touched ticket's row as it now
    stands, and the conversation, note, file and note file rows they added (in the
    tables' columns)."""

    tickets: dict[UUID, dict[str, Any]]
    touched: set[UUID]
    messages: list[tuple[Any, ...]]
    notes: list[tuple[Any, ...]]
    files: list[tuple[Any, ...]]
    note_files: list[tuple[Any, ...]]


def fold(tickets: dict[UUID, dict[str, Any]], facts: Sequence[Fact]) -> Folded:
    """The detail's one fold, pure: ``tickets`` (rows as they stood, changed in place)
    after ``facts``. The view writes what it answers; :func:`detail_as_folded` reads it
    in memory."""
    touched: set[UUID] = set()
    messages: list[tuple[Any, ...]] = []
    notes: list[tuple[Any, ...]] = []
    files: list[tuple[Any, ...]] = []
    note_files: list[tuple[Any, ...]] = []
    for fact, ticket in ticket_fields.each_row(tickets, facts, _opened, touched):
        e = fact.event
        tid = fact.stream_id
        if isinstance(e, Ticket.Opened):
            messages.append(_message(fact, e.requester_id, "requester", e.description, []))
        seen_by = ["", *SEEN_BY.get(type(e), ())]
        for prefix in seen_by:
            ticket.update({f"{prefix}version": fact.version, f"{prefix}position": fact.position})
            if ticket_fields.is_activity(e):
                ticket[f"{prefix}updated_at"] = e.timestamp
        match e:
            case Ticket.MessageAdded():
                messages.append(_message(fact, e.author_id, e.author_role, e.body, e.attachments))
                joining = ticket_fields.joining_collaborator(e, ticket["collaborators"])
                if joining is not None:
                    ticket["collaborators"] = [*ticket["collaborators"], joining]
            case Ticket.InternalNoteAdded():
                notes.append(
                    (tid, fact.version, fact.position, e.timestamp, e.author_id,
                     list(e.attachments), e.stamp.via, clean_text(e.body))
                )  # fmt: skip
            case Ticket.StatusChanged():
                ticket["closed_at"] = e.timestamp if e.to_status == "closed" else None
            case Ticket.Reopened():
                ticket.update(cycle=e.cycle, closed_at=None, rating=None, rating_comment=None)
            case Ticket.MergedInto():
                ticket.update(merged_into=e.target_number, closed_at=e.timestamp)
            case Ticket.MergeReceived():
                ticket["merged_from"] = [*ticket["merged_from"], e.source_number]
                joining = e.source_requester_id
                if joining != ticket["requester_id"] and joining not in ticket["participants"]:
                    ticket["participants"] = [*ticket["participants"], joining]
            case Ticket.AttachmentAdded():
                files.append(_file(fact, e))
            case Ticket.NoteAttachmentAdded():
                note_files.append(_file(fact, e))
            case Ticket.SatisfactionRated():
                ticket["rating"], ticket["rating_comment"] = e.score, clean_text(e.comment)
            case Ticket.ChatTranscriptRecorded():
                ticket["transcript"] = [
                    {**line, "text": clean_text(line["text"])} for line in e.lines
                ]
            case Ticket.CallbackRequested():
                ticket["callback"] = {
                    "phone": clean_text(e.phone),
                    "window_start": e.window_start.isoformat() if e.window_start else None,
                    "window_end": e.window_end.isoformat() if e.window_end else None,
                    "time_zone": e.time_zone,
                    "state": "to_make",
                    "requested_at": e.timestamp.isoformat(),
                    "outcome": None,
                    "made_at": None,
                    "made_by": None,
                }
            case Ticket.TagsAdded():
                ticket["tags"] = [*ticket["tags"], *e.tags]
            case Ticket.TagsRemoved():
                ticket["tags"] = [tag for tag in ticket["tags"] if tag not in e.tags]
            case Ticket.CcAdded():
                cc = {"email": clean_text(e.email), "member_id": e.member_id}
                ticket["ccs"] = [*ticket["ccs"], {**cc, "added_at": e.timestamp.isoformat()}]
            case Ticket.CcRemoved():
                ticket["ccs"] = [c for c in ticket["ccs"] if c["email"] != clean_text(e.email)]
            case Ticket.CallbackMade() if ticket["callback"] is not None:
                ticket["callback"] = {
                    **ticket["callback"],
                    "state": "made",
                    "outcome": e.outcome,
                    "made_at": e.timestamp.isoformat(),
                    "made_by": clean_text(e.stamp.actor_id),
                }
    return Folded(tickets, touched, messages, notes, files, note_files)


def _opened(e: Ticket.Opened) -> dict[str, Any]:
    """A ticket's row as it was filed."""
    return {
        **ticket_fields.filed(e),
        "cycle": 1,
        "follow_up_of": e.follow_up_of,
        "rating": None,
        "rating_comment": None,
        "collaborators": [],
        "closed_at": None,
        "transcript": None,
        "callback": None,
        "tags": [],
        "merged_into": None,
        "merged_from": [],
        "participants": [],
        "ccs": [],
    }


def _file(fact: Fact, e: Ticket.AttachmentAdded | Ticket.NoteAttachmentAdded) -> tuple[Any, ...]:
    """A file's row: by a clean base name, never with an active type (as stored before)."""
    kind = served_type(e.content_type)
    name = display_name(clean_text(e.filename), kind)
    return (fact.stream_id, e.attachment_id, name, kind, e.size, e.timestamp, fact.version)


SEEN_BY: dict[type[Any], tuple[str, ...]] = {
    **dict.fromkeys(PUBLIC_EVENTS, ("customer_", "requester_")),
    **dict.fromkeys(CALLBACK_EVENTS, ("requester_",)),
}
"""Besides staff, who reads each event's change on the detail (its column prefixes)."""


def _column(name: str, value: Any) -> Any:
    return Jsonb(value) if name in JSON_COLUMNS and value is not None else value


def _message(
    fact: Fact, author_id: str, author_role: str, body: str, attachments: list[str]
) -> tuple[Any, ...]:
    return (
        fact.stream_id,
        fact.version,
        fact.position,
        fact.event.timestamp,
        author_id,
        author_role,
        list(attachments),
        fact.event.stamp.via,
        clean_text(body),
    )


VIEW = View(
    NAME,
    frozenset(PUBLIC_EVENTS + STAFF_ONLY_EVENTS),
    create_tables,
    apply,
    (DETAILS, CONVERSATION, NOTES, FILES, NOTE_FILES),
    shape=9,  # 3: what customers see of version, position, updated_at; 4: files by clean
    # base name, never with an active type; 5: tags (staff only); 6: merged_into,
    # merged_from, participants; 7: the CCs; 8: custom field values; 9: notes' files
)


def ticket_key(ref: str) -> tuple[str, Any] | None:
    """The column and value that find ``ref`` (an id or a ``T-000123`` number)."""
    number = parse_number(ref)
    if number is not None:
        return "number", format_number(number)
    try:
        return "ticket_id", UUID(ref)
    except ValueError:
        return None


def detail(
    conn: psycopg.Connection[Any],
    t: Tables,
    ref: str,
    *,
    with_internal_notes: bool,
    seen_by: str = "staff",
) -> dict[str, Any] | None:
    """The ticket with its conversation and files; notes only when asked for.

    ``seen_by`` a ``customer`` or the ticket's ``requester``, its version, position and
    last update are the latest of the events they see (see :data:`SEEN_COLUMNS`)."""
    key = ticket_key(ref)
    if key is None:
        return None
    column, value = key
    with conn.cursor(row_factory=dict_row) as cur:
        ticket = cur.execute(
            f"SELECT * FROM {t(DETAILS)} WHERE {column} = %s", (value,)
        ).fetchone()
        if ticket is None:
            return None
        as_seen_by(ticket, seen_by)
        if seen_by != "staff":
            del ticket["tags"]
        tid = ticket["ticket_id"]
        ticket["conversation"] = cur.execute(
            f"SELECT {', '.join(_shown(MESSAGE_COLUMNS))} "
            f"FROM {t(CONVERSATION)} WHERE ticket_id = %s ORDER BY version",
            (tid,),
        ).fetchall()
        ticket["attachments"] = cur.execute(
            f"SELECT {', '.join(_shown(FILE_COLUMNS))} "
            f"FROM {t(FILES)} WHERE ticket_id = %s ORDER BY {', '.join(FILE_ORDER)}",
            (tid,),
        ).fetchall()
        if with_internal_notes:
            notes = cur.execute(
                f"SELECT {', '.join(_shown(NOTE_COLUMNS))} "
                f"FROM {t(NOTES)} WHERE ticket_id = %s ORDER BY version",
                (tid,),
            ).fetchall()
            note_files = cur.execute(
                f"SELECT {', '.join(_shown(FILE_COLUMNS))} "
                f"FROM {t(NOTE_FILES)} WHERE ticket_id = %s",
                (tid,),
            ).fetchall()
            ticket["internal_notes"] = with_files(notes, note_files)
    return ticket


def detail_as_folded(facts: Sequence[Fact], *, with_internal_notes: bool) -> dict[str, Any] | None:
    """One ticket's detail folded in memory from its facts by :func:`fold`, in the shape
    :func:`detail` reads from the tables; ``None`` before it was opened. Folding a prefix
    of the stream gives the detail as it stood then (the audit's "as of")."""
    if len({f.stream_id for f in facts}) > 1:
        raise ValueError("The facts of one ticket are folded into its detail.")
    folded = fold({}, facts)
    if not folded.tickets:
        return None
    [found] = folded.tickets.values()
    as_seen_by(found, "staff")
    by_version = itemgetter("version")
    found["conversation"] = sorted(_read(MESSAGE_COLUMNS, folded.messages), key=by_version)
    found["attachments"] = sorted(
        _read(FILE_COLUMNS, folded.files), key=lambda row: tuple(row[c] for c in FILE_ORDER)
    )
    if with_internal_notes:
        notes = sorted(_read(NOTE_COLUMNS, folded.notes), key=by_version)
        found["internal_notes"] = with_files(notes, _read(FILE_COLUMNS, folded.note_files))
    return found


def with_files(
    notes: list[dict[str, Any]], note_files: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each note with its files (name, type, size, id), in the order it cites them."""
    by_id = {f["attachment_id"]: f for f in note_files}
    return [
        {**n, "attachments": [by_id[a] for a in n["attachments"] if a in by_id]} for n in notes
    ]


FILE_ORDER = ("version", "attachment_id")


def as_seen_by(ticket: dict[str, Any], seen_by: str) -> None:
    """Set the ticket's version, position and last update to those ``seen_by`` (``staff``,
    ``customer`` or ``requester``) sees, dropping the others' (see :data:`SEEN_COLUMNS`)."""
    for column in SEEN_COLUMNS:
        seen = {by: ticket.pop(f"{by}_{column}") for by in ("customer", "requester")}
        ticket[column] = seen.get(seen_by, ticket[column])


def _shown(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The columns a detail answers of a ticket's rows (all but the ticket's id)."""
    return tuple(c for c in columns if c != "ticket_id")


def _read(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    shown = _shown(columns)
    return [{c: v for c, v in zip(columns, row, strict=True) if c in shown} for row in rows]


def owner_of(conn: psycopg.Connection[Any], t: Tables, ref: str) -> TicketOwner | None:
    """Whose the ticket is (facts that never change once it is filed), if the view has it."""
    key = ticket_key(ref)
    if key is None:
        return None
    column, value = key
    row = conn.execute(
        f"SELECT ticket_id, account_id, requester_id, participants, ccs FROM {t(DETAILS)} "
        f"WHERE {column} = %s",
        (value,),
    ).fetchone()
    if row is None:
        return None
    return TicketOwner(
        row[0], str(row[1]), str(row[2]), tuple(row[3]), cc_member_ids=cc_members(row[4])
    )


def cc_members(ccs: list[dict[str, Any]]) -> frozenset[str]:
    """The member ids among a detail's CCs (they see the ticket)."""
    return frozenset(str(c["member_id"]) for c in ccs if c.get("member_id"))


@dataclass(frozen=True)
class FileListing:
    """A file as one ticket lists it: whose the ticket is, under which name and type, and
    whether only staff see it there (a file of its internal notes)."""

    owner: TicketOwner
    filename: str
    content_type: str
    staff_only: bool = False


LISTED = "ticket_id, attachment_id, filename, content_type, added_at"


def attachment_listings(
    conn: psycopg.Connection[Any], t: Tables, attachment_id: str
) -> list[FileListing]:
    """Every ticket that carries the file, whose it is, and how it lists the file (for
    its customers, or on its internal notes for staff only)."""
    rows = conn.execute(
        f"SELECT d.ticket_id, d.account_id, d.requester_id, d.participants, d.ccs, "
        "f.filename, f.content_type, f.staff_only "
        f"FROM (SELECT {LISTED}, false AS staff_only FROM {t(FILES)} UNION ALL "
        f"SELECT {LISTED}, true FROM {t(NOTE_FILES)}) f JOIN {t(DETAILS)} d USING (ticket_id) "
        f"WHERE f.attachment_id = %s ORDER BY f.added_at, d.ticket_id, f.staff_only",
        (attachment_id,),
    ).fetchall()
    return [
        FileListing(
            TicketOwner(r[0], str(r[1]), str(r[2]), tuple(r[3]), cc_member_ids=cc_members(r[4])),
            r[5],
            r[6],
            staff_only=r[7],
        )
        for r in rows
    ]
