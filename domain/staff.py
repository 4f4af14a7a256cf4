"""Docket's own people: agents in support groups, auditors, analysts and admins."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import InvalidField
from domain.stamp import Stamp
from domain.vocabulary import NAME_MAX_CHARS, STAFF_ROLES, checked_choice, checked_text


class StaffMember(ChainedAggregate):
    class Registered(ChainedAggregate.Created):
        name: str
        email: str
        role: str
        groups: list[str]

    @classmethod
    def register(
        cls, *, staff_id: UUID, name: str, email: str, role: str, groups: list[str], stamp: Stamp
    ) -> StaffMember:
        checked_text("name", name, max_chars=NAME_MAX_CHARS)
        checked_text("email", email, max_chars=NAME_MAX_CHARS)
        checked_choice("role", role, STAFF_ROLES)
        if role != "agent" and groups:
            raise InvalidField("groups", "Only agents belong to support groups.")
        for group in groups:
            checked_text("group", group, max_chars=NAME_MAX_CHARS)
        return cls(id=staff_id, name=name, email=email, role=role, groups=groups, stamp=stamp)

    @event(Registered)
    def __init__(
        self, id: UUID, name: str, email: str, role: str, groups: list[str], stamp: Stamp
    ) -> None:
        self.name = name
        self.email = email
        self.role = role
        self.groups = list(groups)
