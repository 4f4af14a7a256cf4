"""Satisfaction surveys: which closings ask for a rating, and what a survey link records."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.answers import Change
from desk.service import SupportDesk
from domain import errors
from domain.surveys import SURVEY_LIFETIME, SurveyLink, read_survey_link
from domain.ticket import Ticket
from tests.builders import SYNC_FAILS, T0, agent, desk_with_account, file, later, requester

SECRET = b"the server's mail secret"


def events(desk: SupportDesk, ticket_id: UUID) -> list[object]:
    return list(desk.repository.event_store.get(ticket_id))


def surveys(desk: SupportDesk, ticket_id: UUID) -> list[int]:
    """The cycles whose closing asked the requester for a rating."""
    return [e.cycle for e in events(desk, ticket_id) if isinstance(e, Ticket.SurveyOffered)]


def closed_ticket(desk: SupportDesk, account: UUID) -> UUID:
    filed = file(desk, account)
    desk.change_status(filed.ticket_id, to_status="closed", stamp=agent(later(hours=1)))
    return filed.ticket_id


def link_for(ticket_id: UUID, cycle: int = 1) -> SurveyLink:
    return SurveyLink.for_closing(ticket_id, cycle, "en", later(hours=1))


# --- the link -------------------------------------------------------------------------


def test_a_survey_link_reads_back_as_the_closing_it_was_signed_for() -> None:
    link = SurveyLink.for_closing(uuid4(), 3, "fr", T0)
    assert read_survey_link(link.token(SECRET), SECRET, T0) == link
    assert link.expires_at == T0 + SURVEY_LIFETIME


def test_a_survey_link_works_for_fourteen_days_after_the_closing_and_not_a_second_more() -> None:
    token = SurveyLink.for_closing(uuid4(), 1, "en", T0).token(SECRET)
    assert read_survey_link(token, SECRET, T0 + timedelta(days=14) - timedelta(seconds=1))
    with pytest.raises(errors.SurveyLinkExpired, match="14 days after the ticket closed"):
        read_survey_link(token, SECRET, T0 + timedelta(days=14))


def test_a_link_signed_with_another_secret_is_refused() -> None:
    token = SurveyLink.for_closing(uuid4(), 1, "en", T0).token(b"someone else's secret")
    with pytest.raises(errors.SurveyLinkInvalid):
        read_survey_link(token, SECRET, T0)


@pytest.mark.parametrize("part", [0, 1, 2, 3], ids=["ticket", "cycle", "language", "expiry"])
def test_a_link_whose_ticket_cycle_language_or_expiry_is_altered_is_refused(part: int) -> None:
    token = SurveyLink.for_closing(uuid4(), 1, "en", T0).token(SECRET)
    parts = token.split(".")
    parts[part] = {0: uuid4().hex, 1: "2", 2: "fr", 3: str(int(parts[3]) + 86400 * 365)}[part]
    with pytest.raises(errors.SurveyLinkInvalid):
        read_survey_link(".".join(parts), SECRET, T0)


@given(position=st.integers(min_value=0), char=st.characters())
def test_any_one_character_changed_in_a_link_is_refused(position: int, char: str) -> None:
    token = SurveyLink.for_closing(UUID(int=7), 1, "en", T0).token(SECRET)
    i = position % len(token)
    altered = token[:i] + char + token[i + 1 :]
    if altered == token:
        return
    with pytest.raises(errors.SurveyLinkInvalid):
        read_survey_link(altered, SECRET, T0)


@pytest.mark.parametrize("token", ["", "x", "é" * 90, "." * 4, "0" * 32 + ".1.en.1.", "a/b"])
def test_anything_that_is_not_a_link_is_refused_as_one_docket_did_not_send(token: str) -> None:
    with pytest.raises(errors.SurveyLinkInvalid):
        read_survey_link(token, SECRET, T0)


def test_without_a_secret_no_link_is_made_and_none_is_taken() -> None:
    link = SurveyLink.for_closing(uuid4(), 1, "en", T0)
    with pytest.raises(ValueError, match="a mail secret is needed"):
        link.token(b"")
    with pytest.raises(errors.SurveyLinkInvalid):
        read_survey_link(link.token(SECRET), b"", T0)


# --- which closings ask -----------------------------------------------------------------


def test_a_closing_asks_its_requester_for_a_rating_in_the_same_save() -> None:
    desk = SupportDesk()
    filed = file(desk, desk_with_account(desk))
    closed = desk.change_status(filed.ticket_id, to_status="closed", stamp=agent(later(hours=1)))
    kinds = [type(e).__name__ for e in events(desk, filed.ticket_id)]
    assert kinds[-2:] == ["StatusChanged", "SurveyOffered"]
    assert closed.version == 3  # the survey is the requester's to see: it is their email
    assert surveys(desk, filed.ticket_id) == [1]


def test_a_requester_closing_their_own_ticket_is_asked_too() -> None:
    desk = SupportDesk()
    filed = file(desk, desk_with_account(desk))
    desk.change_status(filed.ticket_id, to_status="closed", stamp=requester(later(hours=1)))
    assert surveys(desk, filed.ticket_id) == [1]


def test_a_change_that_does_not_close_asks_nothing() -> None:
    desk = SupportDesk()
    filed = file(desk, desk_with_account(desk))
    desk.change_status(filed.ticket_id, to_status="pending", stamp=agent())
    desk.add_message(filed.ticket_id, author_id="agent-1", author_role="agent", body="b",
                     attachments=[], stamp=agent())  # fmt: skip
    assert surveys(desk, filed.ticket_id) == []


def test_a_requester_who_opted_out_is_asked_nothing_until_they_opt_in_again() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    desk.set_member_preferences(account, member_id="req-1", surveys=False, stamp=requester())
    ticket = closed_ticket(desk, account)
    assert surveys(desk, ticket) == []
    desk.set_member_preferences(account, member_id="req-1", surveys=True, stamp=requester())
    desk.reopen(ticket, stamp=requester(later(hours=2)))
    desk.change_status(ticket, to_status="closed", stamp=agent(later(hours=3)))
    assert surveys(desk, ticket) == [2]


def test_setting_a_preference_to_what_it_is_changes_nothing() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    with pytest.raises(errors.NothingChanged, match="on for you already"):
        desk.set_member_preferences(account, member_id="req-1", surveys=True, stamp=requester())
    with pytest.raises(errors.NotAMember):
        desk.set_member_preferences(account, member_id="nobody", surveys=False, stamp=requester())


def test_a_requester_no_longer_a_member_is_asked_nothing() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    filed = file(desk, account)
    desk.remove_member(account, member_id="req-1", stamp=agent())
    desk.change_status(filed.ticket_id, to_status="closed", stamp=agent(later(hours=1)))
    assert surveys(desk, filed.ticket_id) == []


def test_an_imported_ticket_asks_nothing_even_when_closed_here_later() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    receipt, refused = desk.import_ticket(
        ticket_id=uuid4(),
        account_id=account,
        filing={**SYNC_FAILS, "topic": "sync", "channel": "email", "requester_id": "req-1"},
        stamp=replace(requester(), via="email"),  # as the importers stamp the filing
        changes=[],
    )
    assert receipt is not None and refused == []
    desk.change_status(receipt.ticket_id, to_status="closed", stamp=agent(later(days=1)))
    assert surveys(desk, receipt.ticket_id) == []


def test_a_ticket_imported_closed_and_reopened_then_closed_here_asks_nothing() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    closer = replace(agent(), via="import")
    receipt, _ = desk.import_ticket(
        ticket_id=uuid4(),
        account_id=account,
        filing={**SYNC_FAILS, "topic": "sync", "channel": "web", "requester_id": "req-1"},
        stamp=requester(),
        changes=[Change("change_status", {"to_status": "closed"}, closer)],
    )
    assert receipt is not None
    desk.reopen(receipt.ticket_id, stamp=requester(later(days=1)))
    desk.change_status(receipt.ticket_id, to_status="closed", stamp=agent(later(days=2)))
    assert surveys(desk, receipt.ticket_id) == []


def test_a_ticket_merged_into_another_is_asked_nothing_and_its_target_asks_once() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    duplicate, target = file(desk, account), file(desk, account)
    desk.merge_ticket(duplicate.ticket_id, into=target.ticket_id, stamp=agent(later(hours=1)))
    assert surveys(desk, duplicate.ticket_id) == []
    merged: Ticket = desk.repository.get(duplicate.ticket_id)
    assert merged.status == "closed" and not merged.survey_due()
    desk.change_status(target.ticket_id, to_status="closed", stamp=agent(later(hours=2)))
    assert surveys(desk, target.ticket_id) == [1]  # the request, asked once, where it went


def test_each_closing_cycle_asks_once() -> None:
    desk = SupportDesk()
    ticket = closed_ticket(desk, desk_with_account(desk))
    desk.add_internal_note(ticket, author_id="agent-1", body="n", stamp=agent(later(hours=2)))
    desk.reopen(ticket, stamp=requester(later(hours=3)))
    desk.change_status(ticket, to_status="closed", stamp=agent(later(hours=4)))
    assert surveys(desk, ticket) == [1, 2]


# --- what a link records --------------------------------------------------------------------


def test_a_survey_answer_is_the_requesters_rating_through_the_web_caused_by_the_survey() -> None:
    desk = SupportDesk()
    ticket = closed_ticket(desk, desk_with_account(desk))
    link = link_for(ticket)
    assert desk.check_survey(link, at=later(hours=2)) == "T-000001"
    desk.answer_survey(link, score=4, comment="Quick.", at=later(hours=2), correlation_id="c-9")
    rated = events(desk, ticket)[-1]
    assert isinstance(rated, Ticket.SatisfactionRated)
    assert (rated.score, rated.comment) == (4, "Quick.")
    stamp = rated.stamp
    assert (stamp.actor_id, stamp.actor_kind, stamp.via) == ("req-1", "requester", "web")
    assert stamp.causation_id == f"survey:{ticket}:c1"
    assert stamp.correlation_id == "c-9"


def test_a_survey_link_records_one_rating_and_answers_a_second_click_that_it_has_it() -> None:
    desk = SupportDesk()
    ticket = closed_ticket(desk, desk_with_account(desk))
    link = link_for(ticket)
    desk.answer_survey(link, score=5, comment="", at=later(hours=2), correlation_id="")
    with pytest.raises(errors.SurveyAlreadyAnswered, match="already recorded"):
        desk.answer_survey(link, score=1, comment="", at=later(hours=3), correlation_id="")
    with pytest.raises(errors.SurveyAlreadyAnswered):
        desk.check_survey(link, at=later(hours=3))
    assert [e.score for e in events(desk, ticket) if isinstance(e, Ticket.SatisfactionRated)] == [
        5
    ]


def test_a_closing_rated_on_the_web_first_takes_no_rating_through_its_link() -> None:
    desk = SupportDesk()
    ticket = closed_ticket(desk, desk_with_account(desk))
    desk.rate_satisfaction(ticket, score=3, comment="", stamp=requester(later(hours=2)))
    with pytest.raises(errors.SurveyAlreadyAnswered):
        desk.answer_survey(link_for(ticket), score=5, comment="", at=later(hours=3),
                           correlation_id="")  # fmt: skip


def test_the_link_of_an_earlier_closing_is_refused_once_the_ticket_is_reopened() -> None:
    desk = SupportDesk()
    ticket = closed_ticket(desk, desk_with_account(desk))
    desk.reopen(ticket, stamp=requester(later(hours=2)))
    with pytest.raises(errors.SurveyNoLongerOpen, match="reopened"):
        desk.check_survey(link_for(ticket), at=later(hours=3))
    desk.change_status(ticket, to_status="closed", stamp=agent(later(hours=4)))
    with pytest.raises(errors.SurveyNoLongerOpen):  # closed again: the new link, not the old
        desk.answer_survey(link_for(ticket), score=5, comment="", at=later(hours=5),
                           correlation_id="")  # fmt: skip
    desk.answer_survey(link_for(ticket, 2), score=5, comment="", at=later(hours=5),
                       correlation_id="")  # fmt: skip


def test_a_link_for_a_closing_that_asked_nothing_records_nothing() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    desk.set_member_preferences(account, member_id="req-1", surveys=False, stamp=requester())
    ticket = closed_ticket(desk, account)
    with pytest.raises(errors.SurveyNoLongerOpen):
        desk.answer_survey(link_for(ticket), score=5, comment="", at=later(hours=2),
                           correlation_id="")  # fmt: skip


def test_a_link_signed_for_no_ticket_is_one_docket_did_not_send() -> None:
    desk = SupportDesk()
    desk_with_account(desk)
    with pytest.raises(errors.SurveyLinkInvalid):
        desk.check_survey(link_for(uuid4()), at=later(hours=2))


@pytest.mark.parametrize("score", [0, 6, True])
def test_a_survey_answer_takes_a_whole_score_from_1_to_5(score: int) -> None:
    desk = SupportDesk()
    ticket = closed_ticket(desk, desk_with_account(desk))
    with pytest.raises(errors.InvalidField):
        desk.answer_survey(link_for(ticket), score=score, comment="", at=later(hours=2),
                           correlation_id="")  # fmt: skip
