"""Docket's own people: agents in support groups, auditors, analysts and admins.

A :class:`StaffMember` is registered once, joins and leaves support groups (agents
only), and may be deactivated: from then on their tokens are refused and no ticket
is newly assigned to them, while the tickets already assigned to them stay so until
someone reassigns them. A :class:`SupportGroup` records that a group was created;
its members are facts of the staff members' own streams. Groups named when an agent
was registered count as created (they were before groups had streams of their own).
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.channels import checked_time_zone
from domain.errors import InvalidField, NotAnAgent, NothingChanged, StaffDeactivated
from domain.messages import Msg
from domain.stamp import Stamp
from domain.vocabulary import (
    LANGUAGES,
    NAME_MAX_CHARS,
    STAFF_ROLES,
    checked_choice,
    checked_text,
)


def checked_group(name: str) -> str:
    checked_text("group", name, max_chars=NAME_MAX_CHARS)
    if name != name.strip() or not name or "/" in name:
        raise InvalidField(
            "group", Msg("A support group's name has no slash and no leading or trailing spaces.")
        )
    return name


class StaffMember(ChainedAggregate):
    class Registered(ChainedAggregate.Created):
        name: str
        email: str
        role: str
        groups: list[str]

    class JoinedGroup(ChainedAggregate.Event):
        group: str

    class LeftGroup(ChainedAggregate.Event):
        group: str

    class Deactivated(ChainedAggregate.Event):
        pass

    class LanguageChosen(ChainedAggregate.Event):
        """The language the staff member reads Docket in (until then, English)."""

        language: str

    class TimeZoneChosen(ChainedAggregate.Event):
        """The IANA time zone the staff member reads times in (until then, UTC)."""

        time_zone: str

    @staticmethod
    def id_for(email: str) -> UUID:
        """The id a staff member registered without one gets: one per email address."""
        return uuid5(NAMESPACE_URL, f"docket:staff:{email.strip().lower()}")

    @classmethod
    def register(
        cls, *, staff_id: UUID, name: str, email: str, role: str, groups: list[str], stamp: Stamp
    ) -> StaffMember:
        checked_text("name", name, max_chars=NAME_MAX_CHARS)
        checked_text("email", email, max_chars=NAME_MAX_CHARS)
        checked_choice("role", role, STAFF_ROLES)
        if role != "agent" and groups:
            raise InvalidField("groups", Msg("Only agents belong to support groups."))
        for group in groups:
            checked_group(group)
        return cls(id=staff_id, name=name, email=email, role=role, groups=groups, stamp=stamp)

    @event(Registered)
    def __init__(
        self, id: UUID, name: str, email: str, role: str, groups: list[str], stamp: Stamp
    ) -> None:
        self.name = name
        self.email = email
        self.role = role
        self.groups = list(groups)
        self.active = True
        self.language = "en"
        self.time_zone = "UTC"

    def choose_language(self, *, language: str, stamp: Stamp) -> None:
        checked_choice("language", language, LANGUAGES)
        if language == self.language:
            raise NothingChanged(
                Msg(
                    "{name} reads Docket in {language} already.", name=self.name, language=language
                )
            )
        self._language_chosen(language=language, stamp=stamp)

    @event(LanguageChosen)
    def _language_chosen(self, language: str, stamp: Stamp) -> None:
        self.language = language

    def choose_time_zone(self, *, time_zone: str, stamp: Stamp) -> None:
        checked_time_zone(time_zone)
        if time_zone == self.time_zone:
            raise NothingChanged(
                Msg(
                    "{name} reads times in {time_zone} already.",
                    name=self.name,
                    time_zone=time_zone,
                )
            )
        self._time_zone_chosen(time_zone=time_zone, stamp=stamp)

    @event(TimeZoneChosen)
    def _time_zone_chosen(self, time_zone: str, stamp: Stamp) -> None:
        self.time_zone = time_zone

    def check_assignable(self) -> None:
        """Tickets are assigned to active agents only."""
        self._check_active_agent(joining_group=False)

    def _check_active_agent(self, *, joining_group: bool) -> None:
        """Only active agents are assigned tickets and join support groups: the same rule,
        told with what the person was doing."""
        if self.role != "agent":
            raise NotAnAgent(
                Msg(
                    "{name} is not an agent but {role}; only agents join support groups.",
                    name=self.name,
                    role=self.role,
                )
                if joining_group
                else Msg(
                    "{name} is not an agent but {role}; assign the ticket to an agent.",
                    name=self.name,
                    role=self.role,
                )
            )
        if not self.active:
            raise StaffDeactivated(
                Msg("{name} was deactivated and joins no support group.", name=self.name)
                if joining_group
                else Msg(
                    "{name} was deactivated; assign the ticket to an active agent.", name=self.name
                )
            )

    def join_group(self, *, group: str, stamp: Stamp) -> None:
        checked_group(group)
        self._check_active_agent(joining_group=True)
        if group in self.groups:
            raise NothingChanged(
                Msg("{name} is already in the {group} support group.", name=self.name, group=group)
            )
        self._joined_group(group=group, stamp=stamp)

    @event(JoinedGroup)
    def _joined_group(self, group: str, stamp: Stamp) -> None:
        self.groups.append(group)

    def leave_group(self, *, group: str, stamp: Stamp) -> None:
        if group not in self.groups:
            raise NothingChanged(
                Msg("{name} is not in the {group} support group.", name=self.name, group=group)
            )
        self._left_group(group=group, stamp=stamp)

    @event(LeftGroup)
    def _left_group(self, group: str, stamp: Stamp) -> None:
        self.groups.remove(group)

    def deactivate(self, *, stamp: Stamp) -> None:
        if not self.active:
            raise NothingChanged(Msg("{name} is already deactivated.", name=self.name))
        self._deactivated(stamp=stamp)

    @event(Deactivated)
    def _deactivated(self, stamp: Stamp) -> None:
        self.active = False


class SupportGroup(ChainedAggregate):
    """A support group agents work in (``tier-1``, ``billing``…), one stream per name."""

    class Created(ChainedAggregate.Created):
        name: str

    @staticmethod
    def id_for(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"docket:support-group:{name}")

    @classmethod
    def create(cls, *, name: str, stamp: Stamp) -> SupportGroup:
        checked_group(name)
        return cls(id=cls.id_for(name), name=name, stamp=stamp)

    @event(Created)
    def __init__(self, id: UUID, name: str, stamp: Stamp) -> None:
        self.name = name
