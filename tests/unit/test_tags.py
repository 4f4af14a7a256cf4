"""Tags: how they are normalised and bounded, and what the ticket records of a change."""

from __future__ import annotations

import pytest

from domain import errors
from domain.tags import TAG_MAX_CHARS, TAGS_MAX, normalised_tag, normalised_tags
from domain.ticket import PUBLIC_EVENTS, STAFF_ONLY_EVENTS, Ticket
from tests.builders import agent, new_ticket, requester, system


def kinds(ticket: Ticket) -> list[str]:
    return [type(e).__name__ for e in ticket.collect_events()]


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("billing", "billing"),
        ("  Billing  ", "billing"),
        ("Refund   Request", "refund-request"),
        ("tier\t2\nfollow up", "tier-2-follow-up"),
        ("VIP:gold", "vip:gold"),
        ("v1.2_beta", "v1.2_beta"),
        ("x" * TAG_MAX_CHARS, "x" * TAG_MAX_CHARS),
    ],
)
def test_a_tag_is_kept_trimmed_lower_case_with_inner_blanks_as_one_dash(
    raw: str, tag: str
) -> None:
    assert normalised_tag("add", raw) == tag


@pytest.mark.parametrize(
    "raw", ["", "   ", "x" * (TAG_MAX_CHARS + 1), "café", "a/b", "-lead", "#hash", "a,b", 7]
)
def test_a_tag_outside_the_alphabet_or_too_long_is_refused_naming_the_field(raw: object) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        normalised_tag("remove", raw)
    assert refused.value.field == "remove"
    assert "e.g." in refused.value.detail or "shorten" in refused.value.detail


def test_a_list_of_tags_keeps_each_once_in_order_and_is_bounded() -> None:
    assert normalised_tags("add", ["B", "a", "b ", "A"]) == ["b", "a"]
    with pytest.raises(errors.InvalidField) as refused:
        normalised_tags("add", [f"t{i}" for i in range(TAGS_MAX + 1)])
    assert refused.value.field == "add"
    with pytest.raises(errors.InvalidField):
        normalised_tags("add", "billing")  # a string is not a list of tags


def test_changing_tags_records_only_what_changes() -> None:
    ticket = new_ticket()
    ticket.collect_events()
    ticket.change_tags(add=["Billing", "refund"], remove=[], stamp=agent())
    assert kinds(ticket) == ["TagsAdded"]
    assert ticket.tags == ("billing", "refund")
    ticket.change_tags(add=["billing", "vip"], remove=["refund", "never-had"], stamp=agent())
    events = ticket.collect_events()
    assert [type(e).__name__ for e in events] == ["TagsRemoved", "TagsAdded"]
    assert [e.tags for e in events] == [["refund"], ["vip"]]  # type: ignore[attr-defined]
    assert ticket.tags == ("billing", "vip")


def test_a_change_that_changes_nothing_records_nothing() -> None:
    ticket = new_ticket()
    ticket.change_tags(add=["billing"], remove=[], stamp=agent())
    ticket.collect_events()
    ticket.change_tags(add=["BILLING"], remove=["absent"], stamp=agent())
    assert kinds(ticket) == []


def test_a_tag_both_added_and_removed_is_refused() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.InvalidField) as refused:
        ticket.change_tags(add=["a"], remove=["A"], stamp=agent())
    assert refused.value.field == "remove"


def test_a_ticket_carries_at_most_the_bounded_count_of_tags() -> None:
    ticket = new_ticket()
    ticket.change_tags(add=[f"t{i}" for i in range(TAGS_MAX)], remove=[], stamp=agent())
    ticket.collect_events()
    with pytest.raises(errors.InvalidField) as refused:
        ticket.change_tags(add=["one-more"], remove=[], stamp=agent())
    assert refused.value.field == "add" and "Remove some" in refused.value.detail
    ticket.change_tags(add=["one-more"], remove=["t0"], stamp=agent())  # a swap fits
    assert len(ticket.tags) == TAGS_MAX


def test_customers_cannot_tag_but_docket_itself_can() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.StaffOnly):
        ticket.change_tags(add=["mine"], remove=[], stamp=requester())
    ticket.change_tags(add=["auto"], remove=[], stamp=system())
    assert ticket.tags == ("auto",)


def test_tags_can_change_on_a_closed_ticket() -> None:
    ticket = new_ticket()
    ticket.change_status(to_status="closed", stamp=agent())
    ticket.change_tags(add=["done"], remove=[], stamp=agent())
    assert ticket.tags == ("done",)


def test_tag_events_are_staff_only_and_move_no_customer_version() -> None:
    assert {Ticket.TagsAdded, Ticket.TagsRemoved} <= set(STAFF_ONLY_EVENTS)
    assert not {Ticket.TagsAdded, Ticket.TagsRemoved} & set(PUBLIC_EVENTS)
    ticket = new_ticket()
    before = ticket.customer_version, ticket.requester_version
    ticket.change_tags(add=["x"], remove=[], stamp=agent())
    assert (ticket.customer_version, ticket.requester_version) == before
    assert ticket.version > before[0]
