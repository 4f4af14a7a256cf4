"""Docket's own people: registering agents, auditors, analysts and admins, and the
support groups agents work in."""

from __future__ import annotations

from uuid import UUID, uuid4

from desk.core import DeskCore
from domain.staff import StaffMember
from domain.stamp import Stamp


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
    ) -> UUID:
        member = StaffMember.register(
            staff_id=staff_id or uuid4(),
            name=name,
            email=email,
            role=role,
            groups=list(groups or []),
            stamp=stamp,
        )
        self.save(member)
        return member.id
