"""A person's own settings: the language they read Docket in and their time zone, for
members (on their account) and staff (on their own stream), each one save."""

from __future__ import annotations

from uuid import uuid4

import pytest

from desk.service import SupportDesk
from domain import errors
from domain.account import Account
from domain.staff import StaffMember
from tests.builders import desk_with_account, requester, system


def events_of(desk: SupportDesk, stream: object) -> list[object]:
    return list(desk.repository.event_store.get(stream))  # type: ignore[arg-type]


def test_a_member_chooses_their_language_and_time_zone_in_one_save() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    desk.set_member_preferences(
        account, member_id="req-1", language="fr", time_zone="Europe/Paris", stamp=requester()
    )
    chosen = events_of(desk, account)[-1]
    assert isinstance(chosen, Account.MemberSettingsChanged)
    assert (chosen.member_id, chosen.language, chosen.time_zone) == (
        "req-1",
        "fr",
        "Europe/Paris",
    )
    # the time zone alone keeps the language chosen
    desk.set_member_preferences(
        account, member_id="req-1", time_zone="America/Montreal", stamp=requester()
    )
    again = events_of(desk, account)[-1]
    assert isinstance(again, Account.MemberSettingsChanged)
    assert (again.language, again.time_zone) == ("fr", "America/Montreal")


def test_a_member_setting_what_they_have_changes_nothing() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)  # added in English, UTC
    with pytest.raises(errors.NothingChanged):
        desk.set_member_preferences(
            account, member_id="req-1", language="en", time_zone="UTC", stamp=requester()
        )
    with pytest.raises(errors.InvalidField) as refused:
        desk.set_member_preferences(account, member_id="req-1", stamp=requester())
    assert refused.value.field == "surveys"


def test_a_member_setting_is_checked_and_only_their_own() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    with pytest.raises(errors.InvalidField) as refused:
        desk.set_member_preferences(account, member_id="req-1", language="de", stamp=requester())
    assert refused.value.field == "language"
    with pytest.raises(errors.InvalidField) as refused:
        desk.set_member_preferences(
            account, member_id="req-1", time_zone="Mars/Base", stamp=requester()
        )
    assert refused.value.field == "time_zone"
    with pytest.raises(errors.NotAMember):
        desk.set_member_preferences(account, member_id="nobody", language="fr", stamp=requester())


def test_a_staff_member_chooses_their_language_and_time_zone_in_one_save() -> None:
    desk = SupportDesk()
    staff_id = uuid4()
    desk.register_staff(
        name="Zoé", email="zoe@docket.example", role="auditor", stamp=system(), staff_id=staff_id
    )
    receipt = desk.set_staff_preferences(
        staff_id, language="fr", time_zone="Europe/Paris", stamp=system()
    )
    assert receipt.version == 3
    kinds = [type(e) for e in events_of(desk, staff_id)]
    assert kinds[-2:] == [StaffMember.LanguageChosen, StaffMember.TimeZoneChosen]
    # the same again changes nothing; one of the two that changes records only it
    with pytest.raises(errors.NothingChanged):
        desk.set_staff_preferences(
            staff_id, language="fr", time_zone="Europe/Paris", stamp=system()
        )
    desk.set_staff_preferences(staff_id, language="fr", time_zone="UTC", stamp=system())
    last = events_of(desk, staff_id)[-1]
    assert isinstance(last, StaffMember.TimeZoneChosen) and last.time_zone == "UTC"
    with pytest.raises(errors.InvalidField) as refused:
        desk.set_staff_preferences(staff_id, time_zone="Europe", stamp=system())
    assert refused.value.field == "time_zone"
