"""Who may do what: the roles, the role matrix, and the rules about a ticket.

One module answers "may this person do this to this ticket", for every way in: the
HTTP routes, inbound email and the command line. The role matrix is the one place
that says which role reaches which endpoint; every route names its endpoint key,
and docs/api.md prints this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from domain.ticket import TicketOwner
from domain.vocabulary import AuthorRole

ROLES = ("requester", "team_admin", "agent", "auditor", "analyst", "admin")
CUSTOMER_ROLES = frozenset({"requester", "team_admin"})
STAFF_ROLES = frozenset({"agent", "admin"})
GATEWAY_ROLE = "mail_gateway"
"""A mail gateway's token: it posts inbound email, and reaches nothing else."""

# endpoint key -> roles that may call it. Ticket endpoints also check the
# ticket itself: requesters reach their own tickets, team admins their
# account's, staff every ticket (see ``may_see_ticket``).
ROLE_MATRIX: dict[str, frozenset[str]] = {
    "me": frozenset(ROLES),
    "file_ticket": frozenset({"requester", "team_admin"}),
    "request_callback": frozenset({"requester", "team_admin"}),
    "record_callback": STAFF_ROLES,
    "add_message": frozenset({"requester", "team_admin", "agent", "admin"}),
    "add_internal_note": STAFF_ROLES,
    "change_status": frozenset({"requester", "team_admin", "agent", "admin"}),
    "change_priority": STAFF_ROLES,
    "assign": STAFF_ROLES,
    "change_type": STAFF_ROLES,
    "change_product": STAFF_ROLES,
    "change_tags": STAFF_ROLES,
    # macros: agents keep personal ones, admins shared ones too (the desk says which);
    # staff list, preview and apply those they may use
    "list_macros": STAFF_ROLES,
    "keep_macros": STAFF_ROLES,
    "apply_macro": STAFF_ROLES,
    "reopen": frozenset({"requester", "team_admin", "agent", "admin"}),
    "merge_ticket": STAFF_ROLES,
    "rate_satisfaction": frozenset({"requester", "team_admin"}),
    # CCs: the requester (a team admin for the account's tickets) or staff copy people
    "add_cc": frozenset({"requester", "team_admin", "agent", "admin"}),
    "remove_cc": frozenset({"requester", "team_admin", "agent", "admin"}),
    "upload_attachment": frozenset({"requester", "team_admin", "agent", "admin"}),
    "download_attachment": frozenset(ROLES) - {"analyst"},
    "list_tickets": frozenset(ROLES) - {"analyst"},
    "ticket_detail": frozenset(ROLES) - {"analyst"},
    "inbox": STAFF_ROLES,
    "account_tickets": frozenset({"team_admin", "agent", "admin", "auditor"}),
    "feed": frozenset({"agent", "admin", "auditor", "analyst"}),
    "audit_history": frozenset({"auditor", "admin", "agent"}),
    "audit_state": frozenset({"auditor", "admin", "agent"}),
    "audit_backlog": frozenset({"auditor", "admin", "analyst"}),
    "audit_verify": frozenset({"auditor", "admin"}),
    "dashboard": frozenset({"analyst", "admin"}),
    "sla_summary": frozenset({"analyst", "admin"}),
    "tags_dashboard": frozenset({"agent", "analyst", "admin"}),
    "sla_policy": frozenset({"agent", "admin", "analyst", "auditor"}),
    "sla_policy_change": frozenset({"admin"}),
    "manage_articles": frozenset({"admin"}),
    "read_articles": frozenset(ROLES),
    "open_article": CUSTOMER_ROLES,
    "account_recommendations": frozenset({"requester", "team_admin", "agent", "admin"}),
    "deflection": frozenset({"analyst", "admin"}),
    "outbox": frozenset({"admin"}),
    "rejected_mail": frozenset({"admin"}),
    "inbound_email": frozenset({"mail_gateway"}),
    # accounts: Docket admins open them and change subscriptions; team admins (for their
    # own account) and Docket admins manage members; the subscription is read by the
    # account's admins and billing admins (the view knows the roles) and Docket admins
    "open_account": frozenset({"admin"}),
    "change_subscription": frozenset({"admin"}),
    "manage_members": frozenset({"team_admin", "admin"}),
    "subscription": frozenset({"requester", "team_admin", "admin"}),
    # the contact form: sent with no token at all (any role's token is simply not asked
    # for); its queue, the answers and turning one into a ticket are staff work
    "contact_form": frozenset(ROLES),
    "contact_requests": STAFF_ROLES,
    "answer_contact": STAFF_ROLES,
    "contact_to_ticket": STAFF_ROLES,
    # API tokens (api/tokens.py): everyone issues, lists and revokes their own; Docket
    # admins issue for a person or a mail gateway, and list and revoke everyone's.
    "issue_token": frozenset(ROLES),
    "issue_token_for_others": frozenset({"admin"}),
    # satisfaction surveys: the page and the rating of a survey link take no token (the
    # signed link proves the requester); a member's preferences are their own
    "survey_page": frozenset(ROLES),
    "survey_answer": frozenset(ROLES),
    "member_preferences": CUSTOMER_ROLES,
    # staff (of every role) choose their own language and time zone
    "staff_preferences": frozenset({"agent", "auditor", "analyst", "admin"}),
    "list_tokens": frozenset(ROLES),
    "revoke_token": frozenset(ROLES),
    # Docket's staff and support groups (api/routers/staff.py): admins run them; agents
    # read the groups and a colleague's open tickets, to reassign them
    "register_staff": frozenset({"admin"}),
    "list_staff": frozenset({"admin"}),
    "deactivate_staff": frozenset({"admin"}),
    "staff_open_tickets": STAFF_ROLES,
    "create_group": frozenset({"admin"}),
    "list_groups": STAFF_ROLES,
    "manage_group_members": frozenset({"admin"}),
    # saved views of the inbox (api/routers/views.py): agents and admins save their own
    # and read the shared ones with their own; only admins share a view with all staff
    # (and change or delete a shared one); the inbox lists the views with their counts
    "saved_views": STAFF_ROLES,
    "share_view": frozenset({"admin"}),
    "inbox_views": STAFF_ROLES,
    # custom ticket fields (api/routers/ticket_fields.py): admins define and revise them;
    # everyone reads them (customers those in force, to file with); staff change a
    # ticket's values after filing
    "ticket_fields": frozenset(ROLES),
    "manage_ticket_fields": frozenset({"admin"}),
    "set_custom_fields": STAFF_ROLES,
    # time-based automations (api/routers/automations.py): admins keep the rule book;
    # agents read it, to know what will happen to the tickets they work
    "list_automations": STAFF_ROLES,
    "manage_automations": frozenset({"admin"}),
}

# Roles that read internal notes wherever they appear (detail, search, feed).
NOTE_READERS = frozenset({"agent", "admin", "auditor"})
TICKET_READERS = frozenset({"agent", "admin", "auditor"})
"""Roles that see every ticket of every account."""


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    name: str
    account_id: UUID | None = None
    language: str | None = field(default=None, compare=False)
    """The language the person reads Docket in, as the directory knows it."""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def actor_kind(self) -> str:
        if self.role == "admin":
            return "admin"
        return "agent" if self.role == "agent" else "requester"


def person_principal(person_id: str, name: str, role: str, account_id: str | None) -> Principal:
    """A person the directory knows, as a caller: staff keep their role; an account's
    admin is its team admin, its other members requesters."""
    if account_id is None:
        return Principal(id=person_id, role=role, name=name)
    as_customer = "team_admin" if role == "admin" else "requester"
    return Principal(id=person_id, role=as_customer, name=name, account_id=UUID(account_id))


SUBSCRIPTION_READERS = frozenset({"admin", "billing_admin"})
"""An account's members who read its subscription: its admins and its billing admins."""


def sees_subscription(principal: Principal, account_id: str, member_roles: list[str]) -> bool:
    """Docket's admins see every account's subscription; a member sees their own account's
    if they are among its admins or billing admins (``member_roles``: theirs in it)."""
    if principal.role == "admin":
        return True
    return str(principal.account_id) == account_id and bool(
        SUBSCRIPTION_READERS & set(member_roles)
    )


def reads_account(principal: Principal, account_id: str) -> bool:
    """Whose account's tickets a caller who may list an account's tickets lists: a team
    admin their own account's; staff and auditors any account's."""
    return principal.role != "team_admin" or str(principal.account_id) == account_id


def may_read_notes(principal: Principal) -> bool:
    return principal.role in NOTE_READERS


def may_call(principal: Principal, endpoint: str) -> bool:
    return principal.role in ROLE_MATRIX[endpoint]


def reads_every_ticket(principal: Principal) -> bool:
    """Staff and auditors read every ticket (and the inbox's staff-only filters)."""
    return principal.role in TICKET_READERS


def may_see_ticket(principal: Principal, owner: TicketOwner) -> bool:
    """Staff and auditors see every ticket, team admins their account's, requesters theirs
    and those they follow as participants (a ticket of theirs was merged into it) or
    that copy them (CCs)."""
    if reads_every_ticket(principal):
        return True
    if principal.role == "team_admin":
        return str(principal.account_id) == owner.account_id
    if principal.role == "requester":
        follows = (
            principal.id == owner.requester_id
            or principal.id in owner.participants
            or principal.id in owner.cc_member_ids
        )
        return follows and str(principal.account_id) == owner.account_id
    return False


def sees_as_cc(principal: Principal, owner: TicketOwner) -> bool:
    """Whether the caller sees the ticket only because it copies them."""
    return (
        principal.role == "requester"
        and principal.id != owner.requester_id
        and principal.id not in owner.participants
        and principal.id in owner.cc_member_ids
    )


def may_manage_ccs(principal: Principal, owner: TicketOwner) -> bool:
    """Who copies people on a ticket, and stops: staff, its requester, and a team admin of
    its account; not someone it copies (they see it, but it is not theirs)."""
    return (
        principal.is_staff
        or principal.role == "team_admin"
        or (principal.id == owner.requester_id)
    )


def may_see_callback(principal: Principal, owner: TicketOwner) -> bool:
    """A callback's phone number: staff, auditors and the requester who asked for it."""
    return reads_every_ticket(principal) or principal.id == owner.requester_id


def may_rate(principal: Principal, owner: TicketOwner) -> bool:
    """Only the person who filed a ticket rates it."""
    return principal.id == owner.requester_id


def author_role(principal: Principal, owner: TicketOwner) -> AuthorRole:
    """How a person's message on this ticket is shown: a team admin writing on a
    colleague's ticket, or a participant, is a collaborator; a member it copies writes as
    a CC (and does not become a collaborator: removed, they get nothing more)."""
    if principal.is_staff:
        return "agent"
    if principal.id == owner.requester_id:
        return "requester"
    return "cc" if sees_as_cc(principal, owner) else "collaborator"
