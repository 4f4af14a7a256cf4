"""What a kept aggregate's copy must be: the same state, and changed on its own."""

from __future__ import annotations

from copy import deepcopy

from desk.service import SupportDesk
from domain.account import Account
from store.aggregate_cache import copy_of
from tests.builders import agent, desk_with_account, later, new_ticket


def test_a_copied_ticket_holds_the_same_state_and_changes_without_its_original() -> None:
    kept = new_ticket()
    kept.collect_events()
    copy = copy_of(kept)
    assert copy is not kept and copy.__dict__ == kept.__dict__
    before = deepcopy(kept.__dict__)
    copy.add_message(
        author_id="agent-1",
        author_role="agent",
        body="Which version?",
        attachments=[],
        stamp=agent(later(hours=1)),
    )
    copy.change_status(to_status="pending", stamp=agent(later(hours=2)))
    assert kept.__dict__ == before
    assert copy.version == kept.version + 2 and copy.status == "pending"


def test_a_copied_account_shares_no_member_list_with_its_original() -> None:
    desk = SupportDesk()
    account: object = desk.repository.get(desk_with_account(desk))
    assert isinstance(account, Account)
    copy = copy_of(account)
    assert copy.__dict__ == account.__dict__
    copy.members.clear()
    assert account.members and not copy.members
