"""Every read the ways in make: lists, detail and feed, from the views only.

A read may name the log position it must reflect (``min_position``, taken from
a write's answer): it waits, up to a bound, until its view has applied that
position, and raises :class:`NotCaughtUp` otherwise. Ids in answers come with
the names the directory holds for them.

The views may be read from a hot standby of the primary (``DOCKET_READ_DATABASE_URL``):
the standby's own tracking rows then say what its views hold (they arrive with the
view rows, in the transaction that wrote them), and a position the standby has not
replayed yet is asked of the primary's log before it is refused as never written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from domain.ccs import OUTSIDE_PREFIX, is_outside_cc_id
from domain.messages import Msg
from domain.ticket import TicketOwner
from projections import (
    articles,
    audit_feed,
    contact_requests,
    dashboard,
    directory,
    macros,
    outbox,
    saved_views,
    sla,
    staff_roster,
    subscriptions,
    tag_counts,
    ticket_detail,
)
from projections.kit import Tables
from projections.lists import customer_tickets, inbox
from projections.lists.filters import Count, ListFilter, Page
from projections.lists.ticket_rows import TicketList
from projections.runner import Board
from projections.tracking import (
    ViewFailure,
    tracked_failures,
    tracked_positions,
    view_position,
)
from store.log import log_head


class PositionNotInLog(ValueError):
    """A position asked for (``min_position``, or where a page resumes: ``field``) that
    the log has not reached: no write answered it, no page handed it out."""

    def __init__(self, wanted: int, head: int, field: str = "min_position") -> None:
        super().__init__(
            Msg(
                "Position {wanted} is beyond the end of the log ({head}); pass a position "
                "a write answered.",
                wanted=wanted,
                head=head,
            )
            if field == "min_position"
            else Msg(
                "Position {wanted} is beyond the end of the log ({head}); pass a position "
                "a previous page answered.",
                wanted=wanted,
                head=head,
            )
        )
        self.field = field


DASHBOARDS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "summary": dashboard.summary,
    "top-issues": dashboard.top_issues,
    "top-products": dashboard.top_products,
    "volume": dashboard.volume,
    "times": dashboard.times,
    "satisfaction": dashboard.satisfaction,
}


class NotCaughtUp(Exception):
    def __init__(self, view: str, position: int, wanted: int) -> None:
        super().__init__(
            Msg(
                "The {view} view is at position {position}; {wanted} was asked for.",
                view=view,
                position=position,
                wanted=wanted,
            )
        )
        self.view = view
        self.position = position
        self.wanted = wanted


@dataclass(frozen=True)
class Paging:
    """Which page of a list, in which order, reflecting at least which position."""

    sort: str | None = None
    reverse: bool = False
    limit: int = 25
    cursor: str | None = None
    min_position: int | None = None


@dataclass(frozen=True)
class NamedPage:
    page: Page
    names: dict[str, str]


def ticket_names(
    conn: psycopg.Connection[Any], t: Tables, found: dict[str, Any]
) -> dict[str, str]:
    """The directory's names for everyone on a ticket's detail, and for its account: the
    live detail and the audit's detail as of a version name people alike."""
    people = [found["requester_id"], *found["collaborators"], *found.get("participants", [])]
    people += [m["author_id"] for m in found["conversation"]]
    people += [n["author_id"] for n in found.get("internal_notes", [])]
    if found["assignee_id"]:
        people.append(found["assignee_id"])
    if found["callback"] and found["callback"]["made_by"]:
        people.append(found["callback"]["made_by"])
    people += [c["member_id"] for c in found.get("ccs", []) if c["member_id"]]
    names = directory.names(conn, t, people)
    for someone in people:  # someone copied from outside the account: known by address
        if is_outside_cc_id(someone):
            names[someone] = someone.removeprefix(OUTSIDE_PREFIX)
    account = directory.account_name(conn, t, found["account_id"])
    if account is not None:
        names[found["account_id"]] = account
    return names


class Reads:
    def __init__(
        self,
        pool: ConnectionPool,
        schema: str,
        *,
        board: Board | None = None,
        wait_seconds: float = 5.0,
        primary: ConnectionPool | None = None,
    ) -> None:
        """``pool`` is where the views are read; ``primary``, when that is a standby, is the
        primary's (whose log has every position a write answered). ``board`` is the
        positions of views kept in this process, on the database ``pool`` reads."""
        self.pool = pool
        self.primary = primary or pool
        self.schema = schema
        self.tables = Tables(schema)
        self.board = board
        self.wait_seconds = wait_seconds

    def log_head(self) -> int:
        """The end of the log, as the primary has it."""
        with self.primary.connection() as conn:
            return log_head(conn, self.schema)

    def check_in_log(
        self, conn: psycopg.Connection[Any], wanted: int, field: str = "min_position"
    ) -> None:
        """Refuse a position past the end of the log. ``conn`` reads the views; past its
        end, a standby's log may only not have replayed the position yet: the primary's
        end decides."""
        head = log_head(conn, self.schema)
        if wanted > head and self.primary is not self.pool:
            head = self.log_head()
        if wanted > head:
            raise PositionNotInLog(wanted, head, field)

    def wait_for(self, view: str, wanted: int | None) -> None:
        """Return once ``view`` has applied position ``wanted`` (bounded wait)."""
        if not wanted:
            return
        deadline = time.monotonic() + self.wait_seconds
        checked_head = False
        while True:
            if self.board is not None and self.board.positions.get(view, 0) >= wanted:
                return
            with self.pool.connection() as conn:
                position = view_position(conn, self.schema, view)
                if position >= wanted:
                    return
                if not checked_head:
                    self.check_in_log(conn, wanted)
                    checked_head = True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotCaughtUp(view, position, wanted)
            if self.board is not None:
                self.board.wait(view, wanted, min(remaining, 0.05))
            else:
                time.sleep(min(remaining, 0.01))

    def positions(self) -> dict[str, int]:
        with self.pool.connection() as conn:
            return tracked_positions(conn, self.schema)

    def failing_views(self) -> dict[str, ViewFailure]:
        """Views whose worker, in this process or another, is failing: the last error, the
        attempts in a row, the position it fails on."""
        with self.pool.connection() as conn:
            return tracked_failures(conn, self.schema)

    # --- people -------------------------------------------------------------------------

    def person(self, person_id: str, min_position: int | None = None) -> dict[str, Any] | None:
        """A staff member or account member by id (once the directory is at ``min_position``)."""
        self.wait_for(directory.NAME, min_position)
        with self.pool.connection() as conn:
            return directory.person(conn, self.tables, person_id)

    def account(self, account_id: str) -> dict[str, Any] | None:
        """An account's name, plan and support tier, as the directory knows it (staff read
        it beside a ticket: the plans are on the contact queue's answers too)."""
        with self.pool.connection() as conn:
            return directory.account(conn, self.tables, account_id)

    # --- tickets ------------------------------------------------------------------------

    def owner_of(self, ref: str, min_position: int | None = None) -> TicketOwner | None:
        """Whose the ticket is, if the detail view holds it (once at ``min_position``)."""
        self.wait_for(ticket_detail.NAME, min_position)
        with self.pool.connection() as conn:
            return ticket_detail.owner_of(conn, self.tables, ref)

    def attachment_listings(
        self, attachment_id: str, min_position: int | None = None
    ) -> list[ticket_detail.FileListing]:
        """Every ticket that carries the file, whose it is, and how it lists the file."""
        self.wait_for(ticket_detail.NAME, min_position)
        with self.pool.connection() as conn:
            return ticket_detail.attachment_listings(conn, self.tables, attachment_id)

    def subscription(
        self, account_id: str, min_position: int | None = None
    ) -> dict[str, Any] | None:
        """The account's plan, seats, renewal, products, add-ons and members."""
        self.wait_for(subscriptions.NAME, min_position)
        with self.pool.connection() as conn:
            return subscriptions.subscription(conn, self.tables, account_id)

    def member_roles(self, account_id: str, member_id: str) -> list[str]:
        with self.pool.connection() as conn:
            return subscriptions.roles_of(conn, self.tables, account_id, member_id)

    def ticket(
        self, ref: str, *, with_internal_notes: bool, seen_by: str = "staff"
    ) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The detail and the names on it; ``seen_by`` a ``customer`` or the ``requester``,
        as they see it (see :func:`projections.ticket_detail.detail`)."""
        with self.pool.connection() as conn:
            found = ticket_detail.detail(
                conn, self.tables, ref, with_internal_notes=with_internal_notes, seen_by=seen_by
            )
            if found is None:
                return None
            names = ticket_names(conn, self.tables, found)
            if with_internal_notes:  # staff read the SLA clocks with the notes
                found["sla"] = sla.ticket_state(conn, self.tables, found["ticket_id"])
        return found, names

    def inbox(self, where: ListFilter, paging: Paging) -> NamedPage:
        return self._ticket_list(inbox.INBOX, where, paging)

    def customer_tickets(self, where: ListFilter, paging: Paging) -> NamedPage:
        scoped = where.requester_id is not None or where.participant_id is not None
        if not scoped and len(where.account_ids) != 1:
            raise ValueError("A customer list is scoped to one requester or one account.")
        return self._ticket_list(customer_tickets.CUSTOMER_TICKETS, where, paging)

    def _ticket_list(self, tickets: TicketList, where: ListFilter, paging: Paging) -> NamedPage:
        """A page of a ticket list, with the names of the people on it."""
        self.wait_for(tickets.name, paging.min_position)
        with self.pool.connection() as conn:
            found = tickets.tickets(
                conn,
                self.tables,
                where,
                sort=paging.sort,
                reverse=paging.reverse,
                limit=paging.limit,
                cursor=paging.cursor,
            )
            return NamedPage(found, directory.names(conn, self.tables, _people(found.rows)))

    # --- saved views of the inbox -------------------------------------------------------

    def saved_views(
        self, person_id: str, *, view_id: UUID | None = None, min_position: int | None = None
    ) -> list[dict[str, Any]]:
        """The views ``person_id`` sees (their own, then the shared ones), or that one."""
        self.wait_for(saved_views.NAME, min_position)
        with self.pool.connection() as conn:
            return saved_views.visible(conn, self.tables, person_id, view_id)

    def inbox_counts(
        self, selections: list[tuple[ListFilter, str | None]], min_position: int | None = None
    ) -> tuple[list[Count], int]:
        """How many tickets of the inbox each filter selects (counted along its sort), all
        as of one position."""
        self.wait_for(inbox.NAME, min_position)
        with self.pool.connection() as conn:
            snapshot = view_position(conn, self.schema, inbox.NAME)
            counts = [
                inbox.INBOX.count(conn, self.tables, where, snapshot, sort=sort)
                for where, sort in selections
            ]
        return counts, snapshot

    # --- dashboards ---------------------------------------------------------------------

    def dashboard(
        self,
        name: str,
        where: dashboard.DashboardFilter,
        *,
        min_position: int | None = None,
        **options: Any,
    ) -> tuple[list[dict[str, Any]], int]:
        """One dashboard's rows and the view position they reflect."""
        self.wait_for(dashboard.NAME, min_position)
        figures: Callable[..., list[dict[str, Any]]] = DASHBOARDS[name]
        with self.pool.connection() as conn:
            position = view_position(conn, self.schema, dashboard.NAME)
            return figures(conn, self.tables, where, **options), position

    def tags_dashboard(
        self, *, limit: int, min_position: int | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Tickets per tag and status, and the view position they reflect."""
        self.wait_for(tag_counts.NAME, min_position)
        with self.pool.connection() as conn:
            position = view_position(conn, self.schema, tag_counts.NAME)
            return tag_counts.tags_dashboard(conn, self.tables, limit=limit), position

    def macros(self, staff_id: str, *, min_position: int | None = None) -> list[dict[str, Any]]:
        """The macros a staff member may use: their personal ones, then the shared ones."""
        self.wait_for(macros.NAME, min_position)
        with self.pool.connection() as conn:
            return macros.macros_for(conn, self.tables, staff_id)

    def macro(
        self, macro_id: UUID, staff_id: str, *, min_position: int | None = None
    ) -> dict[str, Any] | None:
        self.wait_for(macros.NAME, min_position)
        with self.pool.connection() as conn:
            return macros.macro(conn, self.tables, macro_id, staff_id)

    def written_for(
        self, actor_id: str, cause: str, *, column: str = "causation_id"
    ) -> list[dict[str, Any]]:
        """What an actor already wrote for one cause, once the feed has read the whole log."""
        self.wait_for(audit_feed.NAME, self.log_head())
        with self.pool.connection() as conn:
            return audit_feed.caused_by(conn, self.tables, actor_id, cause, column=column)

    # --- service levels -----------------------------------------------------------------

    def sla_summary(
        self,
        *,
        start: datetime | None,
        end: datetime | None,
        account_ids: tuple[str, ...],
        min_position: int | None,
    ) -> tuple[dict[str, list[dict[str, Any]]], int]:
        self.wait_for(sla.NAME, min_position)
        with self.pool.connection() as conn:
            position = view_position(conn, self.schema, sla.NAME)
            figures = sla.summary(
                conn,
                self.tables,
                start=start,
                end=end,
                now=datetime.now(UTC),
                account_ids=account_ids,
            )
        return figures, position

    # --- the notification outbox --------------------------------------------------------

    def outbox(
        self,
        identity: outbox.MailIdentity,
        *,
        state: str | None,
        ticket: str | None,
        limit: int,
        before: int | None,
        min_position: int | None,
    ) -> list[dict[str, Any]]:
        self.wait_for(outbox.NAME, min_position)
        with self.pool.connection() as conn:
            return outbox.listing(
                conn, self.tables, identity, state=state, ticket=ticket, limit=limit, before=before
            )

    # --- the contact queue ----------------------------------------------------------------

    def contact_queue(
        self, *, states: list[str], after: int | None, limit: int, min_position: int | None
    ) -> list[dict[str, Any]]:
        self.wait_for(contact_requests.NAME, min_position)
        with self.pool.connection() as conn:
            if after:
                self.check_in_log(conn, after, "after")
            return contact_requests.queue(
                conn, self.tables, states=states, after=after, limit=limit
            )

    def contact_request(self, ref: str, min_position: int | None) -> dict[str, Any] | None:
        """The request with its answers, and the accounts whose members have its address."""
        self.wait_for(contact_requests.NAME, min_position)
        with self.pool.connection() as conn:
            found = contact_requests.request(conn, self.tables, ref)
            if found is not None:
                found["accounts"] = contact_requests.accounts_at(conn, self.tables, found["email"])
                found["names"] = directory.names(
                    conn, self.tables, [a["author_id"] for a in found["answers"]]
                )
        return found

    # --- help articles -------------------------------------------------------------------

    def article(self, article_id: UUID, min_position: int | None) -> dict[str, Any] | None:
        self.wait_for(articles.NAME, min_position)
        with self.pool.connection() as conn:
            return articles.article(conn, self.tables, article_id)

    def article_list(
        self,
        *,
        language: str | None,
        product: str | None,
        with_withdrawn: bool,
        limit: int,
        min_position: int | None,
    ) -> list[dict[str, Any]]:
        self.wait_for(articles.NAME, min_position)
        with self.pool.connection() as conn:
            return articles.articles(
                conn, self.tables, language=language, product=product,
                with_withdrawn=with_withdrawn, limit=limit,
            )  # fmt: skip

    def suggest_articles(
        self, text: str, *, product: str | None, language: str | None, limit: int
    ) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return articles.suggest(
                conn, self.tables, text, product=product, language=language, limit=limit
            )

    def recommendations(
        self, account_id: str, *, language: str | None, limit: int, min_position: int | None
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """The account's recommended articles, or ``None`` for an account the directory
        does not know."""
        for view in (articles.NAME, dashboard.NAME, directory.NAME):
            self.wait_for(view, min_position)
        with self.pool.connection() as conn:
            if directory.account_name(conn, self.tables, account_id) is None:
                return None
            return articles.recommendations(
                conn, self.tables, account_id, language=language, limit=limit
            )

    def deflection(
        self,
        *,
        since: datetime | None,
        before: datetime | None,
        account_ids: tuple[str, ...],
        min_position: int | None,
    ) -> tuple[articles.Deflection, int]:
        self.wait_for(articles.NAME, min_position)
        with self.pool.connection() as conn:
            position = view_position(conn, self.schema, articles.NAME)
            figures = articles.deflection(
                conn, self.tables, since=since, before=before, account_ids=account_ids
            )
        return figures, position

    # --- the change feed -------------------------------------------------------------------

    def feed(
        self, *, after: int, limit: int, with_staff_only: bool, min_position: int | None
    ) -> tuple[audit_feed.FeedPage, int]:
        self.wait_for(audit_feed.NAME, min_position)
        with self.pool.connection() as conn:
            position = view_position(conn, self.schema, audit_feed.NAME)
            if after > position:  # between the view and the head is only "not yet"
                self.check_in_log(conn, after, "after")
            found = audit_feed.events_after(
                conn,
                self.tables,
                after=after,
                limit=limit,
                view_position=position,
                with_staff_only=with_staff_only,
            )
        return found, position

    # --- staff and support groups --------------------------------------------------------

    def staff(self, *, min_position: int | None = None, **where: Any) -> list[dict[str, Any]]:
        """Staff from the roster (``role``, ``active``, ``group``, ``staff_id`` narrow it)."""
        self.wait_for(staff_roster.NAME, min_position)
        with self.pool.connection() as conn:
            return staff_roster.staff(conn, self.tables, **where)

    def groups(self, *, min_position: int | None = None) -> list[dict[str, Any]]:
        self.wait_for(staff_roster.NAME, min_position)
        with self.pool.connection() as conn:
            return staff_roster.groups(conn, self.tables)


def _people(rows: Iterable[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for row in rows:
        ids.append(row["requester_id"])
        ids.extend(row["collaborators"])
        if row.get("assignee_id"):
            ids.append(row["assignee_id"])
    return ids
