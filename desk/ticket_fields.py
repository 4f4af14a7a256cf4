"""Custom ticket fields: admins define and revise them on the field book (one save each).

What the fields are is read from the book itself (:meth:`desk.core.DeskCore.ticket_fields`,
as the SLA policy is); the values tickets take are set by :mod:`desk.tickets`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from desk.core import DeskCore
from domain.custom_fields import FieldDefinition, TicketFieldBook
from domain.errors import UnknownTicketField, VersionMismatch
from domain.messages import Msg
from domain.stamp import Stamp

UNSAVED = Stamp("docket", "system", "system", datetime(2000, 1, 1, tzinfo=UTC))
"""The stamp of an empty book read before any is on record: it is never saved."""


@dataclass(frozen=True)
class FieldReceipt:
    """A field as it stands after a write: its definition, revision and log position."""

    definition: FieldDefinition
    revision: int
    position: int


class TicketFields(DeskCore):
    def ticket_field_book(self) -> TicketFieldBook:
        """The book as it stands (an empty one before the first field is defined)."""
        return self._field_book() or TicketFieldBook.found(stamp=UNSAVED)

    def ticket_field(self, key: str) -> tuple[FieldDefinition, int]:
        """One field, archived or not, and its revision (``UnknownTicketField`` if none)."""
        book = self._field_book()
        if book is None:
            raise UnknownTicketField(
                Msg("No ticket field {key}: GET /v1/ticket-fields lists them.", key=key)
            )
        return book.field(key), book.revisions[key]

    def define_ticket_field(self, *, data: Mapping[str, Any], stamp: Stamp) -> FieldReceipt:
        """A new field; its key is taken once, for ever (archive a field to retire it)."""
        return self._write_field_book(lambda book: book.define(data=data, stamp=stamp), stamp)

    def revise_ticket_field(
        self,
        key: str,
        *,
        changes: Mapping[str, Any],
        stamp: Stamp,
        expected_revision: int | None = None,
    ) -> FieldReceipt:
        """New labels, options, required or archived flag; stored tickets keep their values."""

        def command(book: TicketFieldBook) -> FieldDefinition:
            book.field(key)
            if expected_revision is not None and book.revisions[key] != expected_revision:
                raise VersionMismatch(expected_revision, book.revisions[key], f"field {key}")
            return book.revise(key=key, changes=changes, stamp=stamp)

        return self._write_field_book(command, stamp)

    def _write_field_book(
        self, command: Callable[[TicketFieldBook], FieldDefinition], stamp: Stamp
    ) -> FieldReceipt:
        book, definition, at = self._saved_again(
            lambda: self._field_book() or TicketFieldBook.found(stamp=stamp),
            command,
            Msg("The ticket fields"),
        )
        return FieldReceipt(definition, book.revisions[definition.key], at)
