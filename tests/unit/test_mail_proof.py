"""Who sent an email: the gateway's Authentication-Results, the reply addresses Docket
signs for each recipient, and the headers of the emails Docket sends."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mail.message import parse_mail
from mail.proof import aligned, read_authentication_results, vouched_for
from mail.sender import render
from mail.text import header_line
from projections.outbox import MailIdentity

GATEWAY = "mx.desk.test"


def results(*values: str) -> tuple[str, ...]:
    return values


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ((f"{GATEWAY}; dmarc=pass (p=reject) header.from=acme.test",), "r@acme.test"),
        ((f"{GATEWAY} 1; dkim=pass header.d=acme.test header.s=s1",), "r@acme.test"),
        ((f"{GATEWAY}; dkim=pass header.d=acme.test",), "r@eu.mail.acme.test"),  # parent
        ((f"{GATEWAY}; dkim=pass header.i=@acme.test",), "r@acme.test"),
        (("MX.Desk.Test;\r\n dkim=fail header.d=x.test;\r\n dmarc=pass header.from=ACME.test",),
         "r@acme.test"),
        (("mx.other.test; dmarc=fail", f"{GATEWAY}; dmarc=pass header.from=acme.test"),
         "r@acme.test"),  # another server's header above the gateway's does not hide it
    ],
)  # fmt: skip
def test_the_gateways_pass_for_the_from_domain_vouches_for_the_sender(
    headers: tuple[str, ...], sender: str
) -> None:
    assert vouched_for(headers, GATEWAY, sender)


@pytest.mark.parametrize(
    "headers",
    [
        (),
        (f"{GATEWAY}; none",),
        (f"{GATEWAY}; dmarc=fail header.from=acme.test",),
        (f"{GATEWAY}; dmarc=pass header.from=evil.test",),
        (f"{GATEWAY}; dmarc=pass",),  # no domain named: not this one
        (f"{GATEWAY}; dkim=pass header.d=evil.test",),
        (f"{GATEWAY}; dkim=pass header.d=test",),  # a bare top-level name aligns nothing
        (f"{GATEWAY}; dkim=pass header.d=notacme.test",),
        (f"{GATEWAY}; dkim=neutral header.d=acme.test",),
        (f"{GATEWAY}; spf=pass smtp.mailfrom=acme.test",),  # SPF says nothing of From
        ("mx.evil.test; dmarc=pass header.from=acme.test",),
        (f"{GATEWAY}.evil.test; dmarc=pass header.from=acme.test",),
        (f"{GATEWAY}; dmarc=pass (header.from=acme.test) header.from=evil.test",),
        (f'{GATEWAY}; spf=pass smtp.mailfrom="x;dmarc=pass header.from=acme.test"@evil.test',),
        (f"{GATEWAY}; spf=pass (x;dmarc=pass header.from=acme.test) smtp.mailfrom=e.test",),
        # the sender's own header, under the gateway's verdict, counts for nothing
        (f"{GATEWAY}; dmarc=fail header.from=acme.test",
         f"{GATEWAY}; dmarc=pass header.from=acme.test"),
    ],
)  # fmt: skip
def test_anything_else_vouches_for_nobody(headers: tuple[str, ...]) -> None:
    assert not vouched_for(headers, GATEWAY, "r@acme.test")


def test_with_no_trusted_gateway_no_header_vouches() -> None:
    assert not vouched_for((f"{GATEWAY}; dmarc=pass header.from=acme.test",), None, "r@acme.test")
    assert not vouched_for((f"{GATEWAY}; dmarc=pass header.from=acme.test",), "", "r@acme.test")


def test_authentication_results_are_read_with_comments_quotes_and_versions() -> None:
    authserv, verdicts = read_authentication_results(
        'mx.desk.test 1; (a comment; with (nested) parts) dkim/1=pass reason="good; ok" '
        "header.d=Acme.Test; spf=pass smtp.mailfrom=r@acme.test"
    )
    assert authserv == "mx.desk.test"
    assert [(v.method, v.result) for v in verdicts] == [("dkim", "pass"), ("spf", "pass")]
    assert verdicts[0].properties["header.d"] == "acme.test"
    assert aligned("acme.test", "mail.acme.test") and not aligned("acme.test", "xacme.test")


def test_the_parsed_email_keeps_its_authentication_results_top_first() -> None:
    raw = (
        b"Authentication-Results: mx.desk.test; dmarc=fail\r\n"
        b"Received: from x by mx.desk.test\r\n"
        b"Authentication-Results: mx.desk.test; dmarc=pass header.from=acme.test\r\n"
        b"From: r@acme.test\r\nTo: help@desk.test\r\nSubject: hi\r\n\r\nhello\r\n"
    )
    mail = parse_mail(raw)
    assert mail.authentication_results[0] == "mx.desk.test; dmarc=fail"
    assert not vouched_for(mail.authentication_results, GATEWAY, mail.sender)


def test_each_recipients_reply_address_is_signed_for_them_and_that_ticket_alone() -> None:
    identity = MailIdentity("Help <help@desk.test>", "help@desk.test", b"secret")
    mine = identity.reply_address("T-000001", "req-1")
    local, _, domain = mine.partition("@")
    assert domain == "desk.test" and local.startswith("help+T-000001.")
    token = local.rpartition(".")[2]
    assert len(token) == 26 and len(local) <= 64
    assert identity.proves("T-000001", "req-1", token.upper())
    assert not identity.proves("T-000001", "admin-1", token)
    assert not identity.proves("T-000002", "req-1", token)
    other_server = MailIdentity("Help <help@desk.test>", "help@desk.test", b"other secret")
    assert not other_server.proves("T-000001", "req-1", token)
    unsigned = MailIdentity("Help <help@desk.test>", "help@desk.test")
    assert unsigned.reply_address("T-000001", "req-1") == "help+T-000001@desk.test"
    assert not unsigned.proves("T-000001", "req-1", "")


@given(st.text(max_size=40))
def test_any_text_on_a_reply_address_is_no_proof_and_no_crash(token: str) -> None:
    """A reply address ``help+T-000001.tök@…`` (UTF-8 headers) was a 500: hmac's
    compare_digest refuses non-ASCII text."""
    identity = MailIdentity("Help <help@desk.test>", "help@desk.test", b"secret")
    mine = identity.reply_token("T-000001", "req-1")
    assert identity.proves("T-000001", "req-1", token) == (
        token.isascii() and token.lower() == mine
    )
    assert not identity.proves("T-000001", "req-1", mine[:-1] + "\u00f6")


def test_outgoing_headers_carry_no_bidi_override_or_invisible_character() -> None:
    """Issue 17: a right-to-left override in a ticket subject reached email subjects."""
    identity = MailIdentity("Acme\u202e Help\u200b <help@desk.test>", "help@desk.test", b"s")
    row = {
        "ticket_id": uuid4(), "version": 3, "earlier": [2], "number": "T-000001",
        "recipients": ["r@acme.test"], "recipient_ids": ["req-1"], "reason": "reply", "reply_number": "",
        "subject": "Re: [T-000001] Invoice \u202egnp.exe\u2066\u2069\u200f\u061c\u2028x\U000e0041",
        "created_at": datetime(2024, 3, 4, tzinfo=UTC), "body": "Hello",
        "notice_subject": "Invoice \u202egnp.exe\u2066\u2069\u200f\u061c\u2028x\U000e0041",
        "notice_author": "Alex", "notice_text": "Hello", "notice_tag": "", "notice_due_at": None,
        "notice_within_seconds": None, "recipient_languages": ["en"], "recipient_time_zones": [""],
    }  # fmt: skip
    message = render(row, identity, "req-1", "r@acme.test")
    assert message["Subject"] == "Re: [T-000001] Invoice gnp.exe x"
    assert message["From"].addresses[0].display_name == "Acme Help"
    assert message["Reply-To"].addresses[0].display_name == "Acme Help"
    assert message["Reply-To"].addresses[0].addr_spec == identity.reply_address(
        "T-000001", "req-1"
    )
    assert message["To"] == "r@acme.test"
    assert header_line("family \U0001f468\u200d\U0001f469\u200d\U0001f467") == (
        "family \U0001f468\u200d\U0001f469\u200d\U0001f467"
    )  # emoji keep their joiners
