"""The shape every read shares: the caller's filter, waiting for a view, mapping rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends

from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem
from api.runtime import Runtime
from api.schemas.accounts import SubscriptionOut
from api.schemas.audit import TicketDetailAsOf
from api.schemas.common import PersonRef
from api.schemas.lists import TicketPage, TicketQuery, TicketSummary
from api.schemas.ticket_detail import (
    CallbackOut,
    CcOut,
    ChatLineOut,
    FileOut,
    MergedTicketOut,
    MessageOut,
    NoteOut,
    Rating,
    SlaClockOut,
    SlaOut,
    TicketDetail,
)
from api.schemas.ticket_fields import CustomFieldOut
from desk.access import Principal, reads_account, reads_every_ticket, sees_subscription
from domain.custom_fields import Definitions, filter_value
from domain.errors import InvalidField
from domain.messages import Msg, Text, message_of
from domain.sla import SlaState, state_from_data
from domain.tags import normalised_tags
from projections.lists.filters import STAFF_SORTS, BadCursor, ListFilter
from projections.reads import NamedPage, NotCaughtUp, Paging, PositionNotInLog, Reads
from projections.sla import readings
from replay.as_of import TicketAsOf

STAFF_FILTERS = (
    "group", "account", "needs_answer", "breaching_within", "callback", "tags_all", "tags_any",
)  # fmt: skip


def bad_query(field: str, message: Text) -> Problem:
    return Problem(422, "invalid-field", message, errors=[{"field": field, "message": message}])


def time_zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_query(
            "tz", Msg("{tz!r} is not an IANA time zone such as Europe/Berlin.", tz=tz)
        ) from None


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def created_range(created: str, tz: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """``today``, ``this_week``, ``this_month`` or ``FROM..TO`` as instants in ``tz``.

    ``TO`` is a whole day: the range ends at the start of the day after it.
    """
    zone = time_zone(tz)

    def start_of(day: date) -> datetime:
        return start_of_day(day, zone)

    today = now.astimezone(zone).date()
    if created == "today":
        return start_of(today), start_of(today + timedelta(days=1))
    if created == "this_week":
        monday = today - timedelta(days=today.weekday())
        return start_of(monday), start_of(monday + timedelta(days=7))
    if created == "this_month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return start_of(first), start_of(following)
    start, sep, end = created.partition("..")
    try:
        if not sep or not (start or end):
            raise ValueError
        low = start_of(date.fromisoformat(start)) if start else None
        high = start_of(date.fromisoformat(end) + timedelta(days=1)) if end else None
    except (ValueError, OverflowError):
        raise bad_query(
            "created",
            Msg("created is today, this_week, this_month or FROM..TO (2024-03-01..2024-03-31)."),
        ) from None
    if low is not None and high is not None and low >= high:
        raise bad_query("created", Msg("created runs FROM..TO with FROM on or before TO."))
    return low, high


def list_filter(
    query: TicketQuery,
    who: Principal,
    definitions: Callable[[], Definitions] = dict,
    **scope: Any,
) -> ListFilter:
    """The caller's filter; ``scope`` pins requester or account for customers' lists;
    ``definitions`` answers the custom fields a ``field`` filter names."""
    if not reads_every_ticket(who):
        for name in STAFF_FILTERS:
            if getattr(query, name) not in (None, []):
                raise bad_query(name, Msg("The {name} filter is for staff.", name=name))
    low = high = None
    if query.created:
        low, high = created_range(query.created, query.tz, datetime.now(UTC))
    if query.sort in STAFF_SORTS and not reads_every_ticket(who):
        raise bad_query("sort", Msg("The {sort} sort is for staff.", sort=query.sort))
    assignees = tuple(who.id if a == "me" else a for a in query.assignee)
    where = ListFilter(
        statuses=tuple(query.status),
        types=tuple(query.type),
        priorities=tuple(query.priority),
        products=tuple(query.product),
        topics=tuple(query.topic),
        assignees=assignees,
        groups=tuple(query.group),
        account_ids=tuple(query.account),
        created_from=low,
        created_to=high,
        q=query.q or None,
        needs_answer=query.needs_answer,
        breaching_within=query.breaching_within,
        now=datetime.now(UTC) if query.breaching_within is not None else None,
        callback=query.callback,
        tags_all=tag_filter("tags_all", query.tags_all),
        tags_any=tag_filter("tags_any", query.tags_any),
        custom_fields=field_filters(query.field, definitions) if query.field else (),
    )
    return dataclasses.replace(where, **scope)


def tag_filter(field: str, text: str | None) -> tuple[str, ...]:
    """The tags a comma-separated filter names, normalised as tags are kept."""
    if not text:
        return ()
    try:
        return tuple(normalised_tags(field, text.split(",")))
    except InvalidField as error:
        raise bad_query(field, error.detail) from None


def field_filters(
    asked: list[str], definitions: Callable[[], Definitions]
) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """``key:value`` filters as (key, the values any of which it has), per key."""
    defined = definitions()
    wanted: dict[str, list[Any]] = {}
    for item in asked:
        key, _, text = item.partition(":")
        definition = defined.get(key)
        if definition is None:
            raise bad_query(
                "field", Msg("No ticket field {key}: GET /v1/ticket-fields lists them.", key=key)
            )
        try:
            value = filter_value(definition, text)
        except InvalidField as refused:
            raise bad_query("field", refused.detail) from None
        if value not in wanted.setdefault(key, []):
            wanted[key].append(value)
    return tuple((key, tuple(values)) for key, values in sorted(wanted.items()))


def paging(query: TicketQuery) -> Paging:
    return Paging(
        sort=query.sort,
        reverse=query.order == "asc",
        limit=query.limit,
        cursor=query.cursor,
        min_position=query.min_position,
    )


@contextmanager
def read_problems() -> Iterator[None]:
    """A view behind the asked position → 503; a foreign cursor → 400."""
    try:
        yield
    except NotCaughtUp as behind:
        raise Problem(
            503,
            "view-catching-up",
            Msg(
                "{behind} Retry in a moment: a position a write answered always arrives.",
                behind=message_of(behind),
            ),
            {"Retry-After": "1"},
        ) from None
    except BadCursor as error:
        raise Problem(400, "bad-cursor", message_of(error)) from None
    except PositionNotInLog as error:
        raise bad_query(error.field, message_of(error)) from None


@dataclasses.dataclass(frozen=True)
class Reader:
    """What a read route takes (as :data:`ViewRead`): the caller, and the views through
    :meth:`views`, which first asks whether the caller's role reaches the route."""

    who: Principal
    runtime: Runtime

    @contextmanager
    def views(self, endpoint: str) -> Iterator[Reads]:
        """The views, if the caller's role reaches ``endpoint``; what they refuse (a view
        behind the asked position, a cursor from elsewhere) is answered as a problem."""
        allowed(self.who, endpoint)
        with read_problems():
            yield self.runtime.reads


async def get_reader(who: CurrentPrincipal, runtime: RuntimeDep) -> Reader:
    return Reader(who, runtime)


ViewRead = Annotated[Reader, Depends(get_reader)]


def account_tickets(
    runtime: Runtime, who: Principal, account: str, query: TicketQuery
) -> NamedPage:
    """A page of the account's tickets, with who filed each and who replied as
    collaborator (``account_tickets`` already allowed): 404 for an account a team admin
    does not administer."""
    if not reads_account(who, account):
        raise Problem(
            404,
            "unknown-account",
            Msg("No account {account} that you administer.", account=account),
        )
    if query.scope is not None:
        raise Problem(422, "invalid-field", Msg("This list is the account's; it takes no scope."))
    with read_problems():
        return runtime.reads.customer_tickets(
            list_filter(query, who, runtime.desk.ticket_fields, account_ids=(account,)),
            paging(query),
        )


def seen_subscription(
    runtime: Runtime, who: Principal, account: str, min_position: int | None = None
) -> dict[str, Any]:
    """The account's subscription, for those who see it (``subscription`` already
    allowed); 404 for everyone else, as for an account that does not exist."""
    unseen = Problem(
        404,
        "unknown-account",
        Msg("No account {account} whose subscription you see.", account=account),
    )
    if not sees_subscription(who, account, runtime.reads.member_roles(account, who.id)):
        raise unseen
    with read_problems():
        found = runtime.reads.subscription(account, min_position)
    if found is None:
        raise unseen
    return found


def subscription_out(found: dict[str, Any]) -> SubscriptionOut:
    """The subscription view's row as its answer: its fields by their names, each member's
    id as ``id``, and the seats the members take."""
    members = [{**m, "id": m["member_id"]} for m in found["members"]]
    return SubscriptionOut.model_validate(
        {**found, "members": members, "seats_taken": len(members)}
    )


def named(person_id: str, names: dict[str, str]) -> PersonRef:
    return PersonRef(id=person_id, name=names.get(person_id))


def person(person_id: str | None, names: dict[str, str]) -> PersonRef | None:
    return None if person_id is None else named(person_id, names)


def sla_out(state: SlaState | None, now: datetime) -> SlaOut:
    if state is None:
        return SlaOut(tier=None, calendar=None, next_due_at=None, clocks=[])
    terms = state.terms or {}
    return SlaOut(
        tier=terms.get("tier"),
        calendar=terms.get("calendar"),
        next_due_at=state.next_due(),
        clocks=[SlaClockOut(**vars(r)) for r in readings(state, now)],
    )


HEADING = ("number", "subject", "status", "priority", "type", "product", "topic", "channel")
"""The fields every ticket answer opens with (:class:`TicketHeading`), as the views keep them."""


def heading(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["ticket_id"]), **{field: row[field] for field in HEADING}}


def ticket_page(found: NamedPage, *, staff: bool) -> TicketPage:
    names = found.names
    now = datetime.now(UTC)

    def summary(row: dict[str, Any]) -> TicketSummary:
        out = TicketSummary(
            **heading(row),
            account_id=row["account_id"],
            requester=named(row["requester_id"], names),
            assignee=person(row["assignee_id"], names),
            collaborators=[named(c, names) for c in row["collaborators"]],
            created_at=row["created_at"],
            last_activity_at=row["last_activity_at"],
            message_count=row["message_count"],
            custom_fields=row.get("custom_fields") or {},
        )
        if staff:
            out.support_group = row["support_group"]
            out.needs_answer = row["needs_answer"]
            out.waiting_since = row["waiting_since"]
            out.note_count = row["note_count"]
            out.version = row["version"]
            if "tags" in row:
                out.tags = list(row["tags"])
        if staff and "sla_state" in row:
            state = state_from_data(row["sla_state"])
            out.sla_due_at = row["sla_due_at"]
            clocks = readings(state, now)
            soonest = [c for c in clocks if c.due_at == row["sla_due_at"] and c.state != "met"]
            out.sla_business_seconds_left = soonest[0].business_seconds_left if soonest else None
            out.sla_breached = any(c.breached for c in clocks if c.cycle == state.cycle)
        if staff and row.get("callback_state") is not None:
            out.callback_phone = row["callback_phone"]
            out.callback_window_start = row["callback_window_start"]
            out.callback_window_end = row["callback_window_end"]
            out.callback_state = row["callback_state"]
        if row.get("merged_into") is not None:
            out.merged_into = row["merged_into"]
        return out

    return TicketPage(
        tickets=[summary(r) for r in found.page.rows],
        next_cursor=found.page.next_cursor,
        position=found.page.snapshot,
    )


def ticket_detail(
    found: dict[str, Any],
    names: dict[str, str],
    download_url: Callable[[str], str],
    *,
    with_callback: bool = False,
    now: datetime | None = None,
    definitions: Definitions | None = None,
) -> TicketDetail:
    """The detail answer; the callback block (a phone number) only ``with_callback``; the
    SLA clocks read at ``now`` (the moment of asking, unless told); custom field values
    with what ``definitions`` (the fields as defined now) say they mean."""
    rating = None
    if found["rating"] is not None:
        rating = Rating(score=found["rating"], comment=found["rating_comment"] or "")
    out = TicketDetail(
        **heading(found),
        version=found["version"],
        position=found["position"],
        cycle=found["cycle"],
        account=named(found["account_id"], names),
        requester=named(found["requester_id"], names),
        assignee=person(found["assignee_id"], names),
        support_group=found["support_group"],
        collaborators=[named(c, names) for c in found["collaborators"]],
        ccs=[
            CcOut(
                email=c["email"],
                member=person(c["member_id"], names),
                added_at=datetime.fromisoformat(c["added_at"]),
            )
            for c in found.get("ccs", [])
        ],
        follow_up_of=found["follow_up_of"],
        rating=rating,
        created_at=found["created_at"],
        updated_at=found["updated_at"],
        closed_at=found["closed_at"],
        conversation=[
            MessageOut(**m, author=named(m["author_id"], names)) for m in found["conversation"]
        ],
        attachments=[file_out(f, download_url) for f in found["attachments"]],
        custom_fields=custom_fields_out(found.get("custom_fields") or {}, definitions or {}),
    )
    if "sla" in found:
        out.sla = sla_out(found["sla"], now or datetime.now(UTC))
    if found.get("transcript") is not None:
        out.transcript = [ChatLineOut(**line) for line in found["transcript"]]
    callback = found.get("callback")
    if with_callback and callback is not None:
        made_by = person(callback["made_by"], names)
        out.callback = CallbackOut(**{**callback, "made_by": made_by})
    if "tags" in found:
        out.tags = list(found["tags"])
    if "internal_notes" in found:
        out.internal_notes = notes_out(found["internal_notes"], names, download_url)
    out.merged_into = found.get("merged_into")
    out.participants = [named(p, names) for p in found.get("participants", [])]
    out.merged = [MergedTicketOut(number=n) for n in found.get("merged_from", [])]
    return out


def file_out(f: dict[str, Any], download_url: Callable[[str], str]) -> FileOut:
    """A file of the detail, by field name: its id is the attachment's, its url the download."""
    return FileOut.model_validate(
        {**f, "id": f["attachment_id"], "url": download_url(f["attachment_id"])}
    )


def notes_out(
    notes: list[dict[str, Any]], names: dict[str, str], download_url: Callable[[str], str]
) -> list[NoteOut]:
    """Internal notes (staff reads only), each with its files."""
    return [
        NoteOut(
            **{**n, "attachments": [file_out(f, download_url) for f in n["attachments"]]},
            author=named(n["author_id"], names),
        )
        for n in notes
    ]


def merged_ticket(
    number: str,
    found: tuple[dict[str, Any], dict[str, str]] | None,
    download_url: Callable[[str], str],
) -> MergedTicketOut:
    """A ticket merged into the one read: its number, and its conversation as ``found``
    (read as the reader may see it; ``None``: they may not)."""
    if found is None:
        return MergedTicketOut(number=number)
    source, names = found
    out = MergedTicketOut(
        number=number,
        conversation=[
            MessageOut(**m, author=named(m["author_id"], names)) for m in source["conversation"]
        ],
    )
    if "internal_notes" in source:
        out.internal_notes = notes_out(source["internal_notes"], names, download_url)
    return out


def custom_fields_out(values: dict[str, Any], definitions: Definitions) -> list[CustomFieldOut]:
    """Each stored value as it reads now: never rewritten by a change of its field; a
    dropdown value whose option was removed since shows its key, flagged."""
    shown = []
    for key, value in sorted(values.items()):
        definition = definitions.get(key)
        if definition is None:
            shown.append(CustomFieldOut(key=key, value=value, kind=None, labels=None))
            continue
        out = CustomFieldOut(
            key=key,
            value=value,
            kind=definition.kind,
            labels=dict(definition.labels),
            archived=definition.archived,
        )
        if definition.kind == "dropdown":
            option = definition.option(str(value))
            out.value_labels = dict(option.labels) if option else None
            out.option_removed = option is None
        shown.append(out)
    return shown


def ticket_as_of(
    found: TicketAsOf,
    names: dict[str, str],
    download_url: Callable[[str], str],
    *,
    with_callback: bool,
    definitions: Definitions | None = None,
) -> TicketDetailAsOf:
    """The ticket as it stood then: the detail answer, mapped as the live one is, its
    SLA clocks read at that instant, its custom field values with the fields as defined
    now; with the instant and the write model's fields."""
    detail = ticket_detail(
        found.detail,
        names,
        download_url,
        with_callback=with_callback,
        now=found.at,
        definitions=definitions,
    )
    return TicketDetailAsOf(
        **detail.model_dump(exclude_unset=True), as_of=found.at, write_model=found.write_model
    )
