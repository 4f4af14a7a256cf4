"""The application service on the in-memory store: plans, numbers, versions, upcasting."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from desk.service import SupportDesk
from domain import errors
from domain.ticket import Ticket
from tests.builders import agent, desk_with_account, file, new_member, requester, system


@pytest.mark.parametrize("plan", ["free", "education"])
def test_free_and_education_plans_cannot_file_and_are_told_which_plans_can(plan: str) -> None:
    desk = SupportDesk()
    account = desk_with_account(desk, plan=plan)
    with pytest.raises(errors.PlanNotEntitled) as refused:
        file(desk, account)
    assert "community" in refused.value.detail
    for name in ("Starter", "Consultant", "Business", "Enterprise"):
        assert name in refused.value.detail


def test_only_members_file_for_their_account() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    with pytest.raises(errors.NotAMember):
        desk.file_ticket(
            account_id=account, requester_id="stranger", subject="S", description="D",
            type="bug", priority="low", product="", stamp=requester(who="stranger"),
        )  # fmt: skip


def test_ticket_numbers_are_unique_sequential_and_find_their_ticket() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    receipts = [file(desk, account) for _ in range(3)]
    assert [r.number for r in receipts] == ["T-000001", "T-000002", "T-000003"]
    assert desk.find_ticket("t-000002") == receipts[1].ticket_id
    assert desk.find_ticket(str(receipts[2].ticket_id)) == receipts[2].ticket_id
    with pytest.raises(errors.UnknownTicket):
        desk.find_ticket("T-999999")
    with pytest.raises(errors.UnknownTicket):
        desk.find_ticket("not-a-ticket")


def test_a_write_answers_the_new_version_and_a_growing_position() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    filed = file(desk, account)
    replied = desk.add_message(
        filed.number, author_id="agent-1", author_role="agent", body="On it", stamp=agent()
    )
    assert (filed.version, replied.version) == (1, 2)
    assert replied.position > filed.position


def test_a_stale_expected_version_is_refused_and_changes_nothing() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    filed = file(desk, account)
    desk.change_priority(filed.number, to_priority="high", stamp=agent(), expected_version=1)
    with pytest.raises(errors.VersionMismatch) as refused:
        desk.change_priority(filed.number, to_priority="urgent", stamp=agent(), expected_version=1)
    assert refused.value.actual == 2
    assert desk.ticket_facts(filed.number).version == 2


def test_a_follow_up_ticket_links_to_the_earlier_one_in_the_same_account() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    first = file(desk, account)
    second = desk.file_ticket(
        account_id=account, requester_id="req-1", subject="Again", description="Still broken",
        type="bug", priority="low", product="", stamp=requester(), follow_up_of=first.number,
    )  # fmt: skip
    ticket: Ticket = desk.repository.get(second.ticket_id)
    assert ticket.follow_up_of == "T-000001"
    other = desk.open_account(
        name="Other", plan="business", support_tier="standard", stamp=system()
    ).account_id
    new_member(desk, other, "o1", "o@o.test", "O")
    with pytest.raises(errors.InvalidField):
        desk.file_ticket(
            account_id=other, requester_id="o1", subject="S", description="D", type="bug",
            priority="low", product="", stamp=requester(who="o1"), follow_up_of=first.number,
        )  # fmt: skip


def test_a_follow_up_of_a_ticket_the_filer_may_not_see_is_refused_like_one_that_does_not_exist() -> (
    None
):
    """Another account's ticket, a colleague's (for a member who is not an admin), a number
    never handed out, a made-up id: one refusal, word for word, so it tells nothing."""
    desk = SupportDesk()
    account = desk_with_account(desk)
    new_member(desk, account, "req-2", "c@acme.test", "C")
    other = desk.open_account(name="Other", plan="business", support_tier="standard",
                              stamp=system()).account_id  # fmt: skip
    new_member(desk, other, "o1", "o@o.test", "O")
    theirs = desk.file_ticket(
        account_id=other, requester_id="o1", subject="S", description="D", type="bug",
        priority="low", product="", stamp=requester(who="o1"),
    )  # fmt: skip
    colleagues = file(desk, account)  # req-1's

    def refusal(ref: str, who: str = "req-2") -> tuple[str, str, str]:
        with pytest.raises(errors.DocketError) as refused:
            desk.file_ticket(
                account_id=account, requester_id=who, subject="Again", description="D",
                type="bug", priority="low", product="", stamp=requester(who=who),
                follow_up_of=ref,
            )  # fmt: skip
        detail = refused.value.detail.replace(ref, "REF")
        return type(refused.value).__name__, refused.value.code, detail

    refusals = [
        refusal(theirs.number),
        refusal(str(theirs.ticket_id)),
        refusal(colleagues.number),
        refusal("T-999999"),
        refusal(str(uuid.uuid4())),
        refusal("not a ticket"),
        refusal(str(account)),  # an account's id, not a ticket's
    ]
    assert len(set(refusals)) == 1
    assert refusals[0][:2] == ("InvalidField", "invalid-field")
    # the account's admin sees every ticket of the account: a colleague's is fine for them
    admins = desk.file_ticket(
        account_id=account, requester_id="admin-1", subject="Again", description="D",
        type="bug", priority="low", product="", stamp=requester(who="admin-1"),
        follow_up_of=colleagues.number,
    )  # fmt: skip
    assert desk.repository.get(admins.ticket_id).follow_up_of == colleagues.number


def test_a_stored_version_1_opened_event_is_upcast_to_the_current_version() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    filed = file(desk, account)
    stored = desk.recorder.select_events(filed.ticket_id)[0]
    state = desk.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 4
    assert state.pop("support_group") == "tier-1"
    assert state.pop("sla_terms")["tier"] == "standard"
    del state["follow_up_of"]
    v1 = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=1,
        topic=stored.topic,
        state=desk.mapper.transcoder.encode(state),
    )
    event = desk.mapper.to_domain_event(v1)
    assert isinstance(event, Ticket.Opened)
    assert event.follow_up_of is None
    assert event.sla_terms is None
    assert event.subject == "Sync fails"


def test_a_customers_if_match_names_the_version_they_read_which_notes_do_not_move() -> None:
    desk = SupportDesk()
    filed = file(desk, desk_with_account(desk))
    note = desk.add_internal_note(filed.number, author_id="agent-1", body="n", stamp=agent())
    assert note.version == 2
    closed = desk.change_status(
        filed.number, to_status="closed", stamp=requester(), expected_version=filed.version
    )
    assert closed.version == 4  # the close and its survey: the latest event again
    desk.add_internal_note(filed.number, author_id="agent-1", body="m", stamp=agent())
    with pytest.raises(errors.VersionMismatch) as refused:
        desk.reopen(filed.number, stamp=requester(), expected_version=filed.version)
    assert refused.value.actual == 4  # what the requester reads, not 5
    with pytest.raises(errors.VersionMismatch) as refused:  # staff count every event
        desk.change_priority(filed.number, to_priority="high", stamp=agent(), expected_version=4)
    assert refused.value.actual == 5
