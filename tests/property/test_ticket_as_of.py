"""The audit's ticket as of a version or an instant is the detail the live view answered
then (real PostgreSQL).

A random ticket is worked event by event; the live views are stepped one version at a
time and the detail they answer is kept at each. The ticket folded in memory from its
stored events up to any version, or up to any instant, must equal the live detail at
that version, with its SLA clocks read at that instant and its people named by the
directory, as the live detail names them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg_pool import ConnectionPool

from api.answers import ticket_as_of as as_of_answer
from api.answers import ticket_detail as detail_answer
from desk.service import SupportDesk
from domain.account import Account, NewMember
from domain.channels import ChatLine
from domain.errors import DocketError, NotYetFiled, VersionNotReached
from domain.stamp import Stamp
from domain.ticket import Ticket
from projections import directory, sla, ticket_detail
from projections.reads import Reads
from projections.runner import ProjectionRunner
from replay.audit import Audit
from replay.store import StoredAt, stream
from store.database import eventsourcing_env
from store.eventstore import docket_mapper
from tests.builders import T0, fresh_schema, requester
from tests.property.strategies import TERMS, Command, commands, run, texts

VIEWS = (directory.VIEW, ticket_detail.VIEW, sla.VIEW)
AGENT = str(uuid.uuid5(uuid.NAMESPACE_DNS, "agent.docket.test"))
"""A registered agent, named by the directory (the shared commands' ``agent-1`` is not)."""

minutes = st.integers(0, 600)
detail_commands = st.one_of(
    commands,
    st.builds(Command, st.just("attach"), st.fixed_dictionaries({"filename": texts, "type": st.sampled_from(["image/png", "text/plain"]), "size": st.integers(0, 10**9)}), minutes),
    st.builds(Command, st.just("reply_with_files"), st.fixed_dictionaries({"role": st.sampled_from(["agent", "collaborator", "requester"]), "body": texts}), minutes),
    st.builds(Command, st.just("assign"), st.fixed_dictionaries({"agent": st.sampled_from([AGENT, "agent-1", None]), "group": st.sampled_from([None, "Billing"])}), minutes),
    st.builds(Command, st.just("product"), st.fixed_dictionaries({"to": st.sampled_from(["Files", "Dash"])}), minutes),
)  # fmt: skip


def work(ticket: Ticket, command: Command, at_minutes: int) -> None:
    """The shared commands, and those that reach the rest of the detail: files, replies
    carrying them, a team admin's reply, assignment, a product corrected."""
    at = T0 + timedelta(minutes=at_minutes)
    agent = Stamp(AGENT, "agent", "web", at)
    a = command.args
    try:
        if command.name == "attach":
            ticket.add_attachment(attachment_id=f"sha-{ticket.version}", filename=a["filename"],
                                  content_type=a["type"], size=a["size"], stamp=agent)  # fmt: skip
        elif command.name == "reply_with_files":
            author, stamp = {
                "agent": (AGENT, agent),
                "collaborator": ("admin-1", Stamp("admin-1", "collaborator", "web", at)),
                "requester": ("req-1", Stamp("req-1", "requester", "email", at)),
            }[a["role"]]
            ticket.add_message(author_id=author, author_role=a["role"], body=a["body"],
                               attachments=list(ticket.attachments), stamp=stamp)  # fmt: skip
        elif command.name == "assign":
            ticket.assign(agent_id=a["agent"], group=a["group"], stamp=agent)
        elif command.name == "product":
            ticket.change_product(to_product=a["to"], stamp=agent)
        else:
            run(ticket, command, at_minutes)
    except DocketError:
        pass


def write_ticket(url: str, schema: str, chat: bool, sequence: list[Command]) -> UUID:
    """An account, its people and a registered agent; one ticket worked by ``sequence``,
    saved command by command."""
    desk = SupportDesk(eventsourcing_env(url, schema, pool_size=2))
    try:
        account = Account.open(account_id=uuid.uuid4(), name="Acme", plan="business",
                               support_tier="standard", stamp=requester(T0))  # fmt: skip
        for member, role in (("req-1", "member"), ("admin-1", "admin")):
            account.add_member(
                member=NewMember(member, f"{member}@acme.test", member.upper(), role),
                stamp=requester(T0),
            )
        desk.save(account)
        desk.register_staff(name="Ada Agent", email="ada@docket.test", role="agent",
                            stamp=requester(T0), staff_id=UUID(AGENT))  # fmt: skip
        ticket = Ticket.file(
            ticket_id=uuid.uuid4(), number="T-000001", subject="Files stop syncing",
            description="Since Monday", type="bug", priority="normal", product="Files",
            topic="sync", channel="chat" if chat else "web", requester_id="req-1",
            account_id=str(account.id), stamp=requester(T0), sla_terms=TERMS,
        )  # fmt: skip
        if chat:
            lines = [ChatLine("customer", "Files stop syncing", T0), ChatLine("agent", "Which?")]
            ticket.record_chat_transcript(lines=lines, stamp=requester(T0))
        desk.save(ticket)
        at = 0
        for command in sequence:
            at += command.minutes
            work(ticket, command, at)
            desk.save(ticket)
        return ticket.id
    finally:
        desk.close()


def live_details(
    url: str, schema: str, pool: ConnectionPool[Any], entries: list[StoredAt]
) -> dict[int, tuple[dict[str, Any], dict[str, str]]]:
    """What the live detail answered at each version: the views stepped up to it, one
    version at a time."""
    runner = ProjectionRunner(url, schema, VIEWS, batch_size=1)
    runner.create_tables()
    reads = Reads(pool, schema)
    seen = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for entry in entries:
            for view in runner.views:
                while runner.step(conn, view, upto=entry.position):
                    pass
            found = reads.ticket(str(entry.stored.originator_id), with_internal_notes=True)
            assert found is not None
            assert found[0]["version"] == entry.stored.originator_version
            seen[entry.stored.originator_version] = found
    return seen


def url(attachment_id: str) -> str:
    return f"/v1/attachments/{attachment_id}"


def without_audit_fields(answer: Any) -> dict[str, Any]:
    shown: dict[str, Any] = answer.model_dump(exclude_unset=True)
    return {k: v for k, v in shown.items() if k not in ("as_of", "write_model")}


@settings(max_examples=15, deadline=None)
@given(
    chat=st.booleans(),
    sequence=st.lists(detail_commands, max_size=20),
    probe_minutes=st.integers(-60, 60 * 24 * 30),
)
def test_the_ticket_as_of_any_version_or_instant_is_the_detail_the_live_view_answered_then(
    database_url: str, chat: bool, sequence: list[Command], probe_minutes: int
) -> None:
    with (
        fresh_schema(database_url) as schema,
        ConnectionPool(database_url, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool,
    ):
        ticket_id = write_ticket(database_url, schema, chat, sequence)
        with psycopg.connect(database_url, autocommit=True) as conn:
            entries = stream(conn, schema, ticket_id)
        live = live_details(database_url, schema, pool, entries)
        audit = Audit(pool, schema, docket_mapper())
        now = T0 + timedelta(days=400)
        events: list[Any] = [audit.mapper.to_domain_event(e.stored) for e in entries]
        instants = [e.timestamp for e in events]
        for entry, at in zip(entries, instants, strict=True):
            version = entry.stored.originator_version
            then = audit.ticket_as_of(
                entries, version=version, as_of=None, now=now, with_internal_notes=True
            )
            assert then[0].at == at
            assert then[0].write_model["version"] == version
            answered_then = detail_answer(*live[version], url, with_callback=True, now=at)
            assert without_audit_fields(as_of_answer(*then, url, with_callback=True)) == (
                without_audit_fields(answered_then)
            )
        last = entries[-1].stored.originator_version
        with pytest.raises(VersionNotReached):
            audit.ticket_as_of(entries, version=last + 1, as_of=None, now=now,
                               with_internal_notes=True)  # fmt: skip
        for probe in [T0 + timedelta(minutes=probe_minutes), *instants]:
            stood = [
                e.stored.originator_version
                for e, t in zip(entries, instants, strict=True)
                if t <= probe
            ]
            if not stood:
                with pytest.raises(NotYetFiled):
                    audit.ticket_as_of(entries, version=None, as_of=probe, now=now,
                                       with_internal_notes=True)  # fmt: skip
                continue
            then = audit.ticket_as_of(
                entries, version=None, as_of=probe, now=now, with_internal_notes=True
            )
            assert then[0].at == probe
            answered_then = detail_answer(*live[max(stood)], url, with_callback=True, now=probe)
            assert without_audit_fields(as_of_answer(*then, url, with_callback=True)) == (
                without_audit_fields(answered_then)
            )
