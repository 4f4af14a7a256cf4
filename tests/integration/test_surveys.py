"""Survey emails: folded into the outbox from the closing, sent over real SMTP on loopback,
in the requester's language, with links that read back as the closing they rate."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from api.survey_pages import survey_form
from desk.service import SupportDesk
from domain.stamp import Stamp
from domain.surveys import read_survey_link
from projections.kit import Tables
from projections.outbox import MailIdentity, listing
from projections.runner import ProjectionRunner
from tests.builders import SYNC_FAILS, desk_with_account, now
from tests.mailserver import Mailbox, mail_sender

IDENTITY = MailIdentity(
    "Acme Help <help@desk.test>", "help@desk.test", b"a server secret", "https://help.desk.test"
)
NOTE = "INTERNAL: refund approved off the books"
LINK = re.compile(r"https://help\.desk\.test/v1/surveys/([^?\s]+)\?score=([1-5])")


def as_agent() -> Stamp:
    return Stamp("agent-1", "agent", "web", now())


def as_member(member: str) -> Stamp:
    return Stamp(member, "requester", "web", now())


def worked_and_closed(desk: SupportDesk, account: UUID, requester: str) -> tuple[UUID, str]:
    """A ticket of ``requester``'s answered, noted on (before and after) and closed."""
    filed = desk.file_ticket(account_id=account, requester_id=requester, **SYNC_FAILS,
                             stamp=as_member(requester))  # fmt: skip
    t = filed.ticket_id
    desk.add_message(t, author_id="agent-1", author_role="agent", body="Fixed in 4.3.",
                     stamp=as_agent())  # fmt: skip
    desk.add_internal_note(t, author_id="agent-1", body=NOTE, stamp=as_agent())
    desk.change_status(t, to_status="closed", stamp=as_agent())
    desk.add_internal_note(t, author_id="agent-1", body=NOTE + " (after)", stamp=as_agent())
    return t, filed.number


def with_french_member(desk: SupportDesk) -> UUID:
    account = desk_with_account(desk)
    desk.add_member(account, member_id="req-fr", email="f@acme.test", name="Françoise",
                    role="member", language="fr", stamp=as_agent())  # fmt: skip
    return account


def surveys_in(messages: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in messages if m["Subject"].startswith(("How did we do?", "Votre avis"))]


@dataclass(frozen=True)
class SurveyMail:
    """Where these tests look for surveys: the outbox of the test's schema, and the SMTP
    server its mail is sent to."""

    database_url: str
    schema: str
    conn: psycopg.Connection[Any]
    mail: tuple[str, Mailbox]

    def send(self, identity: MailIdentity = IDENTITY) -> dict[str, int]:
        """One pass of the outbound mail, signed as ``identity``: what it did, by outcome."""
        sender = mail_sender(self.database_url, self.schema, self.mail[0], identity)
        return sender.drain(self.conn)

    def received(self) -> list[EmailMessage]:
        """The surveys the SMTP server has received."""
        return surveys_in(self.mail[1].messages())

    def rows(self, number: str) -> list[dict[str, Any]]:
        """The outbox's surveys of ticket ``number``."""
        t = Tables(self.schema)
        rows = listing(self.conn, t, IDENTITY, state=None, ticket=number, limit=50, before=None)
        return [r for r in rows if r["reason"] == "survey"]


@pytest.fixture
def surveys(
    database_url: str, schema: str, conn: psycopg.Connection[Any], mail: tuple[str, Mailbox]
) -> SurveyMail:
    return SurveyMail(database_url, schema, conn, mail)


def test_a_closing_emails_its_requester_a_survey_in_english_or_french_over_smtp(
    desk: SupportDesk, runner: ProjectionRunner, surveys: SurveyMail
) -> None:
    account = with_french_member(desk)
    english, en_number = worked_and_closed(desk, account, "req-1")
    french, fr_number = worked_and_closed(desk, account, "req-fr")
    runner.catch_up()
    # the acknowledgement of each filing, then its reply, closed notice and survey
    assert surveys.send() == {"sent": 8}
    received = surveys.received()
    assert [(m["To"], m["Subject"]) for m in received] == [
        ("r@acme.test", f"How did we do? [{en_number}] Sync fails"),
        ("f@acme.test", f"Votre avis sur notre aide [{fr_number}] Sync fails"),
    ]
    en, fr = (m.get_content() for m in received)
    assert en.startswith("Hello R,") and "5 - Very satisfied: https://" in en
    assert fr.startswith("Bonjour Françoise,") and "est maintenant fermé" in fr
    assert "5 - Très satisfait: https://" in fr and "Very" not in fr
    for message, ticket, language in ((received[0], english, "en"), (received[1], french, "fr")):
        links = LINK.findall(message.get_content())
        assert [int(score) for _, score in links] == [1, 2, 3, 4, 5]
        assert len({token for token, _ in links}) == 1  # one link, the score chosen on it
        link = read_survey_link(links[0][0], IDENTITY.secret, now())
        assert (link.ticket_id, link.cycle, link.language) == (ticket, 1, language)
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Docket-Ticket"] in (en_number, fr_number)
    assert surveys.send() == {}  # each delivered once


def test_a_survey_email_its_links_and_its_page_never_carry_an_internal_note(
    desk: SupportDesk, runner: ProjectionRunner, surveys: SurveyMail
) -> None:
    account = with_french_member(desk)
    _, number = worked_and_closed(desk, account, "req-fr")
    runner.catch_up()
    surveys.send()
    (survey,) = surveys.received()
    raw = survey.as_string()
    assert "refund" not in raw and "off the books" not in raw and "INTERNAL" not in raw
    (row,) = surveys.rows(number)
    assert "refund" not in row["body"] and "refund" not in row["subject"]
    (token, _), *_ = LINK.findall(survey.get_content())
    link = read_survey_link(token, IDENTITY.secret, now())
    page = survey_form(link.language, token, desk.check_survey(link, at=now()), 5)
    assert "refund" not in page and "INTERNAL" not in page
    assert number in page


def test_no_survey_for_an_opted_out_requester_or_an_imported_ticket(
    desk: SupportDesk, runner: ProjectionRunner, surveys: SurveyMail
) -> None:
    account = with_french_member(desk)
    desk.set_member_preferences(account, member_id="req-fr", surveys=False,
                                stamp=as_member("req-fr"))  # fmt: skip
    _, opted_out = worked_and_closed(desk, account, "req-fr")
    imported, _ = desk.import_ticket(
        ticket_id=uuid4(),
        account_id=account,
        filing={**SYNC_FAILS, "topic": "sync", "channel": "email", "requester_id": "req-1"},
        stamp=replace(as_member("req-1"), via="email"),
        changes=[],
    )
    assert imported is not None
    desk.change_status(imported.ticket_id, to_status="closed", stamp=as_agent())
    _, asked = worked_and_closed(desk, account, "req-1")  # the same requester, filed here
    runner.catch_up()
    assert surveys.rows(opted_out) == []
    assert surveys.rows(imported.number) == []
    assert len(surveys.rows(asked)) == 1
    surveys.send()
    assert [m["X-Docket-Ticket"] for m in surveys.received()] == [asked]


def test_a_survey_is_written_with_its_links_only_when_sent_and_only_with_a_secret(
    desk: SupportDesk, runner: ProjectionRunner, surveys: SurveyMail
) -> None:
    """The outbox keeps no link (the rows hold nothing of Docket's own secret): a desk with
    no secret sends no survey that could not be answered; it fails, and blocks nothing."""
    account = desk_with_account(desk)
    _, number = worked_and_closed(desk, account, "req-1")
    runner.catch_up()
    (row,) = surveys.rows(number)
    assert "[[survey-links]]" in row["body"] and "/v1/surveys/" not in row["body"]
    unsigned = replace(IDENTITY, secret=b"")
    assert surveys.send(unsigned) == {"sent": 3, "failed": 1}  # acknowledgement, reply, closed
    assert surveys.received() == []
