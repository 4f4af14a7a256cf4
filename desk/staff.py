"""Docket's own people: registering agents, auditors, analysts and admins, putting agents
in support groups and taking them out, creating the groups, and deactivating a staff
member. Each use case is one save.

Whether an assignment names an active agent and a group that exists is asked by the
ticket use cases too, so it lives on :class:`desk.core.DeskCore`
(:meth:`~desk.core.DeskCore.check_assignment`, :meth:`~desk.core.DeskCore.group_exists`).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import IntegrityError

from desk.answers import GroupReceipt, StaffReceipt
from desk.core import DeskCore, RecordChange, position
from domain.errors import (
    AlreadyExists,
    DocketError,
    InvalidField,
    NothingChanged,
    UnknownGroup,
)
from domain.messages import Msg
from domain.staff import StaffMember, SupportGroup
from domain.stamp import Stamp

staff_change = RecordChange(
    DeskCore._staff,
    lambda m, at: StaffReceipt(m.id, m.version, at),
    what=Msg("The staff member"),
    busy=lambda _: Msg("The staff member"),
    attempts=20,
)
"""One change to one staff member."""


class Staff(DeskCore):
    def register_staff(
        self,
        *,
        name: str,
        email: str,
        role: str,
        stamp: Stamp,
        groups: list[str] | None = None,
        staff_id: UUID | None = None,
        language: str = "en",
    ) -> StaffReceipt:
        """Register a staff member; the groups they are put in that do not exist yet are
        created in the same save. Without ``staff_id``, the id follows from the email, so
        one address is registered once."""
        named = list(dict.fromkeys(groups or []))
        member = StaffMember.register(
            staff_id=staff_id or StaffMember.id_for(email),
            name=name,
            email=email,
            role=role,
            groups=named,
            stamp=stamp,
        )
        if language != member.language:  # English unless said: no event for the default
            member.choose_language(language=language, stamp=stamp)
        new_groups = [
            SupportGroup.create(name=g, stamp=stamp) for g in named if not self.group_exists(g)
        ]
        try:
            recordings = self.save(member, *new_groups)
        except IntegrityError:
            if self._exists(member.id):
                raise AlreadyExists(
                    Msg("Staff member {email} is already registered.", email=email)
                ) from None
            # a group was created meanwhile: it exists now, so register without creating it
            recordings = self.save(member)
        return StaffReceipt(member.id, member.version, position(recordings))

    def has_staff(self, staff_id: str) -> bool:
        """Whether that id is a registered staff member's (for a read too new for the roster)."""
        try:
            self._staff(staff_id)
        except DocketError:
            return False
        return True

    def create_group(self, *, name: str, stamp: Stamp) -> GroupReceipt:
        group = SupportGroup.create(name=name, stamp=stamp)
        if self.group_exists(name):
            raise AlreadyExists(Msg("The support group {name} already exists.", name=name))
        try:
            recordings = self.save(group)
        except IntegrityError:
            raise AlreadyExists(
                Msg("The support group {name} already exists.", name=name)
            ) from None
        return GroupReceipt(name, position(recordings))

    @staff_change
    def add_to_group(
        self, m: StaffMember, *, group: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        """Put an active agent in a support group that exists."""
        if not self.group_exists(group):
            raise UnknownGroup(
                Msg("No support group {group}; create it with POST /v1/groups.", group=group)
            )
        m.join_group(group=group, stamp=stamp)

    @staff_change
    def remove_from_group(
        self, m: StaffMember, *, group: str, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        m.leave_group(group=group, stamp=stamp)

    @staff_change
    def deactivate_staff(
        self, m: StaffMember, *, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        """From this event on their tokens are refused (see :mod:`store.staff_status`) and
        no ticket is newly assigned to them; their tickets stay assigned to them."""
        m.deactivate(stamp=stamp)

    @staff_change
    def set_staff_preferences(
        self,
        member: StaffMember,
        *,
        stamp: Stamp,
        language: str | None = None,
        time_zone: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """A staff member's own language and time zone, those given that change (in one
        save); nothing that changes is refused as such."""
        if language is None and time_zone is None:
            raise InvalidField("language", Msg("Say what to change: language or time_zone."))
        changed = False
        if language is not None and language != member.language:
            member.choose_language(language=language, stamp=stamp)
            changed = True
        if time_zone is not None and time_zone != member.time_zone:
            member.choose_time_zone(time_zone=time_zone, stamp=stamp)
            changed = True
        if not changed:
            raise NothingChanged(
                Msg(
                    "You read Docket in {language}, times in {time_zone}, already.",
                    language=member.language,
                    time_zone=member.time_zone,
                )
            )
