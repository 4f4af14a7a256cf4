"""A Ticket under random commands behaves like a simple model of the rules."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.ticket import Ticket
from domain.vocabulary import PRIORITIES, STATUSES, TICKET_TYPES
from tests.builders import T0, new_ticket
from tests.property.strategies import Command, run, texts


class TicketAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ticket: Ticket = new_ticket()
        self.minutes = 0
        self.status = "open"
        self.priority = "normal"
        self.type = "bug"
        self.closed_at: datetime | None = None
        self.messages = 1
        self.notes = 0
        self.cycle = 1
        self.rating: int | None = None
        self.events = 1

    def now(self) -> datetime:
        return T0 + timedelta(minutes=self.minutes)

    def apply(self, command: Command, expect_refusal: bool) -> None:
        self.minutes += command.minutes
        before = self.ticket.version
        run(self.ticket, command, self.minutes)
        grew = self.ticket.version - before
        assert (grew == 0) == expect_refusal, (command, grew)
        self.events += grew

    @rule(role=st.sampled_from(["requester", "agent"]), body=texts, minutes=st.integers(0, 300))
    def reply(self, role: str, body: str, minutes: int) -> None:
        refused = self.status == "closed"
        self.apply(Command("reply", {"role": role, "body": body}, minutes), refused)
        if not refused:
            self.messages += 1
            if role == "requester" and self.status == "pending":
                self.status = "open"

    @rule(body=texts)
    def note(self, body: str) -> None:
        self.apply(Command("note", {"body": body}, 0), False)
        self.notes += 1

    @rule(to=st.sampled_from(STATUSES), minutes=st.integers(0, 300))
    def status_change(self, to: str, minutes: int) -> None:
        refused = to == self.status or self.status == "closed"
        self.apply(Command("status", {"to": to}, minutes), refused)
        if not refused:
            self.status = to
            self.closed_at = self.now() if to == "closed" else None

    @rule(to=st.sampled_from(PRIORITIES))
    def priority_change(self, to: str) -> None:
        refused = to == self.priority
        self.apply(Command("priority", {"to": to}, 0), refused)
        self.priority = to

    @rule(to=st.sampled_from(TICKET_TYPES))
    def type_change(self, to: str) -> None:
        refused = to == self.type
        self.apply(Command("type", {"to": to}, 0), refused)
        self.type = to

    @rule(days=st.integers(0, 45))
    def reopen(self, days: int) -> None:
        at = self.now() + timedelta(days=days)
        refused = self.closed_at is None or at - self.closed_at > timedelta(days=30)
        self.apply(Command("reopen", {}, days * 24 * 60), refused)
        if not refused:
            self.status, self.closed_at, self.cycle, self.rating = (
                "open",
                None,
                self.cycle + 1,
                None,
            )

    @rule(score=st.integers(0, 6))
    def rate(self, score: int) -> None:
        refused = self.status != "closed" or not 1 <= score <= 5
        self.apply(Command("rate", {"score": score}, 0), refused)
        if not refused:
            self.rating = score

    @invariant()
    def ticket_matches_model(self) -> None:
        t = self.ticket
        assert (t.status, t.priority, t.type, t.cycle, t.rating) == (
            self.status, self.priority, self.type, self.cycle, self.rating,
        )  # fmt: skip
        assert (t.message_count, t.note_count, t.version) == (
            self.messages,
            self.notes,
            self.events,
        )
        assert t.closed_at == self.closed_at


TicketAgainstModel.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_ticket_follows_the_model = TicketAgainstModel.TestCase
