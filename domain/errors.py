"""Every rule that can refuse a command has a named exception here.

The API maps each class to one problem type (its ``code``), so the names are
part of the contract: rename one and clients see a different ``type`` URI.
"""

from __future__ import annotations

from datetime import datetime


class DocketError(Exception):
    """A command was refused by a rule of the support desk."""

    code = "refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidField(DocketError):
    """A value is missing, of the wrong kind, or too long."""

    code = "invalid-field"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class PlanNotEntitled(DocketError):
    """Free and Education plans cannot file tickets."""

    code = "plan-not-entitled"

    def __init__(self, plan: str, filing_plans: tuple[str, ...]) -> None:
        names = ", ".join(p.title() for p in filing_plans)
        super().__init__(
            f"The {plan.title()} plan does not include ticket support. Ask the community "
            f"forum at https://community.docket.example, or upgrade to a plan that "
            f"includes support: {names}."
        )
        self.plan = plan


class NotAMember(DocketError):
    """The person is not a member of the account they act for."""

    code = "not-a-member"


class SeatsExhausted(DocketError):
    """Members would exceed the account's seats."""

    code = "seats-exhausted"


class PremiumNotAvailable(DocketError):
    """Premium support needs a paid plan and at least 10 seats."""

    code = "premium-not-available"


class UnknownAccount(DocketError):
    code = "unknown-account"


class UnknownTicket(DocketError):
    code = "unknown-ticket"


class UnknownStaff(DocketError):
    code = "unknown-staff"


class UnknownGroup(DocketError):
    """No support group by that name: create it first."""

    code = "unknown-group"


class NotAnAgent(DocketError):
    """Only agents are assigned tickets and belong to support groups."""

    code = "not-an-agent"


class StaffDeactivated(DocketError):
    """A deactivated staff member is assigned no new ticket and joins no group."""

    code = "staff-deactivated"


class TicketClosed(DocketError):
    """A closed ticket takes no message or attachment until it is reopened."""

    code = "ticket-closed"


class TicketNotClosed(DocketError):
    """Only a closed ticket can be reopened or rated."""

    code = "ticket-not-closed"


class ReopenWindowPassed(DocketError):
    """The reopen window has passed: file a new ticket that links to this one."""

    code = "reopen-window-passed"

    def __init__(self, number: str, days: int) -> None:
        super().__init__(
            f"Ticket {number} was closed more than {days} days ago and can no longer be "
            f"reopened. File a new ticket and give follow_up_of={number} to link it."
        )
        self.number = number


class StatusUnchanged(DocketError):
    code = "status-unchanged"


class StatusChangeNotAllowed(DocketError):
    code = "status-change-not-allowed"


class PriorityUnchanged(DocketError):
    """A priority change must actually raise or lower the priority."""

    code = "priority-unchanged"


class NothingChanged(DocketError):
    """The ticket already has that type, product or assignment."""

    code = "nothing-changed"


class StaffOnly(DocketError):
    """Only staff may add internal notes or act as an agent."""

    code = "staff-only"


class VersionMismatch(DocketError):
    """The ticket changed since the version the client last saw (If-Match)."""

    code = "version-mismatch"

    def __init__(self, expected: int, actual: int, what: str = "ticket") -> None:
        super().__init__(
            f"The {what} is at version {actual}, not {expected}: read it again and "
            f'retry with If-Match: "{actual}".'
        )
        self.expected = expected
        self.actual = actual


class NotYetFiled(DocketError):
    """The ticket as it stood before it was filed: there was none."""

    code = "not-yet-filed"

    def __init__(self, number: str) -> None:
        super().__init__(
            f"Ticket {number} had not been filed by then: ask for an instant from its "
            "filing on, or for a version from 1."
        )


class VersionNotReached(InvalidField):
    """The ticket as it stood at a version it has not reached: that is still to come."""

    code = "version-not-reached"

    def __init__(self, number: str, version: int, last: int) -> None:
        super().__init__(
            "version",
            f"Ticket {number} is at version {last}; version {version} has not been written. "
            f"Ask for a version from 1 to {last}, or leave version out for the ticket as "
            "it stands.",
        )
        self.last = last


class AsOfInTheFuture(InvalidField):
    """The ticket as it stood at an instant still to come: nobody knows it yet."""

    code = "as-of-in-the-future"

    def __init__(self, as_of: datetime, now: datetime) -> None:
        super().__init__(
            "as_of",
            f"{as_of.isoformat()} is still to come (it is {now.isoformat()}): ask for an "
            "instant up to now, or leave as_of out for the ticket as it stands.",
        )


class AlreadyExists(DocketError):
    code = "already-exists"


class MailUnreadable(DocketError):
    """An inbound email has no usable sender, or nothing to add to a ticket."""

    code = "mail-unreadable"


class Busy(DocketError):
    """So many writes raced for one record that this one could not get its turn in time."""

    code = "busy"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what[:1].upper()}{what[1:]} is being changed by many writers at once; nothing "
            "was changed. Retry in a moment."
        )


class TicketBusy(Busy):
    """So many writes raced for one ticket that this one could not get its turn in time."""

    code = "ticket-busy"

    def __init__(self, number: str) -> None:
        super().__init__(f"ticket {number}")


class NoCallbackToMake(DocketError):
    """A callback is recorded as made only when one was requested and not made yet."""

    code = "no-callback-to-make"


class UnknownArticle(DocketError):
    """No help article by that id (or it was withdrawn, for anyone but its managers)."""

    code = "unknown-article"


class ArticleWithdrawn(DocketError):
    """A withdrawn help article is neither revised nor opened again."""

    code = "article-withdrawn"


class UnknownHelpSession(DocketError):
    """The help session is someone else's: a session belongs to the person who began it."""

    code = "unknown-help-session"


class MailRefused(DocketError):
    """An inbound email that cannot go into any ticket; it is kept in the rejected-mail list."""

    code = "mail-refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class UnknownContactRequest(DocketError):
    """No contact request by that reference or id."""

    code = "unknown-contact-request"


class ContactAlreadyATicket(DocketError):
    """A contact request turned into a ticket is worked on the ticket from then on."""

    code = "contact-already-a-ticket"

    def __init__(self, reference: str, number: str) -> None:
        super().__init__(
            f"Contact request {reference} became ticket {number}; reply on {number} instead."
        )
        self.number = number


class ContactNotFileable(DocketError):
    """A contact request becomes a ticket only for a member of an account whose plan
    includes support, at the address the request came from."""

    code = "contact-not-fileable"


class TooManyContactRequests(DocketError):
    """The contact form's limit per client address or per email address is reached."""

    code = "too-many-contact-requests"

    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(
            f"Too many contact requests from here or for this address; send it again in "
            f"{minutes} minute{'s' if minutes > 1 else ''} (Retry-After); what you sent "
            "before is on record and will be answered."
        )
        self.retry_after_seconds = retry_after_seconds


# --- administration: the first admin and API tokens ------------------------------------


class AdminAlreadyExists(DocketError):
    """``docket admin init`` registers the first Docket admin only."""

    code = "admin-already-exists"


class UnknownPerson(DocketError):
    """No staff member or account member has that id (as the directory knows them)."""

    code = "unknown-person"


class UnknownToken(DocketError):
    """No token with that id that the caller may see."""

    code = "unknown-token"
