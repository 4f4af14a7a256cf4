"""The desk's words: every closed set of values, the shared size bounds, and their checks.

Each closed set is defined once, as a ``Literal`` type, and its tuple is read from
it (``get_args``), so the aggregates' checks (:func:`checked_choice`) and the API's
schemas (which type their fields with the same ``Literal``, and so list the same
enum in OpenAPI) cannot drift apart. Every aggregate takes :func:`checked_text`
and :func:`checked_choice` from here.
"""

from __future__ import annotations

from typing import Literal, get_args

from domain.errors import InvalidField
from domain.messages import Msg

# --- tickets ---------------------------------------------------------------------------

TicketType = Literal["question", "bug", "feature_request", "billing", "technical", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
"""In rising order: a change to a later one raises the priority."""
Status = Literal["open", "pending", "closed"]
AuthorRole = Literal["requester", "agent", "collaborator", "cc"]
"""Who wrote a public message: the requester, an agent, a colleague of the requester, or
someone copied on the ticket (a CC, member of its account or not)."""

TICKET_TYPES: tuple[TicketType, ...] = get_args(TicketType)
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
STATUSES: tuple[Status, ...] = get_args(Status)
AUTHOR_ROLES: tuple[AuthorRole, ...] = get_args(AuthorRole)

# --- who and through what --------------------------------------------------------------

ActorKind = Literal["requester", "collaborator", "cc", "agent", "admin", "system", "importer"]
Channel = Literal["web", "email", "chat", "phone", "social", "api", "import"]
FilingChannel = Literal["web", "chat", "api", "phone", "social", "email"]
"""The channels a ticket filed over the API may name: every channel but ``import``."""

Via = Literal["web", "email", "chat", "phone", "social", "api", "import", "system", "cli"]
"""Through what an event came: a ticket's channels, and two that are no channel a
customer uses: ``system`` for what Docket records on its own (an SLA breach as its due
instant passes), ``cli`` for an operator at the ``docket`` command line."""

ACTOR_KINDS: tuple[ActorKind, ...] = get_args(ActorKind)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
VIAS: tuple[Via, ...] = get_args(Via)

# --- chat and callbacks ----------------------------------------------------------------

ChatSpeaker = Literal["customer", "agent"]
CallbackOutcome = Literal["reached", "no_answer"]
CallbackState = Literal["to_make", "made"]
"""A callback asked for and not made yet (``to_make``), or made."""

CHAT_SPEAKERS: tuple[ChatSpeaker, ...] = get_args(ChatSpeaker)
CALLBACK_OUTCOMES: tuple[CallbackOutcome, ...] = get_args(CallbackOutcome)

# --- service levels --------------------------------------------------------------------

SlaTarget = Literal["first_response", "next_reply", "resolution"]
ClockState = Literal["running", "paused", "met", "breached"]

# --- accounts, staff, help articles ----------------------------------------------------

Plan = Literal["free", "education", "starter", "consultant", "business", "enterprise"]
SupportTier = Literal["standard", "premium_essentials", "premium_enhanced"]
MemberRole = Literal["member", "admin", "billing_admin"]
StaffRole = Literal["agent", "auditor", "analyst", "admin"]
Language = Literal["en", "fr"]

PLANS: tuple[Plan, ...] = get_args(Plan)
SUPPORT_TIERS: tuple[SupportTier, ...] = get_args(SupportTier)
MEMBER_ROLES: tuple[MemberRole, ...] = get_args(MemberRole)
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)
LANGUAGES: tuple[Language, ...] = get_args(Language)

# --- time-based automations ----------------------------------------------------------

RuleClock = Literal["last_update", "last_customer_message", "last_agent_reply", "status_entered"]
"""What an automation's time condition counts from (calendar hours since that instant)."""
RuleActionKind = Literal["set_status", "add_tag", "assign_group", "reply", "notify", "apply_macro"]
NotifyTarget = Literal["requester", "assignee"]

RULE_CLOCKS: tuple[RuleClock, ...] = get_args(RuleClock)
RULE_ACTION_KINDS: tuple[RuleActionKind, ...] = get_args(RuleActionKind)
NOTIFY_TARGETS: tuple[NotifyTarget, ...] = get_args(NotifyTarget)

# --- sizes -----------------------------------------------------------------------------

SUBJECT_MAX_CHARS = 200
BODY_MAX_BYTES = 64 * 1024
NAME_MAX_CHARS = 200
"""A name or label: a person's, a product, a topic, a support group, a file name."""
COMMENT_MAX_CHARS = 2000
ATTACHMENTS_MAX = 20
"""Files one message (a filing, a reply, an email) may carry."""
CCS_MAX = 20
"""People one ticket may copy (CCs): enough for a team, too few to make it a mailing list."""


def checked_text(field: str, value: str, *, max_chars: int = 0, max_bytes: int = 0) -> str:
    """The value itself, if it is a non-blank string within its size bound."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(field, Msg("{field} must not be empty.", field=field))
    if max_chars and len(value) > max_chars:
        raise InvalidField(
            field,
            Msg(
                "{field} is {length} characters; at most {max_chars}.",
                field=field,
                length=len(value),
                max_chars=max_chars,
            ),
        )
    if max_bytes and len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        raise InvalidField(
            field, Msg("{field} is larger than {value} KiB.", field=field, value=max_bytes // 1024)
        )
    return value


def checked_choice(field: str, value: str, choices: tuple[str, ...]) -> str:
    """The value itself, if it is one of the closed set ``choices``."""
    if value not in choices:
        raise InvalidField(
            field,
            Msg(
                "{field} must be one of {names}; got {value!r}.",
                field=field,
                names=", ".join(choices),
                value=value,
            ),
        )
    return value
