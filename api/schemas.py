"""What the API takes and gives: pydantic models, apart from the domain's classes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

TicketType = Literal["question", "bug", "feature_request", "billing", "technical", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "pending", "closed"]
FilingChannel = Literal["web", "chat", "api", "phone", "social", "email"]

AttachmentIds = list[str]
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""Free text in a query: anything but control characters (NUL never reaches SQL)."""
AccountId = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""An account's id in a query: letters, digits and ``_.:-`` (a UUID, say)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatLineIn(Strict):
    who: Literal["customer", "agent"]
    text: str = Field(min_length=1, max_length=4000)
    at: datetime | None = Field(default=None, description="ISO instant with a time zone.")


class TicketFiling(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Files stop syncing",
                    "description": "Since this morning no file syncs on my laptop.",
                    "type": "bug",
                    "priority": "high",
                    "product": "Files",
                }
            ]
        },
    )
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(
        default="",
        max_length=65536,
        description="Required, except for a chat: then an optional summary above the transcript.",
    )
    type: TicketType = "question"
    priority: Priority = "normal"
    product: str = Field(default="", max_length=200)
    topic: str = Field(default="", max_length=200)
    channel: FilingChannel = "web"
    transcript: list[ChatLineIn] | None = Field(
        default=None,
        max_length=500,
        description="channel chat only, and required for it: the chat's lines in order.",
    )
    follow_up_of: str | None = Field(default=None, max_length=64)
    help_session: UUID | None = Field(
        default=None,
        description="The help session of GET /v1/articles/suggest: records that this ticket "
        "was filed anyway, in the same write.",
    )
    attachments: AttachmentIds = Field(default_factory=list, max_length=20)


class CallbackIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "phone": "+14155552671",
                    "window_start": "2030-03-04T09:00:00-08:00",
                    "window_end": "2030-03-04T12:00:00-08:00",
                    "time_zone": "America/Los_Angeles",
                    "subject": "Cannot sign in since the update",
                }
            ]
        },
    )
    phone: str = Field(
        max_length=64, description="E.164: + then 8 to 15 digits, e.g. +14155552671."
    )
    window_start: datetime = Field(description="ISO instant with a time zone.")
    window_end: datetime = Field(
        description="After window_start, in the future, at most 7 days after window_start "
        "and 30 days from now; the window lasts at least 15 minutes."
    )
    time_zone: str | None = Field(
        default=None, max_length=64, description="IANA zone to show the window in."
    )
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=65536)
    type: TicketType = "question"
    product: str = Field(default="", max_length=200)


class CallbackMadeIn(Strict):
    outcome: Literal["reached", "no_answer"]


class Receipt(BaseModel):
    id: str
    number: str
    version: int
    position: int


class MessageIn(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"body": "Could you send the logs?"}]}
    )
    body: str = Field(min_length=1, max_length=65536)
    attachments: AttachmentIds = Field(default_factory=list, max_length=20)


class NoteIn(Strict):
    body: str = Field(min_length=1, max_length=65536)


class StatusIn(Strict):
    status: Status


class PriorityIn(Strict):
    priority: Priority


class AssignmentIn(Strict):
    agent_id: str | None = Field(default=None, max_length=64, description='An agent id or "me"')
    group: str | None = Field(default=None, max_length=200)


class TypeIn(Strict):
    type: TicketType


class ProductIn(Strict):
    product: str = Field(min_length=1, max_length=200)


class RatingIn(Strict):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int


class Me(BaseModel):
    id: str
    role: str
    name: str
    account_id: str | None


class ProjectionHealth(BaseModel):
    position: int
    lag: int = Field(description="Events in the log this view has not applied yet.")
    error: str | None = None


class Health(BaseModel):
    status: str
    database: str
    position: int
    projections: dict[str, ProjectionHealth]


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str


# --- reads ---------------------------------------------------------------------------

SortName = Literal["attention", "last_activity", "created", "priority", "due"]


class TicketQuery(Strict):
    """Filters, order and page of a ticket list. Repeat a filter to allow several values."""

    status: list[Status] = Field(default_factory=list, max_length=3)
    type: list[TicketType] = Field(default_factory=list, max_length=6)
    priority: list[Priority] = Field(default_factory=list, max_length=4)
    product: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    topic: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)
    assignee: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=20,
        description='Agent ids; "me" for the caller, "none" for unassigned (staff only).',
    )
    group: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="Support groups (staff only)."
    )
    account: list[AccountId] = Field(
        default_factory=list, max_length=20, description="Account ids (staff only)."
    )
    needs_answer: bool | None = Field(
        default=None, description="Open tickets whose latest customer message has no reply."
    )
    created: str | None = Field(
        default=None,
        max_length=40,
        description="today, this_week, this_month, or FROM..TO in ISO dates (either may be "
        "left out), in the time zone tz.",
        examples=["this_week", "2024-03-01..2024-03-31"],
    )
    tz: str = Field(default="UTC", max_length=64, description="IANA time zone for created.")
    q: str | None = Field(
        default=None, max_length=200, description="Words in the subject and messages."
    )
    breaching_within: int | None = Field(
        default=None,
        ge=0,
        le=60 * 24 * 366,
        description="Minutes (staff only): tickets with a running SLA clock due within "
        "them, or already past due.",
    )
    callback: Literal["to_make", "made"] | None = Field(
        default=None,
        description="Staff only: to_make, callbacks requested and not made on tickets not "
        "closed; made, callbacks made.",
    )
    sort: SortName | None = Field(
        default=None,
        description="attention (unanswered first; the inbox's default), last_activity "
        "(the lists' default), created, priority, or due (staff only: the soonest SLA due "
        "instant first, overdue before due; tickets with no running clock last).",
    )
    order: Literal["desc", "asc"] = Field(
        default="desc",
        description="desc: most recent, most urgent, most in need of an answer first.",
    )
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2000)
    min_position: int | None = Field(
        default=None, ge=0, le=2**62, description="Wait until the list reflects this position."
    )
    scope: Literal["mine", "team", "all"] | None = Field(
        default=None,
        description="GET /v1/tickets only. mine: your own (requesters, team admins) or "
        "assigned to you (staff); team: your account's (team admins); all: every ticket "
        "(staff, the default for them).",
    )


class PersonRef(BaseModel):
    id: str
    name: str | None


class TicketSummary(BaseModel):
    id: str
    number: str
    subject: str
    status: str
    priority: str
    type: str
    product: str
    topic: str
    channel: str
    account_id: str
    requester: PersonRef
    assignee: PersonRef | None
    collaborators: list[PersonRef]
    created_at: datetime
    last_activity_at: datetime
    message_count: int
    support_group: str | None = None
    needs_answer: bool | None = None
    waiting_since: datetime | None = None
    note_count: int | None = None
    version: int | None = None
    sla_due_at: datetime | None = Field(
        default=None, description="Staff only: the soonest due instant of a running SLA clock."
    )
    sla_business_seconds_left: float | None = Field(
        default=None, description="Staff only: business time until sla_due_at (negative past it)."
    )
    sla_breached: bool | None = Field(
        default=None, description="Staff only: a clock of the current cycle is breached."
    )
    callback_phone: str | None = Field(default=None, description="Staff only.")
    callback_window_start: datetime | None = Field(default=None, description="Staff only.")
    callback_window_end: datetime | None = Field(default=None, description="Staff only.")
    callback_state: Literal["to_make", "made"] | None = Field(
        default=None, description="Staff only: a callback requested (to_make) or made."
    )


class TicketPage(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )
    position: int = Field(description="The log position this walk reads the list as of.")


class MessageOut(BaseModel):
    version: int
    position: int
    at: datetime
    author: PersonRef
    author_role: str
    via: str
    body: str
    attachments: list[str]


class NoteOut(BaseModel):
    version: int
    position: int
    at: datetime
    author: PersonRef
    via: str
    body: str


class FileOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    added_at: datetime
    url: str


class Rating(BaseModel):
    score: int
    comment: str


SlaTarget = Literal["first_response", "next_reply", "resolution"]


class SlaClockOut(BaseModel):
    target: SlaTarget
    cycle: int
    priority: str
    state: Literal["running", "paused", "met", "breached"]
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    business_seconds_left: float | None = Field(
        description="Business time until due_at while running; negative once past it."
    )
    breached: bool
    breach_recorded: bool = Field(description="An SlaBreached event is on the ticket.")


class SlaOut(BaseModel):
    tier: str | None = Field(description="The support tier promised; null if none was.")
    calendar: str | None
    next_due_at: datetime | None
    clocks: list[SlaClockOut]


class ChatLineOut(BaseModel):
    who: Literal["customer", "agent"]
    text: str
    at: datetime | None


class CallbackOut(BaseModel):
    phone: str
    window_start: datetime
    window_end: datetime
    time_zone: str | None
    state: Literal["to_make", "made"]
    requested_at: datetime
    outcome: Literal["reached", "no_answer"] | None
    made_at: datetime | None
    made_by: PersonRef | None


class TicketDetail(BaseModel):
    id: str
    number: str
    version: int
    position: int
    subject: str
    status: str
    priority: str
    type: str
    product: str
    topic: str
    channel: str
    cycle: int
    account: PersonRef
    requester: PersonRef
    assignee: PersonRef | None
    support_group: str | None
    collaborators: list[PersonRef]
    follow_up_of: str | None
    rating: Rating | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    conversation: list[MessageOut]
    attachments: list[FileOut]
    internal_notes: list[NoteOut] | None = Field(
        default=None, description="Staff only; absent for customers."
    )
    sla: SlaOut | None = Field(default=None, description="Staff only; absent for customers.")
    transcript: list[ChatLineOut] | None = Field(
        default=None, description="Chat tickets: the chat's lines, as filed."
    )
    callback: CallbackOut | None = Field(
        default=None, description="Staff and the ticket's requester only: the callback asked for."
    )


class FeedQuery(Strict):
    after: int = Field(default=0, ge=0, le=2**62, description="Resume after this position.")
    limit: int = Field(default=100, ge=1, le=1000)
    min_position: int | None = Field(default=None, ge=0, le=2**62)


class Actor(BaseModel):
    id: str
    kind: str


class FeedEvent(BaseModel):
    position: int
    stream_id: str
    version: int
    kind: str
    ticket_number: str | None
    account_id: str | None
    at: datetime
    actor: Actor
    via: str
    correlation_id: str
    causation_id: str
    fields: dict[str, Any]


class FeedPage(BaseModel):
    events: list[FeedEvent]
    next_after: int = Field(description="Pass as after to resume; every earlier event is read.")
    position: int = Field(description="How far the feed's view has read the log.")


# --- audit -------------------------------------------------------------------------------


class HistoryEvent(BaseModel):
    position: int
    version: int
    kind: str
    at: datetime
    actor: Actor
    via: str
    correlation_id: str
    causation_id: str
    fields: dict[str, Any]
    prev_hash: str
    event_hash: str


class TicketHistory(BaseModel):
    ticket_id: str
    number: str | None
    events: list[HistoryEvent]


class StateQuery(Strict):
    version: int | None = Field(default=None, ge=1, le=2**31)
    as_of: datetime | None = Field(default=None, description="ISO instant with a time zone.")


class TicketState(BaseModel):
    ticket_id: str
    version: int = Field(description="The last version folded.")
    state: dict[str, Any]


class AccountBacklog(BaseModel):
    account_id: str | None
    name: str | None
    tickets: int


class Backlog(BaseModel):
    as_of: datetime
    position: int = Field(description="The feed position the backlog was read at.")
    tickets: int
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_account: list[AccountBacklog]


class DamageOut(BaseModel):
    stream_id: str
    label: str
    version: int
    reason: str


class Verification(BaseModel):
    ok: bool
    streams: int
    events: int
    damages: list[DamageOut]
    seal_failures: list[str]
    head_hash: str = Field(description="Running hash of the whole log; keep it to compare later.")
    head_position: int = Field(description="The position the running hash covers.")


# --- dashboards ------------------------------------------------------------------------------


class DashboardQuery(Strict):
    """Filters every dashboard takes. Repeat a filter for several values."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    account: list[AccountId] = Field(default_factory=list, max_length=50)
    product: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    topic: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    channel: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list, max_length=10
    )
    since: str | None = Field(
        default=None,
        alias="from",
        max_length=40,
        description="From this ISO date (UTC, inclusive) or instant.",
    )
    until: str | None = Field(
        default=None,
        alias="to",
        max_length=40,
        description="To this ISO date (UTC, inclusive) or instant (exclusive).",
    )
    limit: int = Field(default=10, ge=1, le=100, description="top-issues, top-products")
    bucket: Literal["day", "week", "month"] = Field(default="day", description="volume")
    group_by: str | None = Field(
        default=None,
        max_length=20,
        description="times: priority|topic|product|channel; satisfaction: product|topic|agent",
    )
    min_position: int | None = Field(default=None, ge=0, le=2**62)


class DashboardAnswer(BaseModel):
    dashboard: str
    position: int = Field(description="The log position the figures reflect.")
    rows: list[dict[str, Any]]


# --- help articles ---------------------------------------------------------------------------

Language = Literal["en", "fr"]
Label = Annotated[str, Field(min_length=1, max_length=200)]


class ArticleRevision(Strict):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=65536, description="Markdown.")
    language: Language
    products: list[Label] = Field(default_factory=list, max_length=20)
    topics: list[Label] = Field(default_factory=list, max_length=20)


class ArticleIn(ArticleRevision):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Files stop syncing on your computer",
                    "body": "Click the Files icon and choose **Resume sync**.",
                    "language": "en",
                    "products": ["Files"],
                    "topics": ["sync"],
                }
            ]
        },
    )
    slug: str | None = Field(
        default=None, max_length=100, description="Defaults to the title, made URL-safe."
    )


class ArticleReceipt(BaseModel):
    id: str
    slug: str
    version: int
    position: int


class ArticleQuery(Strict):
    language: Language | None = None
    product: str | None = Field(default=None, max_length=200, pattern=NO_CONTROL)
    include_withdrawn: bool = Field(default=False, description="Admins only.")
    limit: int = Field(default=100, ge=1, le=500)
    min_position: int | None = Field(default=None, ge=0, le=2**62)


class ArticleOut(BaseModel):
    id: str
    slug: str
    title: str
    language: Language
    products: list[str]
    topics: list[str]
    withdrawn: bool
    version: int
    published_at: datetime
    updated_at: datetime
    read_count: int = Field(description="How many times the article was opened from help.")
    body: str | None = Field(default=None, description="Markdown; in the detail only.")


class ArticleList(BaseModel):
    articles: list[ArticleOut]


class SuggestQuery(Strict):
    q: str = Field(min_length=1, max_length=4000, description="The ticket being written.")
    product: str | None = Field(
        default=None, max_length=200, pattern=NO_CONTROL, description="Boosted, not a filter."
    )
    language: Language | None = Field(default=None, description="Only articles in it.")
    limit: int = Field(default=5, ge=1, le=20)
    help_session: UUID | None = Field(
        default=None, description="Keep the session of an earlier suggestion for this ticket."
    )


class Suggestion(BaseModel):
    id: str
    slug: str
    title: str
    language: Language
    products: list[str]
    topics: list[str]
    snippet: str = Field(description="The body around the matched words, matches in <b>.")
    score: float
    product_match: bool


class Suggestions(BaseModel):
    help_session: UUID = Field(
        description="Send it with POST /v1/articles/{id}/opened and POST /v1/tickets."
    )
    articles: list[Suggestion]


class ArticleOpenedIn(Strict):
    help_session: UUID


class ArticleOpened(BaseModel):
    help_session: UUID
    article_id: str
    position: int


class RecommendationQuery(Strict):
    language: Language | None = None
    limit: int = Field(default=10, ge=1, le=50)
    min_position: int | None = Field(default=None, ge=0, le=2**62)


class Recommendation(ArticleOut):
    relevance: int = Field(description="2 per past ticket on a topic, 1 per one on a product.")


class Recommendations(BaseModel):
    account_id: str
    basis: Literal["past_tickets", "most_read"]
    articles: list[Recommendation]


class DeflectionQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    since: str | None = Field(
        default=None, alias="from", max_length=40, description="ISO date (UTC) or instant."
    )
    until: str | None = Field(
        default=None, alias="to", max_length=40, description="ISO date (inclusive) or instant."
    )
    account: list[AccountId] = Field(default_factory=list, max_length=50)
    min_position: int | None = Field(default=None, ge=0, le=2**62)


class Deflection(BaseModel):
    position: int
    sessions: int = Field(description="Help sessions started in the range (on record).")
    opened_article: int = Field(description="Sessions that opened at least one article.")
    filed_anyway: int = Field(description="Sessions that filed a ticket.")
    opened_then_filed: int = Field(description="Sessions that opened an article and filed.")
    deflected: int = Field(description="Sessions that opened an article and filed no ticket.")
    deflection_rate: float | None = Field(
        description="deflected / opened_article; null when no session opened an article."
    )


# --- service levels ----------------------------------------------------------------------


class SlaSummaryQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date | None = Field(
        default=None, alias="from", description="First day (clocks started on or after it)."
    )
    end: date | None = Field(default=None, alias="to", description="Last day, included.")
    tz: str = Field(default="UTC", max_length=64, description="IANA time zone of the days.")
    account: list[AccountId] = Field(
        default_factory=list, max_length=20, description="Only these accounts."
    )
    min_position: int | None = Field(default=None, ge=0, le=2**62)


class Compliance(BaseModel):
    key: str
    target: SlaTarget
    met: int
    breached: int
    running: int
    compliance: float | None = Field(description="met / (met + breached); null when none.")


class SlaSummary(BaseModel):
    position: int
    by_tier: list[Compliance]
    by_priority: list[Compliance]
    by_account: list[Compliance]


class TierTargets(BaseModel):
    first_response: str = Field(examples=["4h"])
    next_reply: str = Field(examples=["8h"])
    resolution: str = Field(examples=["72h"])


class SlaPolicyOut(BaseModel):
    tiers: dict[str, dict[str, TierTargets]] = Field(
        description="Per support tier and priority, targets in business time."
    )
    calendars: list[str]


class TierPolicyIn(Strict):
    """A tier's targets as in sla.toml: base targets, and overrides per priority."""

    first_response: str = Field(max_length=20, examples=["4h"])
    next_reply: str = Field(max_length=20, examples=["8h"])
    resolution: str = Field(max_length=20, examples=["72h"])
    low: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None
    normal: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None
    high: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None
    urgent: dict[SlaTarget, Annotated[str, Field(max_length=20)]] | None = None


class OutboxQuery(Strict):
    state: Literal["queued", "sent", "retry", "failed", "expired"] | None = None
    ticket: str | None = Field(
        default=None, pattern=r"^T-\d{6,12}$", description="A ticket number (T-000123)."
    )
    limit: int = Field(default=50, ge=1, le=200)
    before: int | None = Field(default=None, ge=0, description="next_before of the last page.")
    min_position: int | None = Field(default=None, ge=0)


class OutgoingMail(BaseModel):
    notification_id: str
    position: int
    number: str
    reason: Literal["reply", "collaborator_reply", "requester_reply", "pending", "closed"]
    recipients: list[str]
    subject: str
    body: str
    message_id: str
    references: list[str]
    reply_to: str
    created_at: datetime
    state: Literal["queued", "sent", "retry", "failed", "expired"]
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class OutboxPage(BaseModel):
    emails: list[OutgoingMail]
    next_before: int | None
    sending: bool = Field(description="Whether a mail server is set (DOCKET_SMTP_URL).")


class InboundAnswer(BaseModel):
    action: Literal["added", "reopened", "filed"]
    id: str = Field(description="The ticket's id.")
    number: str
    version: int
    position: int
    duplicate: bool = Field(description="The same message was taken before; nothing was added.")


class RejectedMailQuery(Strict):
    limit: int = Field(default=50, ge=1, le=200)
    before: int | None = Field(default=None, ge=1, le=2**62)


class RejectedMail(BaseModel):
    rejected_id: int
    received_at: datetime
    sender: str
    subject: str
    message_id: str | None
    reason: str
    detail: str
    size: int


class RejectedMailPage(BaseModel):
    emails: list[RejectedMail]
    next_before: int | None
