"""Filtered, sorted, cursor-paginated reads of a ticket list view as of one position.

The first page of a walk takes the view's committed position as its snapshot;
the opaque cursor carries that snapshot, the sort key of the last row, and a
digest of the filter, so every later page reads the same snapshot from where
the previous one stopped (see :mod:`projections.lists.ticket_rows`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from domain.messages import Msg
from domain.numbers import format_number
from projections.kit import Tables, clean_text, fetch_all
from projections.tracking import pruned_upto, view_position

MAX_LIMIT = 100


@dataclass(frozen=True)
class ListFilter:
    """What a list is narrowed to. Empty tuples mean "any"."""

    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    """Agent ids; ``none`` matches unassigned tickets."""
    groups: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    requester_id: str | None = None
    participant_id: str | None = None
    """A member's own tickets: those they filed, and those that copy them (CCs)."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = None
    needs_answer: bool | None = None
    breaching_within: int | None = None
    """Minutes: tickets with a running SLA clock due by then (or already overdue)."""
    now: datetime | None = None
    """The instant ``breaching_within`` counts from (not part of the cursor's digest)."""
    callback: str | None = None
    """``to_make``: callbacks requested, not made yet, on tickets not closed; ``made``."""
    tags_all: tuple[str, ...] = ()
    """Tickets carrying every one of these tags (normalised, see :mod:`domain.tags`)."""
    tags_any: tuple[str, ...] = ()
    """Tickets carrying at least one of these tags."""
    custom_fields: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    """Per custom field key, the values any of which it has (every key named must match)."""

    def digest(self) -> str:
        fields = asdict(self)
        del fields["now"]
        canonical = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Sort:
    """A named order: columns read ascending, ``ticket_id`` breaking ties."""

    name: str
    columns: tuple[str, ...]


SORTS = {
    "attention": Sort("attention", ("attention_rank", "attention_priority", "attention_at")),
    "last_activity": Sort("last_activity", ("activity_key",)),
    "created": Sort("created", ("created_key",)),
    "priority": Sort("priority", ("priority_rank", "activity_key")),
    "due": Sort("due", ("due_key",)),
}
STAFF_SORTS = frozenset({"due"})
ATTENTION_RANKS = {"open": (0, 1), "pending": (2,), "closed": (3,)}
"""The ``attention_rank`` values of each status (0: open and waiting for an answer)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime) -> int:
    """An instant as whole microseconds since 1970, the form sort keys take."""
    return (at - EPOCH) // timedelta(microseconds=1)


def is_bigint(value: object) -> bool:
    """Whether a cursor's field is a whole number a ``bigint`` column holds (JSON's
    ``true`` is not one, though Python counts it an ``int``)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


class BadCursor(ValueError):
    """The cursor was not made by this list, or was tampered with."""


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    snapshot: int


def encode_cursor(snapshot: int, sort: str, reverse: bool, digest: str, key: list[Any]) -> str:
    raw = json.dumps({"s": snapshot, "o": sort, "r": reverse, "h": digest, "k": key})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort, reverse: bool, digest: str) -> tuple[int, list[Any]]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        snapshot, key = data["s"], data["k"]
        same_query = (data["o"], data["r"], data["h"]) == (sort.name, reverse, digest)
    except (ValueError, TypeError, KeyError, UnicodeError, RecursionError):
        raise BadCursor(
            Msg("This cursor is not one Docket gave out; start again without it.")
        ) from None
    if not same_query:
        raise BadCursor(
            Msg("This cursor belongs to another sort or filter; start again without it.")
        )
    if (
        not is_bigint(snapshot)
        or snapshot < 0
        or not isinstance(key, list)
        or len(key) != len(sort.columns) + 1
        or not all(is_bigint(k) for k in key[:-1])
        or not isinstance(key[-1], str)
    ):
        raise BadCursor(Msg("This cursor is damaged; start again without it."))
    try:
        key[-1] = UUID(key[-1])
    except ValueError:
        raise BadCursor(Msg("This cursor is damaged; start again without it.")) from None
    return snapshot, key


def conditions(f: ListFilter) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("status", f.statuses),
        ("type", f.types),
        ("priority", f.priorities),
        ("product", f.products),
        ("topic", f.topics),
        ("support_group", f.groups),
        ("account_id", f.account_ids),
    ):
        if len(values) == 1:  # plain equality: an index led by the column keeps its order
            where.append(f"r.{column} = %s")
            params.append(clean_text(values[0]))
        elif values:
            where.append(f"r.{column} = ANY(%s)")
            params.append([clean_text(v) for v in values])
    if f.assignees:
        agents = [clean_text(a) for a in f.assignees if a != "none"]
        unassigned = "none" in f.assignees
        # one agent's, or unassigned: plain conditions, so the assignee index keeps its order
        if len(agents) == 1 and not unassigned:
            where.append("r.assignee_id = %s")
            params.append(agents[0])
        elif not agents:
            where.append("r.assignee_id IS NULL")
        else:
            where.append("(r.assignee_id = ANY(%s) OR (%s AND r.assignee_id IS NULL))")
            params.extend([agents, unassigned])
    if f.requester_id is not None:
        where.append("r.requester_id = %s")
        params.append(clean_text(f.requester_id))
    if f.participant_id is not None:
        where.append("(r.requester_id = %s OR r.cc_member_ids @> ARRAY[%s]::text[])")
        params.extend([clean_text(f.participant_id)] * 2)
    # on created_key (minus the microseconds of created_at): the created sort's index then
    # finds a range of filing times without walking the list's own order
    if f.created_from is not None:
        where.append("r.created_key <= %s")
        params.append(-micros(f.created_from))
    if f.created_to is not None:
        where.append("r.created_key > %s")
        params.append(-micros(f.created_to))
    if f.needs_answer is not None:
        where.append("r.needs_answer = %s")
        params.append(f.needs_answer)
        where.append("r.attention_rank = 0" if f.needs_answer else "r.attention_rank > 0")
    if f.statuses:
        # the same condition on attention_rank, which the attention order leads with, so
        # its index seeks to the statuses asked for instead of walking past the others
        ranks = sorted({r for s in f.statuses for r in ATTENTION_RANKS.get(s, ())})
        where.append("r.attention_rank = ANY(%s)")
        params.append(ranks)
    if f.callback == "to_make":
        where.append("r.callback_state = 'to_make' AND r.status <> 'closed'")
    elif f.callback is not None:
        where.append("r.callback_state = %s")
        params.append(f.callback)
    if f.tags_all:  # both through the rows' GIN index on tags
        where.append("r.tags @> %s::text[]")
        params.append(list(f.tags_all))
    if f.tags_any:
        where.append("r.tags && %s::text[]")
        params.append(list(f.tags_any))
    for key, values in f.custom_fields:  # the GIN index on custom_fields answers @>
        where.append("(" + " OR ".join(["r.custom_fields @> %s"] * len(values)) + ")")
        params.extend(Jsonb({clean_text(key): v}) for v in values)
    if f.breaching_within is not None:
        horizon = (f.now or datetime.now(UTC)) + timedelta(minutes=f.breaching_within)
        where.append("r.due_key <= %s")
        params.append(micros(horizon))
    return where, params


def selection(
    t: Tables, search_table: str, where: ListFilter, snapshot: int
) -> tuple[list[str], list[Any]]:
    """The rows of a list ``where`` selects as of ``snapshot``: its pages and its count."""
    clauses, params = conditions(where)
    clauses[:0] = ["r.valid_from <= %s", "r.valid_to > %s"]
    params[:0] = [snapshot, snapshot]
    if where.q:
        words = (
            f"EXISTS (SELECT 1 FROM {t(search_table)} d WHERE d.ticket_id = r.ticket_id "
            "AND d.document @@ plainto_tsquery('english', %s))"
        )
        number = number_searched(where.q)
        if number is None:
            clauses.append(words)
        else:
            clauses.append(f"(r.number = %s OR {words})")
            params.append(number)
        params.append(clean_text(where.q))
    return clauses, params


NUMBER_SEARCHED = re.compile(r"^(?:T-?|#)?0*([0-9]{1,12})$", re.IGNORECASE)


def number_searched(q: str) -> str | None:
    """The ticket number a search names, as a person types one (``T-000042``, ``t-42``,
    ``#42`` or ``42``): that ticket is found as well as the tickets whose words match."""
    match = NUMBER_SEARCHED.match(q.strip())
    return format_number(int(match.group(1))) if match else None


COUNT_CAP = 1000
"""A list's count is exact up to this many tickets, and "more than" past it: counting stops
there, so a count costs at most as many index entries as a page of that size, at any size
of the list (an exact count of a large selection reads all of it)."""


@dataclass(frozen=True)
class Count:
    tickets: int
    """How many tickets the list holds, up to the cap."""
    capped: bool
    """More than ``tickets`` (the cap) are in the list."""


def count_query(
    t: Tables, table: str, search_table: str, where: ListFilter, snapshot: int, sort: Sort
) -> tuple[str, list[Any]]:
    """A count's SQL (its last parameter, the cap plus one, left to add): the first rows of
    the list's own order, as its pages read them. Ordered, the planner walks the index a
    page walks and stops at the cap; unordered, it would take a scan of the table that
    stops after the cap's rows only if matching rows are spread evenly through it (open
    tickets, the newest, are not)."""
    clauses, params = selection(t, search_table, where, snapshot)
    order = ", ".join(f"r.{c}" for c in (*sort.columns, "ticket_id"))
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {t(table)} r WHERE {' AND '.join(clauses)} "
        f"ORDER BY {order} LIMIT %s) selected"
    )
    return sql, params


def count(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    table: str,
    search_table: str,
    where: ListFilter,
    snapshot: int,
    sort: Sort,
    cap: int = COUNT_CAP,
) -> Count:
    """How many tickets a walk of the list from ``snapshot`` would list, up to ``cap``."""
    sql, params = count_query(t, table, search_table, where, snapshot, sort)
    row = conn.execute(sql, [*params, cap + 1]).fetchone()
    found = int(row[0]) if row else 0
    return Count(min(found, cap), found > cap)


def page(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    view: str,
    table: str,
    search_table: str,
    columns: tuple[str, ...],
    where: ListFilter,
    sort: Sort,
    reverse: bool = False,
    limit: int = 25,
    cursor: str | None = None,
) -> Page:
    """One page of ``table`` as of the walk's snapshot, and the cursor to the next."""
    limit = max(1, min(limit, MAX_LIMIT))
    digest = where.digest()
    if cursor is None:
        snapshot, after = view_position(conn, t.schema, view), None
    else:
        snapshot, after = decode_cursor(cursor, sort, reverse, digest)
        if snapshot > view_position(conn, t.schema, view):  # not a walk Docket began
            raise BadCursor(
                Msg(
                    "This cursor names a position the list has not reached; start again "
                    "without it."
                )
            )
        if snapshot < pruned_upto(conn, t.schema, view):
            raise BadCursor(
                Msg("This cursor has expired: a walk lasts at most 15 minutes; start again.")
            )
    clauses, params = selection(t, search_table, where, snapshot)
    key_columns = [f"r.{c}" for c in (*sort.columns, "ticket_id")]
    if after is not None:
        comparison = "<" if reverse else ">"
        placeholders = ", ".join(["%s"] * len(after))
        clauses.append(f"({', '.join(key_columns)}) {comparison} ({placeholders})")
        params.extend(after)
    direction = " DESC" if reverse else ""
    order = ", ".join(c + direction for c in key_columns)
    wanted = ", ".join(f"r.{c}" for c in dict.fromkeys((*columns, *sort.columns, "ticket_id")))
    sql = (
        f"SELECT {wanted} FROM {t(table)} r WHERE {' AND '.join(clauses)} "
        f"ORDER BY {order} LIMIT %s"
    )
    params.append(limit + 1)
    rows = fetch_all(conn, sql, params)
    if after is not None and snapshot < pruned_upto(conn, t.schema, view):  # pruned meanwhile
        raise BadCursor(
            Msg("This cursor has expired: a walk lasts at most 15 minutes; start again.")
        )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        key = [*(last[c] for c in sort.columns), str(last["ticket_id"])]
        next_cursor = encode_cursor(snapshot, sort.name, reverse, digest, key)
    return Page(rows=rows, next_cursor=next_cursor, snapshot=snapshot)
