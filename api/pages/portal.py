"""The customers' support portal: my tickets, a new ticket (with suggested help articles),
and a ticket's conversation.

Each route asks the role matrix with the key of the API endpoint it stands for, reads
through the same functions (``api/ticket_reads.py``, the views' reads) and writes through
the same desk calls, stamped "via web". Forms post, then redirect (303) to the page that
shows what they did, carrying the write's position so that page waits for its view; a
refusal of the desk re-renders the form with the reason next to its field.

The tabs of "my tickets" are the desk's three statuses, one tab each (Open, Pending:
waiting for the customer, Closed) and All. A closed ticket is reopened within the desk's
reopen window; after it, "File a follow-up" opens a new ticket linked to it
(``follow_up_of``, as the API files one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from pydantic import BaseModel, ValidationError

from api.pages.templating import page
from api.pages.visitors import (
    Asked,
    AskedPage,
    MessageForm,
    Visitor,
    page_reply,
    permitted,
    stamp_of,
    uploaded,
)
from api.problems import Problem, refusal_status
from api.routers.attachments import download_answer
from api.runtime import Runtime
from api.schemas.lists import TicketQuery
from api.ticket_reads import ticket_list, visible_detail
from api.writes import visible_ticket
from desk.access import may_rate
from desk.answers import AttachmentRef
from domain.account import FILING_PLANS, check_plan_includes_support
from domain.custom_fields import FieldDefinition
from domain.errors import DocketError, InvalidField, NotAMember, PlanNotEntitled
from domain.messages import Msg, Text
from domain.ticket import reopen_window_passed
from domain.vocabulary import PRIORITIES, STATUSES, TICKET_TYPES
from projections.articles import plain_text

router = APIRouter(include_in_schema=False)

TABS: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "pending": ("pending",),
    "closed": ("closed",),
    "all": (),
}
"""Each tab of "my tickets" and the statuses it lists (All: every status)."""

assert {s for statuses in TABS.values() for s in statuses} == set(STATUSES)

STATUS_WORDS: dict[str, Any] = {
    "open": Msg("Open"),
    "pending": Msg("Waiting for you"),
    "closed": Msg("Closed"),
}
TAB_WORDS: dict[str, Any] = {**STATUS_WORDS, "all": Msg("All")}
"""A tab is named as the status it lists."""
TYPE_WORDS: dict[str, Any] = {
    "question": Msg("Question"),
    "bug": Msg("Bug"),
    "feature_request": Msg("Feature request"),
    "billing": Msg("Billing"),
    "technical": Msg("Technical"),
    "other": Msg("Other"),
}
PRIORITY_WORDS: dict[str, Any] = {
    "low": Msg("Low"),
    "normal": Msg("Normal"),
    "high": Msg("High"),
    "urgent": Msg("Urgent"),
}
CREATED_WORDS: dict[str, Any] = {
    "": Msg("Any time"),
    "today": Msg("Today"),
    "this_week": Msg("This week"),
    "this_month": Msg("This month"),
    "custom": Msg("From … to …"),
}
AUTHOR_WORDS: dict[str, Any] = {
    "agent": Msg("support agent"),
    "collaborator": Msg("team admin (collaborator)"),
    "requester": Msg("requester"),
    "cc": Msg("copied"),
}
LIST_FILTERS = ("type", "priority", "product", "created", "created_from", "created_to", "q")
"""The filters of "my tickets", each a field of the list's form ("" for any)."""
PAGE_SIZE = 25
SUGGESTIONS = 5

WORDS: dict[str, Any] = {
    "tab_words": TAB_WORDS,
    "status_words": STATUS_WORDS,
    "type_words": TYPE_WORDS,
    "priority_words": PRIORITY_WORDS,
    "created_words": CREATED_WORDS,
    "author_words": AUTHOR_WORDS,
    "types": TICKET_TYPES,
    "priorities": PRIORITIES,
}


def products_of(runtime: Runtime, visitor: Visitor) -> tuple[list[str], str | None]:
    """The products of the visitor's account and its plan (as the subscription view
    holds them)."""
    account_id = visitor.signed_in.account_id
    found = runtime.reads.subscription(str(account_id)) if account_id else None
    if found is None:
        return [], None
    return list(found["products"]), str(found["plan"])


# --- my tickets ----------------------------------------------------------------------------


@router.get("/support")
def my_tickets(
    asked: AskedPage,
    tab: str = "open",
    cursor: str = "",
    trail: Annotated[list[str] | None, Query()] = None,
    at: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    """The visitor's tickets of a tab, filtered by the list's form (:data:`LIST_FILTERS`,
    read from the query as it names them)."""
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    who = permitted(visitor, "list_tickets").signed_in
    tab = tab if tab in TABS else "open"
    chosen = {name: request.query_params.get(name, "") for name in LIST_FILTERS}
    chosen["q"] = chosen["q"].strip()
    errors: dict[str, Text] = {}
    span = chosen["created"]
    typed_range = chosen["created_from"] or chosen["created_to"]
    if span == "custom" or (not span and typed_range):
        # a date typed in From or To asks for that range, whatever the select says
        span = f"{chosen['created_from']}..{chosen['created_to']}" if typed_range else ""
        chosen["created"] = "custom" if span else chosen["created"]
    one_of = {
        name: [chosen[name]] if chosen[name] else [] for name in ("type", "priority", "product")
    }
    tickets: list[Any] = []
    next_cursor = None
    try:
        query = TicketQuery.model_validate(
            {
                "status": list(TABS[tab]),
                **one_of,
                "created": span or None,
                "tz": visitor.time_zone or "UTC",
                "q": chosen["q"] or None,
                "limit": PAGE_SIZE,
                "cursor": cursor or None,
                "min_position": at,
            }
        )
        found = ticket_list(runtime, who, query)
        tickets, next_cursor = found.tickets, found.next_cursor
    except ValidationError as invalid:
        for error in invalid.errors():
            field = str(error["loc"][0]) if error["loc"] else "q"
            errors[field] = Msg("Choose one of the values offered.")
    except Problem as refused:
        if refused.status != 422 and refused.code != "bad-cursor":
            raise
        field = str(refused.extra.get("errors", [{}])[0].get("field", "q"))
        errors["created" if field == "created" else field] = refused.detail
    earlier = list(trail or [])
    filters = {k: v for k, v in chosen.items() if v}
    context = {
        **WORDS,
        "tab": tab,
        "tabs": TABS,
        "chosen": chosen,
        "errors": errors,
        "tickets": tickets,
        "products": products_of(runtime, visitor)[0],
        "tab_link": lambda name: "/support?" + urlencode({"tab": name, **filters}),
        "next_link": next_cursor and list_link(tab, filters, next_cursor, [*earlier, cursor]),
        "previous_link": cursor
        and list_link(tab, filters, earlier[-1] if earlier else "", earlier[:-1]),
    }
    return page(request, visitor, "support_list.html", context, status_code=422 if errors else 200)


def list_link(tab: str, filters: Mapping[str, str], cursor: str, trail: list[str]) -> str:
    """A page of the list: its cursor, and the cursors of the pages before it (so the
    next one links back)."""
    asked = {"tab": tab, **filters, "cursor": cursor, "trail": trail}
    return "/support?" + urlencode({k: v for k, v in asked.items() if v}, doseq=True)


# --- a new ticket --------------------------------------------------------------------------


def new_ticket_page(
    asked: Asked,
    typed: Mapping[str, Any],
    *,
    errors: Mapping[str, Text] | None = None,
    kept: list[AttachmentRef] | None = None,
    status_code: int = 200,
) -> Response:
    """The form (as typed so far), or, for a plan that does not include support, why not,
    which plans do, and where to ask instead."""
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    products, plan = products_of(runtime, visitor)
    try:
        check_plan_includes_support(plan or "free")
    except PlanNotEntitled as refusal:
        unavailable = {
            "reason": refusal.message,
            "plans": [p.title() for p in FILING_PLANS],
            "community_url": runtime.settings.community_url,
        }
        return page(request, visitor, "support_unavailable.html", unavailable)
    book = runtime.desk.ticket_field_book()  # GET /v1/ticket-fields's read
    context: dict[str, Any] = {
        **WORDS,
        "typed": typed,
        "errors": errors or {},
        "kept": kept or [],
        "products": products,
        "ticket_fields": [d for _, d in sorted(book.fields.items()) if not d.archived],
    }
    return page(request, visitor, "support_new.html", context, status_code=status_code)


@router.get("/support/new")
def new_ticket(asked: AskedPage, follow_up_of: str = "") -> Response:
    permitted(asked.visitor, "file_ticket")
    typed = {"type": "question", "priority": "normal", "follow_up_of": follow_up_of[:64]}
    return new_ticket_page(asked, typed)


@router.post("/support/new")
def file_ticket(
    asked: AskedPage,
    fields: FieldForm,
    subject: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "question",
    priority: Annotated[str, Form()] = "normal",
    product: Annotated[str, Form()] = "",
    follow_up_of: Annotated[str, Form()] = "",
    help_session: Annotated[str, Form()] = "",
    attachment: Annotated[list[str] | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    runtime, visitor = asked.runtime, asked.visitor
    who = permitted(visitor, "file_ticket").signed_in
    typed = {
        "subject": subject, "description": description, "type": type, "priority": priority,
        "product": product, "follow_up_of": follow_up_of[:64], "help_session": help_session,
        "fields": fields,
    }  # fmt: skip
    kept: list[AttachmentRef] = []
    try:
        if who.account_id is None:
            raise NotAMember(Msg("Only members of a customer account file tickets."))
        kept = runtime.uploads.attachable(list(attachment or [])[:20], who.id)
        kept += uploaded(runtime, visitor, files)
        receipt = runtime.desk.file_ticket(
            account_id=who.account_id,
            requester_id=who.id,
            subject=subject,
            description=description,
            type=type,
            priority=priority,
            product=product,
            follow_up_of=follow_up_of or None,
            help_session=session_of(help_session),
            attachments=kept,
            custom_fields=field_values(runtime.desk.ticket_field_book().fields, product, fields),
            stamp=stamp_of(visitor),
        )
    except DocketError as refused:
        field = refused.field if isinstance(refused, InvalidField) else "form"
        return new_ticket_page(
            asked,
            typed,
            errors={form_field(field): refused.message},
            kept=kept,
            status_code=refusal_status(refused),
        )
    query = urlencode({"filed": "1", "at": receipt.position})
    return RedirectResponse(f"/support/tickets/{receipt.number}?{query}", status_code=303)


def form_field(field: str) -> str:
    """The form's field a refusal names (a file's refusal goes next to the files, a custom
    field's next to its box)."""
    known = ("subject", "description", "type", "priority", "product", "follow_up_of")
    if field.startswith("custom_fields."):
        return FIELD_PREFIX + field.removeprefix("custom_fields.")
    return field if field in known else "files" if "attachment" in field else "form"


FIELD_PREFIX = "field."
"""A custom field's box on the form is named ``field.<key>``."""


async def field_form(request: Request) -> dict[str, str]:
    """The custom fields' boxes as typed (the form Starlette parsed for the route)."""
    form = await request.form()
    return {
        name.removeprefix(FIELD_PREFIX): value
        for name, value in form.multi_items()
        if name.startswith(FIELD_PREFIX) and isinstance(value, str)
    }


FieldForm = Annotated[dict[str, str], Depends(field_form)]


def field_values(
    definitions: Mapping[str, FieldDefinition], product: str, typed: Mapping[str, str]
) -> dict[str, Any]:
    """What the form's custom fields give the filing: each field in force for the product
    chosen, as its kind stores it. An empty box gives nothing (the desk then asks for a
    required one); a ticked box is true; a number typed wrong goes as typed, so the desk
    says what it takes. Boxes of fields for another product are left out: the form shows
    them all, and a person may have changed the product after filling one."""
    values: dict[str, Any] = {}
    for key, definition in definitions.items():
        if definition.archived or not definition.applies_to(product) or key not in typed:
            continue
        text = typed[key].strip()
        if definition.kind == "checkbox":
            values[key] = True
        elif text:
            values[key] = number_of(text) if definition.kind == "number" else text
    return values


def number_of(text: str) -> int | float | str:
    """A number typed in a box (``42``, ``2.5``, ``2,5``), else the text itself."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


def session_of(text: str) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


@router.get("/support/suggestions")
def suggestions(
    asked: AskedPage,
    subject: str = "",
    description: str = "",
    product: str = "",
    help_session: str = "",
) -> Response:
    """The help articles that may answer the ticket being written (an htmx fragment, the
    API's suggestion read), and the help session they are suggested in."""
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    permitted(visitor, "read_articles")
    text = f"{subject[:200]} {description[:2000]}".strip()
    rows = runtime.reads.suggest_articles(
        text, product=product[:200] or None, language=None, limit=SUGGESTIONS
    )
    session = session_of(help_session) or uuid4()
    articles = [{**r, "snippet": marked(str(r["snippet"]))} for r in rows]
    context = {"articles": articles, "help_session": str(session), "asked": bool(text)}
    return page(request, visitor, "support_suggestions.html", context)


def marked(snippet: str) -> Markup:
    """The suggestion's snippet, escaped, its matched words (``<b>`` in the view) marked."""
    return Markup(
        str(escape(snippet)).replace("&lt;b&gt;", "<mark>").replace("&lt;/b&gt;", "</mark>")
    )


@router.post("/support/articles/{article_id}/open")
def open_article(
    asked: AskedPage,
    article_id: UUID,
    help_session: Annotated[str, Form()] = "",
) -> Response:
    """Record that a suggested article was opened (the API's ``open_article``), then show
    it: inline to htmx, else as a page of its own."""
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    who = permitted(visitor, "open_article").signed_in
    if who.account_id is None:
        raise Problem(403, "not-a-member", Msg("Only members of a customer account do this."))
    session = session_of(help_session)
    position = None
    if session is not None:
        position = runtime.desk.open_article(
            session, article_id=article_id, person_id=who.id, account_id=str(who.account_id),
            stamp=stamp_of(visitor),
        )  # fmt: skip
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/support/articles/{article_id}", status_code=303)
    return article_page(asked, article_id, position, fragment=True)


@router.get("/support/articles/{article_id}")
def read_article(asked: AskedPage, article_id: UUID) -> Response:
    permitted(asked.visitor, "read_articles")
    return article_page(asked, article_id, None, fragment=False)


def article_page(
    asked: Asked,
    article_id: UUID,
    position: int | None,
    *,
    fragment: bool,
) -> Response:
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    row = runtime.reads.article(article_id, position)
    if row is None or row["withdrawn"]:
        raise Problem(
            404, "unknown-article", Msg("No article {article_id!r}.", article_id=str(article_id))
        )
    template = "support_article_fragment.html" if fragment else "support_article.html"
    return page(request, visitor, template, {"article": row, "blocks": blocks(row["body"])})


def blocks(markdown: str) -> list[tuple[str, str]]:
    """An article's Markdown as plain blocks to show: headings, list items and paragraphs
    (the words only, as the suggestions search them; no HTML of the article's is shown)."""
    shown = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        kind = "heading" if block.lstrip().startswith("#") else "paragraph"
        text = " ".join(plain_text(block).split()).replace("( ", "(")
        text = re.sub(r" ([.,)])", r"\1", text)  # where bold markup stood
        if text:
            shown.append((kind, text))
    return shown


# --- a ticket ------------------------------------------------------------------------------


def ticket_page(
    asked: Asked,
    number: str,
    *,
    at: int | None = None,
    notice: Text | None = None,
    errors: Mapping[str, Text] | None = None,
    typed: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    who = permitted(visitor, "ticket_detail").signed_in
    detail = visible_detail(runtime, who, number, lambda a: f"/support/files/{a}", at)
    files = {f.id: f for f in detail.attachments}
    in_replies = {a for m in detail.conversation for a in m.attachments}
    filed_with = [f.id for f in detail.attachments if f.id not in in_replies]
    now = datetime.now(UTC)
    closed = detail.status == "closed"
    may_reopen = (
        closed
        and detail.closed_at is not None
        and detail.merged_into is None
        and not reopen_window_passed(detail.closed_at, now, runtime.desk.reopen_window)
    )
    owner = runtime.reads.owner_of(detail.number)
    context = {
        **WORDS,
        "ticket": detail,
        "files": files,
        "filed_with": filed_with,
        "notice": notice,
        "errors": errors or {},
        "typed": typed or {},
        "closed": closed,
        "may_reopen": may_reopen,
        "may_rate": closed and owner is not None and may_rate(who, owner),
    }
    return page(request, visitor, "support_ticket.html", context, status_code=status_code)


@router.get("/support/tickets/{number}")
def ticket(
    asked: AskedPage,
    number: str,
    at: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    filed: str = "",
    done: str = "",
) -> Response:
    notice: Text | None = None
    if filed:
        notice = Msg("Ticket {number} is filed; we emailed you a confirmation.", number=number)
    elif done in DONE:
        notice = DONE[done]
    return ticket_page(asked, number, at=at, notice=notice)


DONE = {
    "replied": Msg("Your reply is added."),
    "solved": Msg("The ticket is marked as solved."),
    "reopened": Msg("The ticket is open again."),
    "rated": Msg("Thank you for your rating."),
}


def ticket_write(
    asked: Asked,
    number: str,
    endpoint: str,
    done: str,
    write: Any,
    *,
    field: str = "form",
    typed: Mapping[str, Any] | None = None,
) -> Response:
    """One change of the ticket through the desk, as the API's ``endpoint`` makes it: then
    back to the ticket (303), or the ticket with the refusal next to ``field``."""
    runtime, visitor = asked.runtime, asked.visitor
    who = permitted(visitor, endpoint).signed_in
    owner = visible_ticket(runtime, who, number)
    try:
        receipt = write(who, owner)
    except DocketError as refused:
        return ticket_page(
            asked,
            number,
            errors={field: refused.message},
            typed=typed,
            status_code=refusal_status(refused),
        )
    query = urlencode({"done": done, "at": receipt.position})
    return RedirectResponse(f"/support/tickets/{receipt.number}?{query}", status_code=303)


@router.post("/support/tickets/{number}/reply")
def reply(asked: AskedPage, number: str, sent: MessageForm) -> Response:
    def write(who: Any, owner: Any) -> Any:
        return page_reply(asked.runtime, asked.visitor, owner, sent.body, sent.files)

    typed = {"body": sent.body}
    return ticket_write(asked, number, "add_message", "replied", write, field="body", typed=typed)


@router.post("/support/tickets/{number}/solve")
def mark_solved(asked: AskedPage, number: str) -> Response:
    runtime, visitor = asked.runtime, asked.visitor

    def write(who: Any, owner: Any) -> Any:
        return runtime.desk.change_status(
            owner.ticket_id, to_status="closed", stamp=stamp_of(visitor)
        )

    return ticket_write(asked, number, "change_status", "solved", write)


@router.post("/support/tickets/{number}/reopen")
def reopen(asked: AskedPage, number: str) -> Response:
    runtime, visitor = asked.runtime, asked.visitor

    def write(who: Any, owner: Any) -> Any:
        return runtime.desk.reopen(owner.ticket_id, stamp=stamp_of(visitor))

    return ticket_write(asked, number, "reopen", "reopened", write)


class Rating(BaseModel):
    """The rating form: a score (a number, said by the desk) and an optional comment."""

    score: str = ""
    comment: str = ""


@router.post("/support/tickets/{number}/rating")
def rate(asked: AskedPage, number: str, sent: Annotated[Rating, Form()]) -> Response:
    runtime, visitor = asked.runtime, asked.visitor
    score, comment = sent.score, sent.comment

    def write(who: Any, owner: Any) -> Any:
        if not may_rate(who, owner):
            raise Problem(
                403, "requester-only", Msg("Only the person who filed the ticket rates it.")
            )
        return runtime.desk.rate_satisfaction(
            owner.ticket_id, score=whole(score), comment=comment, stamp=stamp_of(visitor)
        )

    return ticket_write(
        asked,
        number,
        "rate_satisfaction",
        "rated",
        write,
        field="rating",
        typed={"comment": comment},
    )


def whole(text: str) -> int:
    """A number sent by a form, 0 for none (the desk says what it takes)."""
    try:
        return int(text)
    except ValueError:
        return 0


@router.get("/support/files/{attachment_id}")
def download(asked: AskedPage, attachment_id: str) -> Response:
    """A file of a ticket the visitor may see (or their own upload): the API's download."""
    who = permitted(asked.visitor, "download_attachment").signed_in
    return download_answer(asked.runtime, who, attachment_id)
