"""What the desk's use cases take in and answer: plain values, never aggregates.

Writes answer a :class:`Receipt` with the global position of the last event
written, which readers pass back as ``min_position`` to read their own writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.ccs import outside_cc_id
from domain.stamp import Stamp
from domain.ticket import TicketOwner


@dataclass(frozen=True)
class Receipt:
    """What a write answers: the ticket, its new version, and the log position."""

    ticket_id: UUID
    number: str
    version: int
    position: int


@dataclass(frozen=True)
class AccountReceipt:
    """What an account write answers: the account, its new version, and the log position."""

    account_id: UUID
    version: int
    position: int
    member_id: str | None = None
    """The member a write added, when it added one."""


@dataclass(frozen=True)
class ArticleReceipt:
    """What an article write answers: the article, its new version, and the log position."""

    article_id: UUID
    slug: str
    version: int
    position: int


@dataclass(frozen=True)
class MergeReceipt:
    """What a merge answers: the merged ticket's receipt, and the ticket it went into
    (its id, number and new version) from the same save."""

    source: Receipt
    target: Receipt


@dataclass(frozen=True)
class AttachmentRef:
    """An uploaded file, by content hash, to attach to a ticket with a message."""

    attachment_id: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class TicketFacts:
    """What the ways in need to know to authorise a ticket write."""

    ticket_id: UUID
    number: str
    account_id: str
    requester_id: str
    status: str
    version: int
    assignee_id: str | None
    merged_into: str | None = None
    """The ticket it was merged into, if it was: replies to it land there."""
    participants: tuple[str, ...] = ()
    ccs: tuple[tuple[str, str | None], ...] = ()
    """Who the ticket copies now: (address, member id or None), in the order added."""

    @property
    def cc_people(self) -> frozenset[str]:
        """The CCs as the outbox names its recipients: a member's id, else ``cc:<address>``."""
        return frozenset(member or outside_cc_id(address) for address, member in self.ccs)

    @property
    def cc_member_ids(self) -> frozenset[str]:
        return frozenset(member for _, member in self.ccs if member is not None)

    @property
    def owner(self) -> TicketOwner:
        return TicketOwner(
            self.ticket_id,
            self.account_id,
            self.requester_id,
            self.participants,
            cc_member_ids=self.cc_member_ids,
        )


@dataclass(frozen=True)
class Change:
    """One historical change of an imported ticket: a Ticket command, its arguments, its stamp."""

    command: str
    args: dict[str, Any]
    stamp: Stamp


@dataclass(frozen=True)
class ContactReceipt:
    """What a contact request write answers: the request, its version, and the log position."""

    request_id: UUID
    reference: str
    version: int
    position: int


@dataclass(frozen=True)
class StaffReceipt:
    """What a staff write answers: the staff member, their new version, the log position."""

    staff_id: UUID
    version: int
    position: int


@dataclass(frozen=True)
class GroupReceipt:
    """What creating a support group answers: its name and the log position."""

    name: str
    position: int


@dataclass(frozen=True)
class SavedViewReceipt:
    """What a saved view's write answers: the view, its new version, and the log position."""

    view_id: UUID
    version: int
    position: int


@dataclass(frozen=True)
class MacroReceipt:
    """What a macro write answers: the macro, its new version, and the log position."""

    macro_id: UUID
    version: int
    position: int


@dataclass(frozen=True)
class MacroText:
    """The text a macro writes on a ticket, rendered: a ``reply`` or a ``note``."""

    kind: str
    language: str
    body: str


@dataclass(frozen=True)
class MacroPreview:
    """What applying a macro would write, and how the ticket's fields would change
    (``{"field", "from", "to"}`` each), with nothing written."""

    ticket_id: UUID
    number: str
    version: int
    macro_id: UUID
    macro_version: int
    text: MacroText | None
    changes: list[dict[str, Any]]
