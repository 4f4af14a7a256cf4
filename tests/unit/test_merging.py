"""Merging a duplicate into another ticket: the rules, the facts on both tickets, and
where replies to the merged ticket go (the desk on its in-memory store)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from desk.access import Principal, author_role, may_see_ticket
from desk.service import SupportDesk
from domain import errors
from domain.ticket import Ticket, TicketOwner, sla_after
from tests.builders import (
    SYNC_FAILS,
    agent,
    desk_with_account,
    file,
    later,
    requester,
    system,
)


def ticket(number: str, *, by: str = "req-1", account: str = "acct-1") -> Ticket:
    return Ticket.file(
        ticket_id=uuid4(),
        number=number,
        **SYNC_FAILS,
        topic="sync",
        channel="web",
        requester_id=by,
        account_id=account,
        stamp=requester(who=by),
    )


def kinds(t: Ticket) -> list[str]:
    return [type(e).__name__ for e in t.collect_events()]


def two_tickets(*, target_by: str = "req-1") -> tuple[Ticket, Ticket]:
    source, target = ticket("T-000001"), ticket("T-000002", by=target_by)
    source.collect_events()
    target.collect_events()
    return source, target


# --- the rules ------------------------------------------------------------------------


def test_a_merge_closes_the_source_with_a_link_and_records_it_on_the_target() -> None:
    source, target = two_tickets(target_by="req-2")
    source.merge_into(target, stamp=agent(later(hours=1)))
    assert kinds(source) == ["MergedInto"] and kinds(target) == ["MergeReceived"]
    assert (source.status, source.merged_into, source.merged_into_id) == (
        "closed", "T-000002", target.id,
    )  # fmt: skip
    assert source.closed_at == later(hours=1)
    assert (target.status, target.merged_from, target.participants) == (
        "open", ["T-000001"], {"req-1"},
    )  # fmt: skip


def test_the_merge_is_what_customers_see_of_both_tickets() -> None:
    source, target = two_tickets()
    source.merge_into(target, stamp=agent())
    assert source.customer_version == source.version == 2
    assert target.customer_version == target.version == 2


def test_the_same_requester_on_both_tickets_is_no_participant_of_their_own_ticket() -> None:
    source, target = two_tickets()
    source.merge_into(target, stamp=agent())
    assert target.participants == set()


def test_the_merge_stops_the_sources_clocks_as_the_views_fold_it() -> None:
    source, target = two_tickets()
    opened = source.sla
    source.merge_into(target, stamp=agent(later(hours=2)))
    (merged,) = [e for e in source.collect_events() if isinstance(e, Ticket.MergedInto)]
    assert source.sla == opened.status_changed("closed", later(hours=2))
    assert sla_after(opened, merged) == source.sla


def test_only_staff_merge_tickets() -> None:
    source, target = two_tickets()
    with pytest.raises(errors.StaffOnly):
        source.merge_into(target, stamp=requester())
    assert kinds(source) == kinds(target) == []


def test_a_ticket_is_never_merged_into_itself() -> None:
    source, _ = two_tickets()
    with pytest.raises(errors.MergeIntoItself):
        source.merge_into(source, stamp=agent())
    assert kinds(source) == []


def test_a_merge_never_crosses_accounts() -> None:
    source, other = ticket("T-000001"), ticket("T-000002", by="req-9", account="acct-2")
    with pytest.raises(errors.MergeAcrossAccounts) as refused:
        source.merge_into(other, stamp=agent())
    assert "T-000002" in refused.value.detail
    assert source.merged_into is None and other.merged_from == []


def refused_after_a_merge(
    done: tuple[int, int], tried: tuple[int, int]
) -> tuple[list[Ticket], errors.TicketMerged]:
    """T-000001 to T-000003, one merged into another (``done``, by index), then a merge
    ``tried`` that this one forbids: the three tickets and the refusal."""
    tickets = [*two_tickets(), ticket("T-000003")]
    tickets[done[0]].merge_into(tickets[done[1]], stamp=agent())
    with pytest.raises(errors.TicketMerged) as refused:
        tickets[tried[0]].merge_into(tickets[tried[1]], stamp=agent())
    return tickets, refused.value


def test_a_merged_ticket_is_not_merged_again_and_is_told_where_it_went() -> None:
    (_, _, third), refusal = refused_after_a_merge(done=(0, 1), tried=(0, 2))
    assert refusal.into == "T-000002"
    assert third.merged_from == []


def test_merging_into_a_merged_ticket_is_refused_naming_the_ticket_it_went_into() -> None:
    (first, _, _), refusal = refused_after_a_merge(done=(1, 2), tried=(0, 1))
    assert refusal.into == "T-000003"
    assert "merge T-000001 into T-000003" in refusal.detail
    assert first.merged_into is None


def test_a_closed_ticket_is_not_merged_before_it_is_reopened() -> None:
    source, target = two_tickets()
    source.change_status(to_status="closed", stamp=agent())
    with pytest.raises(errors.TicketClosed):
        source.merge_into(target, stamp=agent())
    assert target.merged_from == []


def test_a_closed_target_is_refused_unless_the_merge_reopens_it() -> None:
    source, target = two_tickets()
    target.change_status(to_status="closed", stamp=agent())
    with pytest.raises(errors.MergeTargetClosed) as refused:
        source.merge_into(target, stamp=agent())
    assert "reopen_target" in refused.value.detail
    assert source.merged_into is None

    source.merge_into(target, stamp=agent(), reopen_target=lambda t: t.reopen(stamp=agent()))
    assert target.status == "open" and target.merged_from == ["T-000001"]
    assert kinds(target)[-2:] == ["Reopened", "MergeReceived"]


def test_a_merged_ticket_is_never_reopened() -> None:
    source, target = two_tickets()
    source.merge_into(target, stamp=agent())
    with pytest.raises(errors.TicketMerged):
        source.reopen(stamp=requester())
    assert source.status == "closed"


def test_the_source_requester_follows_the_target_as_a_participant_and_writes_as_collaborator() -> (
    None
):
    source, target = two_tickets(target_by="req-2")
    member = Principal("req-1", "requester", "R", UUID(int=1))
    owner = TicketOwner(target.id, str(UUID(int=1)), "req-2")
    assert not may_see_ticket(member, owner)
    source.merge_into(target, stamp=agent())
    following = TicketOwner(target.id, str(UUID(int=1)), "req-2", tuple(target.participants))
    assert may_see_ticket(member, following)
    assert author_role(member, following) == "collaborator"
    stranger = Principal("req-3", "requester", "S", UUID(int=1))
    elsewhere = Principal("req-1", "requester", "R", UUID(int=2))
    assert not may_see_ticket(stranger, following) and not may_see_ticket(elsewhere, following)


# --- the desk: one save, and replies that land in the target ---------------------------


def desk_with_two_tickets() -> tuple[SupportDesk, UUID, str, str]:
    desk = SupportDesk()
    account = desk_with_account(desk)
    return desk, account, file(desk, account).number, file(desk, account).number


def events_of(desk: SupportDesk, number: str) -> list[str]:
    return [type(e).__name__ for e in desk.repository.event_store.get(desk.find_ticket(number))]


def test_the_desk_saves_both_tickets_facts_in_one_save() -> None:
    desk, _, source, target = desk_with_two_tickets()
    before = desk.recorder.max_notification_id() or 0
    merged = desk.merge_ticket(source, into=target, stamp=agent(), expected_version=1)
    assert (merged.source.number, merged.source.version) == (source, 2)
    assert (merged.target.number, merged.target.version) == (target, 2)
    assert merged.source.position == merged.target.position == before + 2
    assert events_of(desk, source)[-1] == "MergedInto"
    assert events_of(desk, target)[-1] == "MergeReceived"


def test_a_stale_if_match_on_the_source_refuses_the_merge_and_writes_nothing() -> None:
    desk, _, source, target = desk_with_two_tickets()
    desk.add_internal_note(source, author_id="agent-1", body="dup?", stamp=agent())
    with pytest.raises(errors.VersionMismatch):
        desk.merge_ticket(source, into=target, stamp=agent(), expected_version=1)
    assert events_of(desk, source) == ["Opened", "InternalNoteAdded"]
    assert events_of(desk, target) == ["Opened"]


def test_a_refused_merge_writes_nothing_on_either_ticket() -> None:
    desk, _, source, target = desk_with_two_tickets()
    desk.change_status(target, to_status="closed", stamp=agent())
    with pytest.raises(errors.MergeTargetClosed):
        desk.merge_ticket(source, into=target, stamp=agent())
    assert events_of(desk, source) == ["Opened"]
    assert events_of(desk, target) == ["Opened", "StatusChanged", "SurveyOffered"]


def test_reopen_target_reopens_a_closed_target_in_the_same_save() -> None:
    desk, _, source, target = desk_with_two_tickets()
    desk.change_status(target, to_status="closed", stamp=agent())
    merged = desk.merge_ticket(source, into=target, stamp=agent(), reopen_target=True)
    assert events_of(desk, target)[-2:] == ["Reopened", "MergeReceived"]
    assert desk.ticket_facts(target).status == "open"
    assert merged.target.version == 5  # its close asked for a rating (SurveyOffered)


def test_a_reply_to_a_merged_ticket_lands_in_the_target_and_the_receipt_says_where() -> None:
    desk, _, source, target = desk_with_two_tickets()
    desk.merge_ticket(source, into=target, stamp=agent())
    landed = desk.add_message(
        source, author_id="req-1", author_role="requester", body="Any news?",
        stamp=requester(), expected_version=2,
    )  # fmt: skip
    assert (landed.number, landed.ticket_id, landed.version) == (
        target, desk.find_ticket(target), 3,
    )  # fmt: skip
    assert events_of(desk, source) == ["Opened", "MergedInto"]
    [message] = [
        e
        for e in desk.repository.event_store.get(landed.ticket_id)
        if isinstance(e, Ticket.MessageAdded)
    ]
    assert (message.author_id, message.author_role, message.body) == (
        "req-1", "requester", "Any news?",
    )  # fmt: skip


def test_if_match_on_a_reply_to_a_merged_ticket_names_the_merged_tickets_version() -> None:
    desk, _, source, target = desk_with_two_tickets()
    desk.merge_ticket(source, into=target, stamp=agent())
    with pytest.raises(errors.VersionMismatch) as refused:
        desk.add_message(
            source, author_id="req-1", author_role="requester", body="Hello",
            stamp=requester(), expected_version=1,
        )  # fmt: skip
    assert refused.value.actual == 2
    assert events_of(desk, target) == ["Opened", "MergeReceived"]


def test_the_source_requester_replies_in_a_colleagues_target_as_a_collaborator() -> None:
    desk, account, source, _ = desk_with_two_tickets()
    desk.add_member(
        account, member_id="req-2", email="b@acme.test", name="B", role="member", stamp=system()
    )
    target = desk.file_ticket(
        account_id=account, requester_id="req-2", **SYNC_FAILS, stamp=requester(who="req-2")
    ).number
    desk.merge_ticket(source, into=target, stamp=agent())
    assert desk.ticket_facts(target).participants == ("req-1",)
    landed = desk.add_message(
        source, author_id="req-1", author_role="requester", body="Me too", stamp=requester()
    )
    assert landed.number == target
    last = list(desk.repository.event_store.get(landed.ticket_id))[-1]
    assert isinstance(last, Ticket.MessageAdded)
    assert (last.author_role, last.stamp.actor_kind) == ("collaborator", "collaborator")
    assert landed.version == 3  # as customers read it


def test_a_reply_follows_merges_on_to_the_ticket_that_is_worked() -> None:
    desk, account, first, second = desk_with_two_tickets()
    third = file(desk, account).number
    desk.merge_ticket(first, into=second, stamp=agent())
    desk.merge_ticket(second, into=third, stamp=agent())
    landed = desk.add_message(
        first, author_id="agent-1", author_role="agent", body="Fixed.", stamp=agent()
    )
    assert landed.number == third
    assert events_of(desk, third)[-1] == "MessageAdded"


def test_a_reply_by_email_to_a_merged_ticket_reopens_a_closed_target() -> None:
    desk, _, source, target = desk_with_two_tickets()
    desk.merge_ticket(source, into=target, stamp=agent())
    desk.change_status(target, to_status="closed", stamp=agent())
    desk.add_message(
        source, author_id="req-1", author_role="requester", body="Still broken",
        stamp=requester(), reopen=True,
    )  # fmt: skip
    assert events_of(desk, target)[-2:] == ["Reopened", "MessageAdded"]
