"""CCs on a ticket: addresses kept one way, a bound on how many, who writes as a CC."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import errors
from domain.ccs import checked_cc_address, outside_cc_id
from domain.ticket import PUBLIC_EVENTS, Ticket
from domain.vocabulary import CCS_MAX
from tests.builders import agent, new_ticket, requester


def cc(ticket: Ticket, email: str, member_id: str | None = None) -> None:
    ticket.add_cc(email=email, member_id=member_id, stamp=agent())


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana.Lopez@Example.COM ", "ana.lopez@example.com"),
        ("ops+docket@sub.example.org", "ops+docket@sub.example.org"),
    ],
)
def test_an_address_is_kept_stripped_and_lower_cased(typed: str, kept: str) -> None:
    assert checked_cc_address(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@localhost",
        "Ana <ana@example.com>",
        "ana@example.com, bob@example.com",
        "ana bob@example.com",
        'ana"@example.com',
        "ana@exa\nmple.com",
        "ana@@example.com",
        "ana@example..com",
        "ana@example.com.",
        "a" * 195 + "@x.com",
    ],
)
def test_anything_but_one_plain_address_is_refused_naming_the_email_field(typed: str) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        checked_cc_address(typed)
    assert refused.value.field == "email"


@given(st.emails())
def test_every_well_formed_address_is_taken_and_kept_the_same_twice(address: str) -> None:
    kept = checked_cc_address(address)
    assert kept == address.lower().strip()
    assert checked_cc_address(kept.upper()) == kept


def test_adding_a_cc_records_one_fact_with_the_address_as_kept_and_the_member() -> None:
    ticket = new_ticket()
    ticket.collect_events()
    cc(ticket, " Mia@Acme.TEST", member_id="mia-1")
    (added,) = ticket.collect_events()
    assert isinstance(added, Ticket.CcAdded)
    assert (added.email, added.member_id) == ("mia@acme.test", "mia-1")
    assert ticket.cc_people == {"mia-1"}
    assert isinstance(added, PUBLIC_EVENTS)  # customers who see the ticket see its CCs


def test_the_same_address_twice_changes_nothing() -> None:
    ticket = new_ticket()
    cc(ticket, "out@partner.test")
    with pytest.raises(errors.NothingChanged):
        cc(ticket, "OUT@partner.test")


def test_a_ticket_copies_at_most_the_bound_and_one_more_is_refused() -> None:
    ticket = new_ticket()
    for n in range(CCS_MAX):
        cc(ticket, f"p{n}@partner.test")
    with pytest.raises(errors.TooManyCcs):
        cc(ticket, "one-more@partner.test")
    ticket.remove_cc(email="p0@partner.test", stamp=agent())
    cc(ticket, "one-more@partner.test")  # room again once one is removed
    assert len(ticket.ccs) == CCS_MAX


def test_the_requester_is_not_copied_on_their_own_ticket() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.InvalidField):
        cc(ticket, "r@acme.test", member_id="req-1")


def test_a_closed_ticket_copies_no_one_new_but_still_stops_copying() -> None:
    ticket = new_ticket()
    cc(ticket, "out@partner.test")
    ticket.change_status(to_status="closed", stamp=agent())
    with pytest.raises(errors.TicketClosed):
        cc(ticket, "late@partner.test")
    ticket.remove_cc(email="OUT@partner.test ", stamp=agent())
    assert ticket.ccs == {}


def test_removing_an_address_the_ticket_does_not_copy_is_refused() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.UnknownCc):
        ticket.remove_cc(email="nobody@partner.test", stamp=agent())


def test_only_someone_copied_now_writes_as_a_cc() -> None:
    ticket = new_ticket()
    outside = outside_cc_id("out@partner.test")
    with pytest.raises(errors.NotCopied):
        ticket.add_message(
            author_id=outside, author_role="cc", body="hi", attachments=[], stamp=requester()
        )
    cc(ticket, "out@partner.test")
    ticket.add_message(
        author_id=outside, author_role="cc", body="hi", attachments=[], stamp=requester()
    )
    ticket.remove_cc(email="out@partner.test", stamp=agent())
    with pytest.raises(errors.NotCopied):
        ticket.add_message(
            author_id=outside, author_role="cc", body="again", attachments=[], stamp=requester()
        )


def test_a_cc_writing_makes_no_collaborator_and_reopens_a_pending_ticket() -> None:
    ticket = new_ticket()
    cc(ticket, "mia@acme.test", member_id="mia-1")
    ticket.change_status(to_status="pending", stamp=agent())
    ticket.add_message(
        author_id="mia-1", author_role="cc", body="Still broken", attachments=[], stamp=requester()
    )
    assert ticket.collaborators == set()  # removed as CC, she gets nothing more
    assert ticket.status == "open"
