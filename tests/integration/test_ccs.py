"""CCs on real PostgreSQL and loopback SMTP: who a ticket copies gets its public replies
(never a note), a member it copies sees it in their lists, a CC from outside answers by
email with the sender proof, and a CC removed is sent nothing more, not even what was owed."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from desk.service import SupportDesk
from domain.errors import MailRefused, NotCopied
from domain.stamp import Stamp
from mail.intake import MailIntake
from mail.sender import MailSender
from projections import ticket_detail
from projections.kit import Tables
from projections.lists import customer_tickets
from projections.lists.filters import ListFilter
from projections.outbox import listing
from projections.runner import ProjectionRunner
from tests.builders import desk_with_account, new_member, now, system
from tests.mailserver import IDENTITY, Mailbox, mail_intake, mail_sender

NOTE = "INTERNAL: the partner's contract lapsed, do not tell them"
OUTSIDER = "out@partner.test"


def staff(agent: UUID) -> Stamp:
    return Stamp(str(agent), "agent", "web", now())


@pytest.fixture
def world(desk: SupportDesk) -> dict[str, Any]:
    """Acme's ticket by R, copying Mia (a member of Acme) and someone from a partner."""
    account = desk_with_account(desk)
    new_member(desk, account, "mia-1", "Mia@Acme.test", "Mia", at=now())
    agent = desk.register_staff(
        name="Alex Agent", email="alex@desk.test", role="agent", stamp=system(now())
    ).staff_id
    filed = desk.file_ticket(account_id=account, requester_id="req-1", subject="Sync fails",
                             description="Files stop syncing.", type="bug", priority="normal",
                             product="Files", stamp=Stamp("req-1", "requester", "web", now()))  # fmt: skip
    t = filed.ticket_id
    desk.add_cc(t, email="mia@acme.test", stamp=Stamp("req-1", "requester", "web", now()))
    desk.add_cc(t, email=" Out@Partner.test", stamp=staff(agent))
    return {"account": account, "agent": agent, "ticket": t, "number": filed.number}


def sender(database_url: str, schema: str, smtp_url: str, desk: SupportDesk) -> MailSender:
    """The sender as the runtime makes it: who a ticket copies is asked of the desk."""
    return mail_sender(database_url, schema, smtp_url,
                       copied=lambda t: desk.ticket_facts(t).cc_people)  # fmt: skip


def agent_reply(desk: SupportDesk, world: dict[str, Any], body: str) -> None:
    desk.add_message(world["ticket"], author_id=str(world["agent"]), author_role="agent",
                     body=body, stamp=staff(world["agent"]))  # fmt: skip


def test_the_ticket_copies_a_member_by_their_id_and_an_outsider_by_address(
    desk: SupportDesk, world: dict[str, Any]
) -> None:
    facts = desk.ticket_facts(world["ticket"])
    assert facts.ccs == (("mia@acme.test", "mia-1"), (OUTSIDER, None))
    assert facts.cc_people == {"mia-1", f"cc:{OUTSIDER}"}
    assert facts.owner.cc_member_ids == {"mia-1"}


def test_every_cc_gets_a_public_reply_in_a_copy_of_their_own_and_never_a_note(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    conn: psycopg.Connection[Any], mail: tuple[str, Mailbox], world: dict[str, Any],
) -> None:  # fmt: skip
    desk.add_internal_note(world["ticket"], author_id=str(world["agent"]), body=NOTE,
                           stamp=staff(world["agent"]))  # fmt: skip
    agent_reply(desk, world, "Which version do you run?")
    desk.change_status(world["ticket"], to_status="pending", stamp=staff(world["agent"]))
    runner.catch_up()
    assert sender(database_url, schema, mail[0], desk).drain(conn) == {"sent": 3}
    acknowledgement, *got = mail[1].messages()
    assert acknowledgement["To"] == "r@acme.test"  # the filing's, to the requester alone
    # the reply to R, Mia (at her address as her account has it) and the outsider; the
    # pending notice to the requester only
    assert [m["To"] for m in got] == ["r@acme.test", "Mia@Acme.test", OUTSIDER, "r@acme.test"]
    assert all(NOTE not in m.as_string() and "lapsed" not in m.as_string() for m in got)
    signed_for = {"r@acme.test": "req-1", "Mia@Acme.test": "mia-1", OUTSIDER: f"cc:{OUTSIDER}"}
    for m in got:
        reply_to = m["Reply-To"].addresses[0].addr_spec
        assert reply_to == IDENTITY.reply_address(world["number"], signed_for[m["To"]])
    assert len({m["Reply-To"] for m in got}) == 3


def test_a_cc_removed_before_an_owed_email_goes_is_sent_nothing_and_the_others_are(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    conn: psycopg.Connection[Any], mail: tuple[str, Mailbox], world: dict[str, Any],
) -> None:  # fmt: skip
    agent_reply(desk, world, "Fixed in 4.3.")
    runner.catch_up()  # the email is owed to R, Mia and the outsider
    desk.remove_cc(world["ticket"], email=OUTSIDER.upper(), stamp=staff(world["agent"]))
    # the outbox has not read the removal yet: the sender asks the desk as the email goes
    # the filing's acknowledgement, then the reply
    assert sender(database_url, schema, mail[0], desk).drain(conn) == {"sent": 2}
    assert [r.rcpt_tos for r in mail[1].received] == [
        ["r@acme.test"], ["r@acme.test"], ["Mia@Acme.test"]
    ]  # fmt: skip
    [row] = [r for r in listing(conn, Tables(schema), IDENTITY, state=None,
                                ticket=world["number"], limit=5, before=None)
             if r["reason"] == "reply"]  # fmt: skip
    assert row["state"] == "sent"
    assert "no longer a CC" in row["last_error"]


def test_an_email_owed_only_to_ccs_since_removed_is_withheld_even_by_the_outbox_alone(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    conn: psycopg.Connection[Any], mail: tuple[str, Mailbox], world: dict[str, Any],
) -> None:  # fmt: skip
    desk.add_message(world["ticket"], author_id="req-1", author_role="requester", body="Any news?",
                     stamp=Stamp("req-1", "requester", "web", now()))  # fmt: skip
    runner.catch_up()  # owed to Mia and the outsider: the requester wrote it
    for address in ("mia@acme.test", OUTSIDER):
        desk.remove_cc(world["ticket"], email=address, stamp=staff(world["agent"]))
    runner.catch_up()
    plain = mail_sender(database_url, schema, mail[0])
    assert plain.drain(conn) == {"sent": 1, "withheld": 1}  # sent: the acknowledgement
    assert [r.rcpt_tos for r in mail[1].received] == [["r@acme.test"]]


def test_a_member_copied_finds_the_ticket_in_their_list_and_detail_until_removed(
    schema: str, desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any],
    world: dict[str, Any],
) -> None:  # fmt: skip
    t = Tables(schema)
    desk.add_internal_note(world["ticket"], author_id=str(world["agent"]), body=NOTE,
                           stamp=staff(world["agent"]))  # fmt: skip
    runner.catch_up()
    mine = ListFilter(participant_id="mia-1", account_ids=(str(world["account"]),))
    assert [r["number"] for r in customer_tickets.tickets(conn, t, mine).rows] == [world["number"]]
    assert (
        customer_tickets.tickets(conn, t, ListFilter(participant_id="mia-1", q="lapsed")).rows
        == []
    )
    owner = ticket_detail.owner_of(conn, t, world["number"])
    assert owner is not None and owner.cc_member_ids == {"mia-1"}
    seen = ticket_detail.detail(conn, t, world["number"], with_internal_notes=False,
                                seen_by="customer")  # fmt: skip
    assert seen is not None and "internal_notes" not in seen
    assert [(c["email"], c["member_id"]) for c in seen["ccs"]] == [
        ("mia@acme.test", "mia-1"), (OUTSIDER, None),
    ]  # fmt: skip
    desk.remove_cc(world["ticket"], email="mia@acme.test", stamp=staff(world["agent"]))
    runner.catch_up()
    assert customer_tickets.tickets(conn, t, mine).rows == []
    owner = ticket_detail.owner_of(conn, t, world["number"])
    assert owner is not None and owner.cc_member_ids == frozenset()


def last_event(desk: SupportDesk, ticket: UUID) -> Any:
    events: list[Any] = list(desk.repository.event_store.get(ticket))
    return events[-1]


def from_outsider(to: str, number: str, text: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Olga Partner <{OUTSIDER.upper()}>"
    message["To"] = to
    message["Subject"] = f"Re: [{number}] Sync fails"
    message["Message-ID"] = message_id
    message.set_content(text)
    return message.as_bytes()


def test_an_outside_cc_answering_their_own_reply_address_lands_as_a_public_message_by_them(
    desk: SupportDesk, runner: ProjectionRunner, intake: MailIntake, world: dict[str, Any]
) -> None:
    number = world["number"]
    theirs = IDENTITY.reply_address(number, f"cc:{OUTSIDER}")
    taken = intake.take(from_outsider(theirs, number, "We see it too.", "<o1@partner.test>"))
    assert taken.action == "added"
    last = last_event(desk, world["ticket"])
    assert (last.author_id, last.author_role, last.body) == (
        f"cc:{OUTSIDER}",
        "cc",
        "We see it too.",
    )
    assert (last.stamp.actor_kind, last.stamp.via) == ("cc", "email")


@pytest.mark.parametrize(
    "to",
    [
        "help+{number}@desk.test",  # the ticket's plain address: no proof
        "help+{number}.aaaaaaaaaaaaaaaaaaaaaaaaaa@desk.test",  # a made-up token
        "help+{number}.{requesters}@desk.test",  # the requester's token, not theirs
    ],
)
def test_an_outside_cc_without_the_proof_is_refused_and_nothing_is_added(
    desk: SupportDesk, intake: MailIntake, world: dict[str, Any], to: str
) -> None:
    number = world["number"]
    requesters = IDENTITY.reply_token(number, "req-1")
    before = desk.ticket_facts(world["ticket"]).version
    address = to.format(number=number, requesters=requesters)
    with pytest.raises(MailRefused) as refused:
        intake.take(from_outsider(address, number, "Let me in.", "<o2@partner.test>"))
    assert refused.value.reason == "sender-unproven"
    assert refused.value.answered is not None and refused.value.answered[0] == "unknown-ticket"
    assert desk.ticket_facts(world["ticket"]).version == before


def test_a_cc_removed_cannot_answer_even_with_the_address_they_were_sent(
    desk: SupportDesk, runner: ProjectionRunner, intake: MailIntake, world: dict[str, Any]
) -> None:
    runner.catch_up()  # the directory: the outsider is nobody it knows
    number = world["number"]
    theirs = IDENTITY.reply_address(number, f"cc:{OUTSIDER}")
    desk.remove_cc(world["ticket"], email=OUTSIDER, stamp=staff(world["agent"]))
    with pytest.raises(MailRefused) as refused:
        intake.take(from_outsider(theirs, number, "Still here?", "<o3@partner.test>"))
    assert refused.value.reason == "unknown-sender"
    with pytest.raises(NotCopied):  # nor by any other way in: the ticket refuses it
        desk.add_message(world["ticket"], author_id=f"cc:{OUTSIDER}", author_role="cc",
                         body="Still here?", stamp=Stamp(f"cc:{OUTSIDER}", "cc", "email", now()))  # fmt: skip


def test_a_member_copied_answers_by_email_as_a_cc_with_their_own_reply_address(
    desk: SupportDesk, runner: ProjectionRunner, intake: MailIntake, world: dict[str, Any]
) -> None:
    runner.catch_up()  # the directory knows Mia
    number = world["number"]
    message = EmailMessage()
    message["From"] = "Mia <mia@acme.test>"
    message["To"] = IDENTITY.reply_address(number, "mia-1")
    message["Subject"] = f"Re: [{number}] Sync fails"
    message["Message-ID"] = "<m1@acme.test>"
    message.set_content("Same on my laptop.")
    assert intake.take(message.as_bytes()).action == "added"
    last = last_event(desk, world["ticket"])
    assert (last.author_id, last.author_role, last.stamp.actor_kind) == ("mia-1", "cc", "cc")


def test_an_outside_cc_the_trusted_gateway_vouches_for_is_taken_at_the_plain_address(
    database_url: str, schema: str, desk: SupportDesk, runner: ProjectionRunner,
    world: dict[str, Any],
) -> None:  # fmt: skip
    runner.catch_up()
    with ConnectionPool(database_url, min_size=1, max_size=1,
                        kwargs={"autocommit": True}) as pool:  # fmt: skip
        taker = mail_intake(desk, pool, schema, trusted_authserv_id="mx.desk.test")
        plain = f"help+{world['number']}@desk.test"
        raw = from_outsider(plain, world["number"], "Vouched for.", "<o4@partner.test>")
        forged = b"Authentication-Results: mx.desk.test; dmarc=pass header.from=elsewhere.test\r\n"
        with pytest.raises(MailRefused):  # a verdict for another domain proves nothing
            taker.take(forged + raw)
        verdict = b"Authentication-Results: mx.desk.test; dmarc=pass header.from=partner.test\r\n"
        assert taker.take(verdict + raw).action == "added"
    last = last_event(desk, world["ticket"])
    assert (last.author_id, last.body) == (f"cc:{OUTSIDER}", "Vouched for.")
