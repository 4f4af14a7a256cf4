"""Random command sequences on one ticket, shared by the property tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from domain.channels import CallbackRequest
from domain.errors import DocketError
from domain.sla import FOUNDING_POLICY, terms_for
from domain.stamp import Stamp
from domain.ticket import Ticket
from domain.vocabulary import PRIORITIES, STATUSES, TICKET_TYPES
from tests.builders import T0, new_ticket

TERMS = terms_for(FOUNDING_POLICY, "premium_essentials", "us-public-sector")
"""Business hours in Los Angeles, so clocks cross nights, weekends and holidays."""

texts = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")
phones = st.one_of(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True), st.just("555-2671"))
"""Mostly E.164 numbers; now and then one the rules refuse."""


@dataclass(frozen=True)
class Command:
    name: str
    args: dict[str, Any]
    minutes: int


commands = st.one_of(
    st.builds(Command, st.just("reply"), st.fixed_dictionaries({"role": st.sampled_from(["requester", "agent"]), "body": texts}), st.integers(0, 600)),
    st.builds(Command, st.just("note"), st.fixed_dictionaries({"body": texts}), st.integers(0, 600)),
    st.builds(Command, st.just("status"), st.fixed_dictionaries({"to": st.sampled_from(STATUSES)}), st.integers(0, 600)),
    st.builds(Command, st.just("priority"), st.fixed_dictionaries({"to": st.sampled_from(PRIORITIES)}), st.integers(0, 600)),
    st.builds(Command, st.just("type"), st.fixed_dictionaries({"to": st.sampled_from(TICKET_TYPES)}), st.integers(0, 600)),
    st.builds(Command, st.just("reopen"), st.just({}), st.integers(0, 60 * 24 * 40)),
    st.builds(Command, st.just("rate"), st.fixed_dictionaries({"score": st.integers(0, 6)}), st.integers(0, 600)),
    st.builds(Command, st.just("sweep"), st.just({}), st.integers(0, 60 * 24 * 3)),
    st.builds(Command, st.just("callback"), st.fixed_dictionaries({"phone": phones, "starts_in": st.integers(-120, 60 * 24 * 31), "lasts": st.integers(0, 60 * 24 * 8)}), st.integers(0, 600)),
    st.builds(Command, st.just("callback_made"), st.fixed_dictionaries({"outcome": st.sampled_from(["reached", "no_answer"])}), st.integers(0, 600)),
)  # fmt: skip


def run(ticket: Ticket, command: Command, at_minutes: int) -> None:
    """Apply one command; refusals are part of the game and leave the ticket as it was."""
    at = T0 + timedelta(minutes=at_minutes)
    agent = Stamp("agent-1", "agent", "web", at)
    requester = Stamp("req-1", "requester", "email", at)
    a = command.args
    try:
        if command.name == "reply":
            stamp = agent if a["role"] == "agent" else requester
            ticket.add_message(
                author_id=stamp.actor_id,
                author_role=a["role"],
                body=a["body"],
                attachments=[],
                stamp=stamp,
            )
        elif command.name == "note":
            files = [a["file_id"]] if "file_id" in a else []
            for file_id in files:  # a log on the note: staff only, as the note
                ticket.add_note_attachment(attachment_id=file_id, filename=a["file"],
                                           content_type="text/plain", size=9, stamp=agent)  # fmt: skip
            ticket.add_internal_note(
                author_id="agent-1", body=a["body"], attachments=files, stamp=agent
            )
        elif command.name == "status":
            ticket.change_status(to_status=a["to"], stamp=agent)
        elif command.name == "priority":
            ticket.change_priority(to_priority=a["to"], stamp=agent)
        elif command.name == "type":
            ticket.change_type(to_type=a["to"], stamp=agent)
        elif command.name == "reopen":
            ticket.reopen(stamp=requester, sla_terms=TERMS)
        elif command.name == "rate":
            ticket.rate_satisfaction(score=a["score"], comment="", stamp=requester)
        elif command.name == "sweep":  # the deadline watch passing by
            ticket.record_sla_breaches(stamp=Stamp("sla-deadlines", "system", "api", at))
        elif command.name == "callback":
            start = at + timedelta(minutes=a["starts_in"])
            end = start + timedelta(minutes=a["lasts"])
            callback = CallbackRequest(a["phone"], start, end, "America/Los_Angeles")
            ticket.request_callback(callback=callback, stamp=requester)
        elif command.name == "callback_made":
            ticket.record_callback_made(outcome=a["outcome"], stamp=agent)
    except DocketError:
        pass


def ticket_after(sequence: list[Command]) -> Ticket:
    ticket = new_ticket(sla_terms=TERMS)
    minutes = 0
    for command in sequence:
        minutes += command.minutes
        run(ticket, command, minutes)
    return ticket
