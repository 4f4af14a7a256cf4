"""Custom ticket fields: definitions on the field book, and the values tickets take."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from desk.answers import Receipt
from desk.service import SupportDesk
from domain import errors
from domain.custom_fields import (
    TicketFieldBook,
    definition_from_data,
    filter_value,
    values_at_filing,
    values_changed,
)
from domain.ticket import Ticket
from tests.builders import SYNC_FAILS, admin, agent, desk_with_account, field_data, requester


def define(book: TicketFieldBook, key: str = "os", kind: str = "dropdown", **more: Any) -> None:
    book.define(data=field_data(key, kind, **more), stamp=admin())


def a_book() -> TicketFieldBook:
    book = TicketFieldBook.found(stamp=admin())
    define(book)
    define(book, "seats", "number")
    define(book, "detail", "text")
    define(book, "urgent_fix", "checkbox")
    define(book, "since", "date")
    return book


# --- each kind takes its own values ---------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("os", "linux"),
        ("seats", 12),
        ("seats", 2.5),
        ("detail", "Only on the second monitor.\nAfter sleep."),
        ("urgent_fix", True),
        ("urgent_fix", False),
        ("since", "2024-02-29"),
    ],
)
def test_each_kind_takes_a_value_of_its_kind(key: str, value: Any) -> None:
    assert values_at_filing(a_book().fields, "Files", {key: value}) == {key: value}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("os", "windows"),  # no such option
        ("os", 3),
        ("seats", "12"),
        ("seats", True),  # a boolean is no number, though Python counts it an int
        ("seats", float("inf")),
        ("detail", 5),
        ("detail", "   "),
        ("detail", "bell\x07"),
        ("detail", "x" * 1001),
        ("urgent_fix", "true"),
        ("urgent_fix", 1),
        ("since", "2024-02-30"),
        ("since", "29/02/2024"),
        ("since", "2024-02-29T10:00:00"),
        ("since", 20240229),
    ],
)
def test_a_value_not_of_its_kind_is_refused_naming_the_field(key: str, value: Any) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        values_at_filing(a_book().fields, "Files", {key: value})
    assert refused.value.field == f"custom_fields.{key}"


def test_an_unknown_key_is_refused_naming_it() -> None:
    with pytest.raises(errors.InvalidField) as refused:
        values_at_filing(a_book().fields, "Files", {"colour": "teal"})
    assert refused.value.field == "custom_fields.colour"


def test_a_required_field_of_the_tickets_product_must_be_given_when_filing() -> None:
    book = TicketFieldBook.found(stamp=admin())
    define(book, required=True, product="Files")
    with pytest.raises(errors.InvalidField) as refused:
        values_at_filing(book.fields, "Files", {})
    assert refused.value.field == "custom_fields.os"
    assert values_at_filing(book.fields, "Dash", {}) == {}  # another product's requirement


def test_a_field_of_another_product_takes_no_value() -> None:
    book = TicketFieldBook.found(stamp=admin())
    define(book, product="Dash")
    with pytest.raises(errors.InvalidField, match="Dash"):
        values_at_filing(book.fields, "Files", {"os": "linux"})


def test_an_archived_field_takes_no_new_value_and_is_no_longer_required() -> None:
    book = TicketFieldBook.found(stamp=admin())
    define(book, required=True)
    book.revise(key="os", changes={"archived": True}, stamp=admin())
    assert values_at_filing(book.fields, "Files", {}) == {}
    with pytest.raises(errors.InvalidField, match="archived"):
        values_at_filing(book.fields, "Files", {"os": "linux"})


def test_a_change_keeps_the_values_it_does_not_name_and_clears_with_none() -> None:
    fields = a_book().fields
    current = {"os": "linux", "seats": 3}
    assert values_changed(fields, "Files", current, {"seats": None}) == {"os": "linux"}
    assert values_changed(fields, "Files", current, {"detail": "x"}) == {**current, "detail": "x"}


def test_a_required_field_is_not_cleared() -> None:
    book = TicketFieldBook.found(stamp=admin())
    define(book, required=True)
    with pytest.raises(errors.InvalidField) as refused:
        values_changed(book.fields, "Files", {"os": "linux"}, {"os": None})
    assert refused.value.field == "custom_fields.os"


def test_a_stored_value_whose_option_was_removed_is_kept_as_it_stands() -> None:
    book = TicketFieldBook.found(stamp=admin())
    define(book)
    book.revise(key="os", changes={"options": field_data()["options"][1:]}, stamp=admin())
    stored = {"os": "linux"}
    assert values_changed(book.fields, "Files", stored, {"os": "linux"}) == stored
    with pytest.raises(errors.InvalidField):  # but it is not given again to another ticket
        values_changed(book.fields, "Files", {}, {"os": "linux"})


# --- the book -----------------------------------------------------------------------


def test_a_key_is_defined_once() -> None:
    book = a_book()
    with pytest.raises(errors.AlreadyExists):
        define(book)


def test_key_kind_and_product_are_fixed_once_defined() -> None:
    book = a_book()
    for change in ({"kind": "text"}, {"product": "Dash"}, {"key": "other"}):
        with pytest.raises(errors.InvalidField):
            book.revise(key="os", changes=change, stamp=admin())


def test_a_revision_that_changes_nothing_is_refused_and_counts_no_revision() -> None:
    book = a_book()
    with pytest.raises(errors.NothingChanged):
        book.revise(key="os", changes={"required": False}, stamp=admin())
    book.revise(key="os", changes={"required": True}, stamp=admin())
    assert (book.fields["os"].required, book.revisions["os"]) == (True, 2)


def test_an_unknown_field_is_not_revised() -> None:
    with pytest.raises(errors.UnknownTicketField):
        a_book().revise(key="colour", changes={"required": True}, stamp=admin())


@pytest.mark.parametrize(
    "change",
    [
        {"key": "OS"},
        {"key": "1os"},
        {"kind": "colour"},
        {"labels": {"en": "OS"}},  # French missing
        {"labels": {"en": "OS", "fr": ""}},
        {"options": [{"key": "a", "labels": {"en": "A", "fr": "A"}}] * 2},
        {"kind": "text"},  # a text field with options
        {"required": "yes"},
        {"required": True, "options": []},  # a required dropdown nobody could fill in
    ],
)
def test_a_malformed_definition_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidField):
        definition_from_data({**field_data(), **change})


def test_a_list_filter_reads_its_value_as_the_field_stores_it() -> None:
    fields = a_book().fields
    assert filter_value(fields["seats"], "12") == 12
    assert filter_value(fields["seats"], "2.5") == 2.5
    assert filter_value(fields["urgent_fix"], "true") is True
    assert filter_value(fields["os"], "windows") == "windows"  # a removed option, say
    assert filter_value(fields["detail"], "12") == "12"
    for key, text in (("seats", "many"), ("seats", "nan"), ("urgent_fix", "yes")):
        with pytest.raises(errors.InvalidField):
            filter_value(fields[key], text)


# --- on the desk (in memory) --------------------------------------------------------------


def filed_on_the_form(desk: SupportDesk, account: UUID, values: dict[str, Any]) -> Receipt:
    """R's sync ticket, filed from the form with ``values`` in its custom fields."""
    return desk.file_ticket(account_id=account, requester_id="req-1", **SYNC_FAILS,
                            stamp=requester(), custom_fields=values)  # fmt: skip


def test_filing_records_the_values_right_after_opened_in_the_same_save() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    desk.define_ticket_field(data=field_data(), stamp=admin())
    filed = filed_on_the_form(desk, account, {"os": "macos"})
    opened, values_set = desk.events.get(filed.ticket_id)
    assert isinstance(opened, Ticket.Opened)
    assert isinstance(values_set, Ticket.CustomFieldsSet)
    assert values_set.values == {"os": "macos"}
    assert filed.version == 2


def test_a_ticket_filed_without_the_form_is_not_held_to_required_fields() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    desk.define_ticket_field(data=field_data(required=True), stamp=admin())
    with pytest.raises(errors.InvalidField):
        filed_on_the_form(desk, account, {})
    by_mail = desk.file_ticket(
        account_id=account, requester_id="req-1", **SYNC_FAILS, stamp=requester()
    )
    assert [type(e) for e in desk.events.get(by_mail.ticket_id)] == [Ticket.Opened]


def test_staff_change_values_later_checked_against_the_fields_as_defined_now() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    desk.define_ticket_field(data=field_data(), stamp=admin())
    desk.define_ticket_field(data=field_data("seats", "number"), stamp=admin())
    filed = filed_on_the_form(desk, account, {"os": "linux"})
    changed = desk.set_custom_fields(
        filed.number, changes={"seats": 40}, stamp=agent(), expected_version=filed.version
    )
    last = list(desk.events.get(filed.ticket_id))[-1]
    assert isinstance(last, Ticket.CustomFieldsSet)
    assert last.values == {"os": "linux", "seats": 40}
    assert changed.version == 3
    with pytest.raises(errors.NothingChanged):
        desk.set_custom_fields(filed.number, changes={"seats": 40}, stamp=agent())
    with pytest.raises(errors.VersionMismatch):
        desk.set_custom_fields(
            filed.number, changes={"seats": 41}, stamp=agent(), expected_version=2
        )


def test_revising_a_field_rewrites_no_ticket() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    desk.define_ticket_field(data=field_data(), stamp=admin())
    filed = filed_on_the_form(desk, account, {"os": "linux"})
    before = [e.__dict__ for e in desk.events.get(filed.ticket_id)]
    revised = desk.revise_ticket_field(
        "os",
        changes={"options": field_data()["options"][1:], "labels": {"en": "OS", "fr": "SE"}},
        stamp=admin(),
        expected_revision=1,
    )
    assert revised.revision == 2
    assert [e.__dict__ for e in desk.events.get(filed.ticket_id)] == before
    with pytest.raises(errors.VersionMismatch):
        desk.revise_ticket_field(
            "os", changes={"required": True}, stamp=admin(), expected_revision=1
        )
