"""Every rule that can refuse a command has a named exception here.

The API maps each class to one problem type (its ``code``: the class's name in
kebab case, ``NotAMember`` → ``not-a-member``), so the names are part of the
contract: rename one and clients see a different ``type`` URI.
"""

from __future__ import annotations

import re
from datetime import datetime

from domain.messages import Msg, Text


class DocketError(Exception):
    """A command was refused by a rule of the support desk."""

    code = "refused"

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "code" not in vars(cls):
            cls.code = re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower()

    def __init__(self, detail: Text) -> None:
        super().__init__(str(detail))
        self.detail = str(detail)
        """In English, for logs, the command line and rejected mail."""
        self.message = detail
        """What to tell the person, in their language (:mod:`domain.messages`)."""


class InvalidField(DocketError):
    """A value is missing, of the wrong kind, or too long."""

    def __init__(self, field: str, detail: Text) -> None:
        super().__init__(detail)
        self.field = field


class PlanNotEntitled(DocketError):
    """Free and Education plans cannot file tickets."""

    def __init__(self, plan: str, filing_plans: tuple[str, ...]) -> None:
        names = ", ".join(p.title() for p in filing_plans)
        super().__init__(
            Msg(
                "The {title} plan does not include ticket support. Ask the community "
                "forum at https://community.docket.example, or upgrade to a plan that "
                "includes support: {names}.",
                title=plan.title(),
                names=names,
            )
        )
        self.plan = plan


class NotAMember(DocketError):
    """The person is not a member of the account they act for."""


class SeatsExhausted(DocketError):
    """Members would exceed the account's seats."""


class PremiumNotAvailable(DocketError):
    """Premium support needs a paid plan and at least 10 seats."""


class UnknownAccount(DocketError):
    """No account by that id."""


class UnknownTicket(DocketError):
    """No ticket by that number or id."""


class UnknownTicketField(DocketError):
    """No custom ticket field by that key."""


class UnknownStaff(DocketError):
    """No staff member by that id."""


class UnknownGroup(DocketError):
    """No support group by that name: create it first."""


class NotAnAgent(DocketError):
    """Only agents are assigned tickets and belong to support groups."""


class StaffDeactivated(DocketError):
    """A deactivated staff member is assigned no new ticket and joins no group."""


class TicketDamaged(DocketError):
    """The ticket's stored events do not verify (edited, removed, reordered or replaced):
    nothing is added to a chain that is broken, so the damage stays plain to see."""

    code = "ticket-damaged"

    def __init__(self, ticket: str, what: str) -> None:
        super().__init__(
            Msg(
                "Ticket {ticket} cannot be changed: its stored history does not verify "
                "({what}). Nothing was written. An auditor sees what was damaged with "
                "`docket replay verify --ticket {ticket}` or GET "
                "/v1/audit/verify?ticket={ticket}; the ticket takes changes again once "
                "an operator has restored its events.",
                ticket=ticket,
                what=what,
            )
        )
        self.ticket = ticket


class TicketClosed(DocketError):
    """A closed ticket takes no message or attachment until it is reopened."""


class TicketNotClosed(DocketError):
    """Only a closed ticket can be reopened or rated."""


class ReopenWindowPassed(DocketError):
    """The reopen window has passed: file a new ticket that links to this one."""

    def __init__(self, number: str, days: int) -> None:
        super().__init__(
            Msg(
                "Ticket {number} was closed more than {days} days ago and can no "
                "longer be reopened. File a new ticket and give follow_up_of={number} "
                "to link it.",
                number=number,
                days=days,
            )
        )
        self.number = number


class StatusUnchanged(DocketError):
    """A status change must change the status."""


class StatusChangeNotAllowed(DocketError):
    """The ticket cannot go from its status to that one."""


class PriorityUnchanged(DocketError):
    """A priority change must actually raise or lower the priority."""


class NothingChanged(DocketError):
    """The ticket already has that type, product or assignment."""


class StaffOnly(DocketError):
    """Only staff may add internal notes or act as an agent."""


class VersionMismatch(DocketError):
    """The ticket changed since the version the client last saw (If-Match)."""

    def __init__(self, expected: int, actual: int, what: Text | None = None) -> None:
        super().__init__(
            Msg(
                "{what} is at version {actual}, not {expected}: read it again and "
                'retry with If-Match: "{actual}".',
                what=what or Msg("The ticket"),
                actual=actual,
                expected=expected,
            )
        )
        self.expected = expected
        self.actual = actual


class NotYetFiled(DocketError):
    """The ticket as it stood before it was filed: there was none."""

    def __init__(self, number: str) -> None:
        super().__init__(
            Msg(
                "Ticket {number} had not been filed by then: ask for an instant from "
                "its filing on, or for a version from 1.",
                number=number,
            )
        )


class VersionNotReached(InvalidField):
    """The ticket as it stood at a version it has not reached: that is still to come."""

    def __init__(self, number: str, version: int, last: int) -> None:
        super().__init__(
            "version",
            Msg(
                "Ticket {number} is at version {last}; version {version} has not been "
                "written. Ask for a version from 1 to {last}, or leave version out for "
                "the ticket as it stands.",
                number=number,
                last=last,
                version=version,
            ),
        )
        self.last = last


class AsOfInTheFuture(InvalidField):
    """The ticket as it stood at an instant still to come: nobody knows it yet."""

    def __init__(self, as_of: datetime, now: datetime) -> None:
        super().__init__(
            "as_of",
            Msg(
                "{as_of} is still to come (it is {now}): ask for an instant "
                "up to now, or leave as_of out for the ticket as it stands.",
                as_of=as_of.isoformat(),
                now=now.isoformat(),
            ),
        )


class AlreadyExists(DocketError):
    """Something with that id or name is on record already."""


class MailUnreadable(DocketError):
    """An inbound email has no usable sender, or nothing to add to a ticket."""


class Busy(DocketError):
    """So many writes raced for one record that this one could not get its turn in time."""

    def __init__(self, what: Text) -> None:
        super().__init__(
            Msg(
                "{what} is being changed by many writers at once; nothing was "
                "changed. Retry in a moment.",
                what=what,
            )
        )


class TicketBusy(Busy):
    """So many writes raced for one ticket that this one could not get its turn in time."""

    def __init__(self, number: str) -> None:
        super().__init__(Msg("Ticket {number}", number=number))


class NoCallbackToMake(DocketError):
    """A callback is recorded as made only when one was requested and not made yet."""


class TicketMerged(DocketError):
    """The ticket was merged into another: it is worked there, never merged or reopened
    again (its replies land in the ticket it went into)."""

    def __init__(self, detail: Text, *, into: str) -> None:
        super().__init__(detail)
        self.into = into


class MergeIntoItself(DocketError):
    """A ticket is merged into another ticket, never into itself."""


class MergeAcrossAccounts(DocketError):
    """A ticket is merged only into a ticket of the same account."""


class MergeTargetClosed(DocketError):
    """The ticket merged into is closed: the merge asks to reopen it, or names another."""


class UnknownArticle(DocketError):
    """No help article by that id (or it was withdrawn, for anyone but its managers)."""


class ArticleWithdrawn(DocketError):
    """A withdrawn help article is neither revised nor opened again."""


class UnknownHelpSession(DocketError):
    """The help session is someone else's: a session belongs to the person who began it."""


class MailRefused(DocketError):
    """An inbound email that cannot go into any ticket; it is kept in the rejected-mail list."""

    def __init__(
        self, reason: str, detail: Text, *, answered: tuple[str, Text] | None = None
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        # (reason, detail) the mail gateway is told, when not these: an email for a ticket
        # its sender may not write to is told as for no such ticket (mail.intake)
        self.answered = answered or (reason, detail)


class UnknownContactRequest(DocketError):
    """No contact request by that reference or id."""


class ContactAlreadyATicket(DocketError):
    """A contact request turned into a ticket is worked on the ticket from then on."""

    def __init__(self, reference: str, number: str) -> None:
        super().__init__(
            Msg(
                "Contact request {reference} became ticket {number}; reply on {number} instead.",
                reference=reference,
                number=number,
            )
        )
        self.number = number


class ContactNotFileable(DocketError):
    """A contact request becomes a ticket only for a member of an account whose plan
    includes support, at the address the request came from."""


class TooManyContactRequests(DocketError):
    """The contact form's limit per client address or per email address is reached."""

    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(
            Msg(
                "Too many contact requests from here or for this address; send it "
                "again in {minutes} min (Retry-After); what you sent before "
                "is on record and will be answered.",
                minutes=minutes,
            )
        )
        self.retry_after_seconds = retry_after_seconds


# --- administration: the first admin and API tokens ------------------------------------


class AdminAlreadyExists(DocketError):
    """``docket admin init`` registers the first Docket admin only."""


class UnknownPerson(DocketError):
    """No staff member or account member has that id (as the directory knows them)."""


class UnknownToken(DocketError):
    """No token with that id that the caller may see."""


# --- files on tickets (domain/attachments.py) --------------------------------------------


class AttachmentRefused(DocketError):
    """A file the rules do not take onto a ticket (see :mod:`domain.attachments`)."""

    def __init__(self, filename: str, detail: Text) -> None:
        super().__init__(detail)
        self.filename = filename


class UnsupportedAttachmentType(AttachmentRefused):
    """Only the listed content types are taken; a browser runs none of them."""

    def __init__(self, filename: str, content_type: str, accepted: tuple[str, ...]) -> None:
        super().__init__(
            filename,
            Msg(
                "{filename}: {content_type} files are not accepted. Send it as one of "
                "{names} (application/octet-stream for any other kind of file).",
                filename=filename,
                content_type=content_type,
                names=", ".join(accepted),
            ),
        )
        self.content_type = content_type


class AttachmentContentMismatch(AttachmentRefused):
    """The bytes are not what the declared content type says they are."""

    def __init__(self, filename: str, content_type: str, found: str) -> None:
        super().__init__(
            filename,
            Msg(
                "{filename} was sent as {content_type}, but its content is {found}. "
                "Send it again with the type it really has (application/octet-stream "
                "if unsure).",
                filename=filename,
                content_type=content_type,
                found=found,
            ),
        )
        self.content_type = content_type
        self.found = found


class EmptyAttachment(AttachmentRefused):
    """A file of no bytes attaches nothing."""

    def __init__(self, filename: str) -> None:
        super().__init__(
            filename,
            Msg("{filename} is empty (0 bytes); attach the file itself.", filename=filename),
        )


class AttachmentTooLarge(AttachmentRefused):
    """A file over the attachment limit (a setting: 10 MiB unless changed)."""

    def __init__(self, filename: str, size: int, limit: int) -> None:
        super().__init__(
            filename,
            Msg(
                "{filename} is larger than {limit} bytes, the most an attachment may "
                "be. Send a smaller file, or a link to it.",
                filename=filename,
                limit=limit,
            ),
        )
        self.size = size
        self.limit = limit


class UnknownAttachment(InvalidField):
    """No upload by that id that the caller made (or may see)."""

    def __init__(self, attachment_id: str) -> None:
        super().__init__(
            "attachments",
            Msg(
                "Upload {attachment_id} with POST /v1/attachments before attaching it.",
                attachment_id=attachment_id,
            ),
        )


class TooManyCcs(DocketError):
    """A ticket copies at most ``CCS_MAX`` people."""


class UnknownCc(DocketError):
    """The address is not copied on the ticket."""


class NotCopied(DocketError):
    """Only someone copied on a ticket writes to it as a CC (and no longer once removed)."""


class UnknownSavedView(DocketError):
    """No saved view by that id that the caller may see (another agent's personal view
    answers the same)."""


class SharedViewsForAdmins(DocketError):
    """Only Docket admins save, change or delete the views shared with all staff."""


class UnknownMacro(DocketError):
    """No macro by that id that the caller may use (another agent's personal macro, or
    one archived, answers the same)."""


class SharedMacroAdminOnly(DocketError):
    """Only Docket admins write, change or archive a shared macro."""


class MacroPlaceholderUnfilled(InvalidField):
    """A macro's text names a placeholder this ticket cannot fill: nothing is written."""

    def __init__(self, placeholder: str, text_field: str) -> None:
        hints = {
            "requester.name": Msg("the requester has no name on record"),
            "agent.name": Msg("the ticket is assigned to no agent; assign it first"),
        }
        why = hints.get(placeholder, Msg("there is nothing to fill it with"))
        super().__init__(
            placeholder,
            Msg(
                "{{{{{placeholder}}}}} in {text_field} cannot be filled: {why}. Fill it in by "
                "hand, or use a macro without it.",
                placeholder=placeholder,
                text_field=text_field,
                why=why,
            ),
        )


class UnknownAutomation(DocketError):
    """No automation rule by that id in the rule book."""


class SurveyLinkInvalid(DocketError):
    """A survey link that Docket did not sign, or that was altered."""


class SurveyLinkExpired(DocketError):
    """A survey link past its lifetime."""


class SurveyAlreadyAnswered(DocketError):
    """The closing the survey asks about has its rating already."""


class SurveyNoLongerOpen(DocketError):
    """The ticket was reopened since the survey was sent: that closing is not the ticket's now."""
