"""Human ticket numbers (``T-000123``): unique, given at filing, never reused.

The number itself comes from a counter the infrastructure owns (a PostgreSQL
sequence, whose values are never handed out twice). A :class:`TicketNumber`
aggregate, whose id is derived from the number, is saved in the same atomic
append as the ticket: two tickets can never hold one number, and looking a
ticket up by number is a read of one small stream.
"""

from __future__ import annotations

import re
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.stamp import Stamp

NUMBER_PATTERN = re.compile(r"^T-([0-9]{6,12})$")


def format_number(n: int) -> str:
    return f"T-{n:06d}"


def parse_number(text: str) -> int | None:
    match = NUMBER_PATTERN.match(text.strip().upper())
    return int(match.group(1)) if match else None


class TicketNumber(ChainedAggregate):
    class Claimed(ChainedAggregate.Created):
        number: str
        ticket_id: str

    @staticmethod
    def id_for(number: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"docket:ticket-number:{number}")

    @classmethod
    def claim(cls, *, number: str, ticket_id: UUID, stamp: Stamp) -> TicketNumber:
        return cls(id=cls.id_for(number), number=number, ticket_id=str(ticket_id), stamp=stamp)

    @event(Claimed)
    def __init__(self, id: UUID, number: str, ticket_id: str, stamp: Stamp) -> None:
        self.number = number
        self.ticket_id = ticket_id
