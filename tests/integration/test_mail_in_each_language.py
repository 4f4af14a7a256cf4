"""Emails in each recipient's language, over real SMTP on loopback: the notifications,
and the acknowledgement of a ticket filed, dates and times in the recipient's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import psycopg
import pytest
from babel.dates import format_date

from desk.service import SupportDesk
from domain.stamp import Stamp
from mail.trimming import trim_reply
from projections.runner import ProjectionRunner
from tests.builders import new_member, new_staff, now, system
from tests.mailserver import IDENTITY, Mailbox, mail_sender

NOTE = "INTERNAL: the customer is on the legacy cluster"
FILED_AT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
"""Late on Monday in UTC: already Tuesday in Paris."""


def bilingual_account(desk: SupportDesk) -> UUID:
    """Amélie reads French in Paris; Ray reads English, with no time zone but UTC."""
    account = desk.open_account(name="Acme", plan="business", stamp=system(now())).account_id
    in_paris = {"language": "fr", "time_zone": "Europe/Paris"}
    new_member(desk, account, "amelie", "amelie@acme.test", "Amélie", at=now(), **in_paris)
    new_member(desk, account, "ray", "ray@acme.test", "Ray", role="admin", at=now())
    return account


def filed_by(desk: SupportDesk, account: UUID, requester: str, **kw: Any) -> tuple[UUID, str]:
    fields: dict[str, Any] = {"subject": "Synchro en panne", "description": "Depuis ce matin.",
                              "type": "bug", "priority": "high", "product": "Files",
                              "stamp": Stamp(requester, "requester", "web", FILED_AT), **kw}  # fmt: skip
    filed = desk.file_ticket(account_id=account, requester_id=requester, **fields)
    return filed.ticket_id, filed.number


def text_of(message: EmailMessage) -> str:
    return str(message.get_content()).replace("\r\n", "\n")


Delivered = Callable[[], list[EmailMessage]]


@pytest.fixture
def delivered(
    database_url: str, schema: str, conn: psycopg.Connection[Any], runner: ProjectionRunner,
    mail: tuple[str, Mailbox],
) -> Delivered:  # fmt: skip
    """Every email the views owe by now, sent over SMTP once: what the mailbox received."""

    def deliver() -> list[EmailMessage]:
        runner.catch_up()
        # the dates are fixed: none is too old to send
        sender = mail_sender(database_url, schema, mail[0], max_age=timedelta(days=3650))
        sender.drain(conn)
        assert sender.drain(conn) == {}  # once: nothing is owed twice
        return mail[1].messages()

    return deliver


def test_a_french_requester_is_acknowledged_in_french_with_paris_dates(
    desk: SupportDesk, delivered: Delivered
) -> None:
    account = bilingual_account(desk)
    _, number = filed_by(desk, account, "amelie")
    [ack] = delivered()
    assert ack["To"] == "amelie@acme.test"
    assert ack["Subject"] == f"Demande reçue : [{number}] Synchro en panne"
    assert ack["Content-Language"] == "fr"
    body = text_of(ack)
    assert body.startswith("##- Veuillez écrire votre réponse au-dessus de cette ligne -##")
    # 23:30 UTC on Monday is 00:30 on Tuesday in Paris, said the French way
    assert "Nous avons bien reçu votre demande le mardi 3 mars 2026 à 00:30 (Europe/Paris)" in body
    assert f"Son numéro de ticket est {number} ; son objet : Synchro en panne." in body
    # the standard tier answers a high-priority ticket within 24 hours, around the clock
    assert (
        "Nous vous répondrons dans un délai de 24\xa0heures (en heures ouvrées), au plus tard "
        "le mercredi 4 mars 2026 à 00:30 (Europe/Paris)." in body
    )
    assert f"gardez {number} dans l'objet" in body
    reply_to = ack["Reply-To"].addresses[0].addr_spec
    assert reply_to == IDENTITY.reply_address(number, "amelie")  # hers alone, signed


def test_an_english_requester_is_acknowledged_in_english_with_utc_dates(
    desk: SupportDesk, delivered: Delivered
) -> None:
    account = bilingual_account(desk)
    _, number = filed_by(desk, account, "ray", subject="Sync is down")
    [ack] = delivered()
    assert ack["Subject"] == f"Request received: [{number}] Sync is down"
    assert ack["Content-Language"] == "en"
    body = text_of(ack)
    assert body.startswith("##- Please type your reply above this line -##")
    assert "We received your request on Monday, March 2, 2026 at 11:30\u202fPM (UTC)" in body
    assert (
        "We will answer within 24 hours of business time, by Tuesday, March 3, 2026 at "
        "11:30\u202fPM (UTC)." in body
    )
    assert ack["Auto-Submitted"] == "auto-generated"


def test_one_reply_reaches_each_recipient_in_their_own_language(
    desk: SupportDesk, delivered: Delivered
) -> None:
    account = bilingual_account(desk)
    ticket, number = filed_by(desk, account, "amelie")
    desk.add_message(ticket, author_id="ray", author_role="collaborator", body="Pareil ici.",
                     stamp=Stamp("ray", "requester", "web", FILED_AT))  # fmt: skip
    alex = f"alex-{uuid4().hex[:8]}@desk.test"
    agent = new_staff(desk, "Alex Agent", alex, at=now(), language="fr")
    answered_at = datetime(2026, 7, 14, 9, 5, tzinfo=UTC)  # summer time in Paris: 11:05
    desk.add_message(ticket, author_id=agent, author_role="agent", body="Corrigé en 4.3.",
                     stamp=Stamp(agent, "agent", "web", answered_at))  # fmt: skip
    got = delivered()
    copies = {m["To"]: m for m in got if m["Message-ID"].endswith(f"-{3}@desk.test>")}
    assert set(copies) == {"amelie@acme.test", "ray@acme.test"}
    french, english = copies["amelie@acme.test"], copies["ray@acme.test"]
    assert french["Message-ID"] == english["Message-ID"]  # one email, a copy each
    assert french["Subject"] == english["Subject"] == f"Re: [{number}] Synchro en panne"
    paris_day = format_date(answered_at.astimezone(ZoneInfo("Europe/Paris")), "full", locale="fr")
    assert (
        f"Alex Agent a écrit sur le ticket {number} (Synchro en panne) le {paris_day} à 11:05 "
        "(Europe/Paris) :\n\nCorrigé en 4.3." in text_of(french)
    )
    assert (
        f"Alex Agent wrote on ticket {number} (Synchro en panne) on Tuesday, July 14, 2026 at "
        "9:05\u202fAM (UTC):\n\nCorrigé en 4.3." in text_of(english)
    )
    assert french["Content-Language"] == "fr" and english["Content-Language"] == "en"


def test_each_cc_gets_their_copy_of_a_reply_in_their_own_language(
    desk: SupportDesk, delivered: Delivered
) -> None:
    account = bilingual_account(desk)
    ticket, number = filed_by(desk, account, "ray", subject="Sync is down")
    ray = Stamp("ray", "requester", "web", FILED_AT)
    desk.add_cc(ticket, email="amelie@acme.test", stamp=ray)  # a member: she reads French
    desk.add_cc(ticket, email="it@partner.test", stamp=ray)  # from outside: English
    agent = new_staff(desk, "Alex Agent", f"alex-{uuid4().hex[:8]}@desk.test", at=now())
    desk.add_message(ticket, author_id=agent, author_role="agent", body="Fixed in 4.3.",
                     stamp=Stamp(agent, "agent", "web", FILED_AT))  # fmt: skip
    got = delivered()
    copies = {m["To"]: m for m in got if m["Subject"].startswith("Re:")}
    assert set(copies) == {"ray@acme.test", "amelie@acme.test", "it@partner.test"}
    languages = {to: m["Content-Language"] for to, m in copies.items()}
    assert languages == {"ray@acme.test": "en", "amelie@acme.test": "fr", "it@partner.test": "en"}
    assert f"Alex Agent a écrit sur le ticket {number}" in text_of(copies["amelie@acme.test"])
    assert f"Alex Agent wrote on ticket {number}" in text_of(copies["it@partner.test"])


def test_the_acknowledgement_says_nothing_staff_only_and_goes_to_the_requester_only(
    desk: SupportDesk, mail: tuple[str, Mailbox], delivered: Delivered
) -> None:
    account = bilingual_account(desk)
    ticket, number = filed_by(desk, account, "amelie", description="Le client dit: rien.")
    zed = f"zed-{uuid4().hex[:8]}@desk.test"
    agent = new_staff(desk, "Zed Secretagent", zed, groups=["tier-9-secret"], at=now())
    staff = Stamp(agent, "agent", "web", FILED_AT)
    desk.add_internal_note(ticket, author_id=agent, body=NOTE, stamp=staff)
    desk.assign(ticket, agent_id=agent, group="tier-9-secret", stamp=staff)
    got = delivered()
    [ack] = [m for m in got if m["Message-ID"].endswith("-1@desk.test>")]
    assert [m["To"] for m in got] == ["amelie@acme.test"]  # notes and assignments mail nobody
    text = " ".join([text_of(ack), *(str(v) for _, v in ack.items())])
    for secret in (NOTE, "legacy cluster", "Zed", "Secretagent", "tier-9-secret", "standard",
                   "24x7", "high", "Le client dit"):  # fmt: skip
        assert secret not in text
    assert number in ack["Subject"]


def test_an_imported_ticket_is_acknowledged_to_nobody(
    desk: SupportDesk, delivered: Delivered
) -> None:
    account = bilingual_account(desk)
    filed_by(desk, account, "amelie", channel="import",
             stamp=Stamp("importer", "importer", "import", FILED_AT))  # fmt: skip
    assert delivered() == []


def test_a_reply_quoting_a_french_email_keeps_only_the_new_text() -> None:
    reply = (
        "Merci, c'est réglé.\n\nLe mar. 3 mars 2026, Acme Help a écrit :\n"
        "> ##- Veuillez écrire votre réponse au-dessus de cette ligne -##\n"
        "> Nous avons bien reçu votre demande\n"
    )
    assert trim_reply(reply) == "Merci, c'est réglé."
