"""No internal note reaches a CC, whatever the history (real PostgreSQL): random streams
of replies, notes and status changes, with a member and an outsider copied and removed
along the way, folded into every view; nothing a CC is mailed or reads carries a note."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.service import SupportDesk
from domain.account import Account, NewMember
from domain.errors import DocketError
from domain.stamp import Stamp
from domain.ticket import Ticket
from projections import ticket_detail
from projections.catalog import VIEWS
from projections.kit import Tables
from projections.lists import customer_tickets
from projections.lists.filters import ListFilter
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import T0, fresh_schema, later, requester
from tests.property.strategies import Command, commands, run

MEMBER, OUTSIDER = ("mia@acme.test", "mia-1"), ("out@partner.test", None)
cc_commands = st.one_of(
    commands,
    st.builds(Command, st.just("cc"), st.fixed_dictionaries({"who": st.sampled_from([MEMBER, OUTSIDER])}), st.integers(0, 600)),
    st.builds(Command, st.just("uncc"), st.fixed_dictionaries({"who": st.sampled_from([MEMBER, OUTSIDER])}), st.integers(0, 600)),
    st.builds(Command, st.just("cc_reply"), st.fixed_dictionaries({"who": st.sampled_from([MEMBER, OUTSIDER])}), st.integers(0, 600)),
)  # fmt: skip


def run_with_ccs(ticket: Ticket, command: Command, minutes: int) -> None:
    agent = Stamp("agent-1", "agent", "web", later(hours=minutes / 60))
    if command.name not in ("cc", "uncc", "cc_reply"):
        return run(ticket, command, minutes)
    address, member = command.args["who"]
    try:
        if command.name == "cc":
            ticket.add_cc(email=address, member_id=member, stamp=agent)
        elif command.name == "uncc":
            ticket.remove_cc(email=address, stamp=agent)
        else:
            author = member or f"cc:{address}"
            ticket.add_message(author_id=author, author_role="cc", body="From a CC",
                               attachments=[], stamp=Stamp(author, "cc", "email", agent.at))  # fmt: skip
    except DocketError:
        pass
    return None


@settings(max_examples=10, deadline=None)
@given(stream=st.lists(cc_commands, max_size=30))
def test_no_internal_note_reaches_anything_a_cc_is_mailed_or_reads(
    database_url: str, stream: list[Command]
) -> None:
    with fresh_schema(database_url) as schema:
        desk = SupportDesk(eventsourcing_env(database_url, schema, pool_size=2))
        notes: list[str] = []
        try:
            account = Account.open(account_id=uuid.uuid4(), name="Acme", plan="business",
                                   support_tier="standard", stamp=requester(T0))  # fmt: skip
            for member_id, email in (("req-1", "req-1@acme.test"), ("mia-1", MEMBER[0])):
                account.add_member(
                    member=NewMember(member_id, email, member_id, "member"), stamp=requester(T0)
                )
            ticket = Ticket.file(ticket_id=uuid.uuid4(), number="T-000001", subject="Sync",
                                 description="Files stop syncing", type="bug", priority="normal",
                                 product="Files", topic="sync", channel="web",
                                 requester_id="req-1", account_id="acct-1", stamp=requester(T0))  # fmt: skip
            ticket.add_cc(email=MEMBER[0], member_id=MEMBER[1], stamp=requester(T0))
            ticket.add_cc(email=OUTSIDER[0], member_id=None, stamp=requester(T0))
            desk.save(account, ticket)
            minutes = 0
            for given_command in stream:
                minutes += given_command.minutes
                command = given_command
                if command.name == "note":
                    notes.append(f"zqx{len(notes)}secret")
                    command = Command("note", {"body": notes[-1]}, command.minutes)
                run_with_ccs(ticket, command, minutes)
                desk.save(ticket)
        finally:
            desk.close()
        runner = ProjectionRunner(database_url, schema, VIEWS.values())
        runner.create_tables()
        runner.catch_up()
        t = Tables(schema)
        with psycopg.connect(database_url, autocommit=True) as conn:
            mails = conn.execute(
                f"SELECT recipient_ids, body FROM {t('outbox_mail')} "
                "WHERE recipient_ids && ARRAY['mia-1', 'cc:out@partner.test']"
            ).fetchall()
            mine = ListFilter(participant_id="mia-1", account_ids=("acct-1",))
            seen: list[Any] = [*mails, *customer_tickets.tickets(conn, t, mine, limit=100).rows]
            seen.append(ticket_detail.detail(conn, t, "T-000001", with_internal_notes=False))
            for word in notes:
                hit = ListFilter(participant_id="mia-1", account_ids=("acct-1",), q=word)
                assert customer_tickets.tickets(conn, t, hit).rows == []
            readable = json.dumps(seen, default=str)
            assert not [word for word in notes if word in readable]
            staff = ticket_detail.detail(conn, t, "T-000001", with_internal_notes=True)
            assert all(word in json.dumps(staff, default=str) for word in notes)  # can fail
