"""Inbound email read into an InboundMail, from real-world-shaped messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import DocketError, MailUnreadable
from mail.html_text import html_to_text
from mail.message import InboundMail, parse_mail
from mail.trimming import trim_reply

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"


def read(name: str) -> InboundMail:
    return parse_mail((FIXTURES / name).read_bytes())


# --- whole messages -----------------------------------------------------------------------


REPLIES = [
    (  # above an attribution wrapped on two lines
        "gmail_reply_long_history.eml",
        "Hi,\n\n"
        "It still fails after clearing the cache. The export stops at about 40% and\n"
        'the browser shows "Gateway Timeout" — screenshot in my previous mail.\n\n'
        "Thanks,\nCamille",
    ),
    (  # HTML only, read as text
        "outlook_html_only.eml",
        "Hi Sam,\n\n"
        "The loop is gone after the IdP certificate rotation & a browser restart.\n"
        "You can close the ticket.\n\n"
        "Kind regards,\nNgozi",
    ),
    (  # an iPhone's, without its mobile footer
        "french_reply.eml",
        "Merci, la synchronisation fonctionne de nouveau depuis ce matin.",
    ),
    (  # a French Gmail attribution wrapped on two lines
        "french_reply_gmail.eml",
        "Petite précision : seul l'agenda partagé « Équipe » reste vide.",
    ),
]


@pytest.mark.parametrize(("name", "text"), REPLIES)
def test_a_reply_keeps_only_the_new_text_above_its_quoted_history(name: str, text: str) -> None:
    assert read(name).text == text


def test_a_gmail_reply_keeps_its_quoted_history_in_the_full_text() -> None:
    mail = read("gmail_reply_long_history.eml")

    assert ">> Exporting the ticket list to CSV times out" in mail.full_text
    assert ">>> Your ticket T-1001 has been closed." in mail.full_text


def test_a_gmail_reply_prefers_the_plain_text_alternative() -> None:
    mail = read("gmail_reply_long_history.eml")

    assert "<div" not in mail.full_text
    assert "(Settings > Exports > Clear)" in mail.full_text


def test_a_gmail_reply_gives_threading_headers_and_every_recipient() -> None:
    mail = read("gmail_reply_long_history.eml")

    assert mail.sender == "camille.martin@example.org"
    assert mail.sender_name == "Camille Martin"
    assert mail.recipients == ("support+t-1042@docket.example", "ops@example.org")
    assert mail.subject == "Re: [T-1042] Export to CSV times out"
    assert mail.message_id == "<CAF3x9Qb7kq+ZpT2m@mail.gmail.com>"
    assert mail.in_reply_to == ("<ticket-T-1042-msg-3@docket.example>",)
    assert mail.references == (
        "<ticket-T-1042-msg-1@docket.example>",
        "<CAF3x9Qa1@mail.gmail.com>",
        "<ticket-T-1042-msg-3@docket.example>",
    )
    assert not mail.auto_reply


def test_an_html_only_outlook_reply_loses_scripts_and_styles_and_keeps_its_history() -> None:
    mail = read("outlook_html_only.eml")

    assert "alert(" not in mail.full_text
    assert "MsoNormal" not in mail.full_text
    assert "Sent: 06 January 2026 17:41" in mail.full_text
    assert "> Users get sent back to the login page over and over." in mail.full_text
    assert mail.sender_name == "Okafor, Ngozi"


def test_a_quoted_printable_latin_1_body_keeps_its_accents_and_euro_signs() -> None:
    mail = read("quoted_printable_accents.eml")

    assert "La facture de décembre indique 1\xa0250,00 € au lieu de" in mail.text
    assert "Pouvez-vous vérifier" in mail.text  # a soft line break joined the word again
    assert mail.text.endswith("Très cordialement,\nHélène")
    assert mail.subject == "Facture erronée"  # raw UTF-8 in a header, as some clients send


def test_french_encoded_subject_and_display_name_are_decoded() -> None:
    mail = read("french_headers.eml")

    assert mail.subject == "Problème de facturation — accès refusé"
    assert mail.sender_name == "Hélène Dupré-Lefèvre"
    assert mail.sender == "helene.dupre@exemple.fr"


def test_japanese_encoded_subject_name_and_body_are_decoded() -> None:
    mail = read("japanese_headers.eml")

    assert mail.subject == "請求書の件について"
    assert mail.sender_name == "山田 太郎"
    assert mail.text.startswith("こんにちは。請求書の金額が間違っているようです。")


def test_malformed_encoded_words_are_kept_as_written_and_never_crash() -> None:
    mail = read("malformed_encoded_words.eml")

    assert mail.subject.startswith("Café ")
    assert "=?utf-8?B?not*base64?=" in mail.subject
    assert mail.subject.endswith("=?utf-8?q?unterminated")
    assert mail.sender == "jose@example.net"
    assert mail.sender_name.startswith("José")
    assert mail.recipients == (
        "support@docket.example",
        "second@docket.example",
        "cc@example.net",
    )
    assert mail.text == "Broken headers, readable body."


def test_attachments_keep_their_bytes_and_decoded_rfc_2231_filenames() -> None:
    mail = read("attachments.eml")

    assert len(mail.attachments) == 4
    png, pdf = mail.attachments[:2]
    assert (png.filename, png.content_type) == ("screenshot.png", "image/png")
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (pdf.filename, pdf.content_type) == ("facture décembre 2025.pdf", "application/pdf")
    assert pdf.data.startswith(b"%PDF-1.4")
    assert mail.text == "Here is the screenshot and the blank invoice."


def test_attachment_filenames_lose_path_separators_and_get_a_fallback_when_missing() -> None:
    mail = read("attachments.eml")

    script, unnamed = mail.attachments[2:]
    assert "/" not in script.filename and "\\" not in script.filename
    assert script.filename.endswith("evil.bat")
    assert not script.filename.startswith(".")
    assert unnamed.filename == "attachment-4.zip"


def test_a_french_iphone_reply_keeps_its_references() -> None:
    mail = read("french_reply.eml")

    assert mail.references == (
        "<ticket-T-1188-msg-2@docket.example>",
        "<ticket-T-1188-msg-4@docket.example>",
    )


def test_a_signature_after_the_dash_dash_space_line_is_trimmed() -> None:
    mail = read("signature.eml")

    assert mail.text.endswith("Request ids: req_8f2c, req_9a1d.")
    assert "Tomasz" not in mail.text
    assert mail.full_text.endswith("+48 22 123 45 67")


def test_an_out_of_office_reply_is_flagged_as_an_auto_reply() -> None:
    mail = read("auto_reply.eml")

    assert mail.auto_reply
    assert mail.text.startswith("I am out of the office")


def test_a_forwarded_message_is_part_of_the_body_and_its_files_are_attachments() -> None:
    mail = read("forwarded.eml")

    assert mail.text.startswith("Our customer got this error twice")
    assert "---------- Forwarded message ----------" in mail.text
    assert "From: Billing <billing@shop.example>" in mail.text
    assert "declined (code 51)" in mail.text
    assert [a.filename for a in mail.attachments] == ["receipt-7781.pdf"]


@pytest.mark.parametrize(
    "header",
    [
        b"Precedence: bulk",
        b"Precedence: junk",
        b"Auto-Submitted: auto-generated",
        b"X-Autoreply: yes",
    ],
)
def test_automatic_mail_headers_mark_an_auto_reply(header: bytes) -> None:
    mail = parse_mail(b"From: a@example.com\n" + header + b"\n\nhello\n")

    assert mail.auto_reply


def test_auto_submitted_no_is_a_person_writing() -> None:
    mail = parse_mail(b"From: a@example.com\nAuto-Submitted: no\n\nhello\n")

    assert not mail.auto_reply


def test_a_bounce_from_the_mailer_daemon_is_an_auto_reply() -> None:
    mail = parse_mail(b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n\nfailed\n")

    assert mail.auto_reply
    assert mail.sender == "mailer-daemon@mx.example.com"


def test_an_unknown_charset_is_read_as_utf_8_with_replacement() -> None:
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=x-martian\n\ncaf\xc3\xa9 \xff\n"

    assert parse_mail(raw).text == "café \ufffd"


def test_a_message_without_a_message_id_has_none() -> None:
    assert parse_mail(b"From: a@example.com\n\nhello\n").message_id is None


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        bytes(range(256)) * 4,
        b"\x00\x01\x02\xff\xfe garbage \r\n\r\n\x89PNG",
        b"",
        b"Subject: no sender\n\nhello\n",
        b"From: not an address\n\nhello\n",
        b"From: =?utf-7?q?+2AA-?=\n\nhello\n",
    ],
)
def test_garbage_or_a_message_without_a_sender_is_unreadable(raw: bytes) -> None:
    with pytest.raises(MailUnreadable) as refused:
        parse_mail(raw)

    assert "From" in refused.value.detail
    assert refused.value.code == "mail-unreadable"
    assert isinstance(refused.value, DocketError)


def test_a_message_with_no_body_and_no_attachment_is_unreadable() -> None:
    with pytest.raises(MailUnreadable, match="no text and no attachments"):
        parse_mail(b"From: a@example.com\nSubject: hello\n\n \n\n")


# --- trimming -----------------------------------------------------------------------------


CUTS = [
    pytest.param(
        "Yes, please close it.\n\n##- Please type your reply above this line -##\nOld text",
        "Yes, please close it.",
        id="at Docket's reply marker",
    ),
    pytest.param(
        "Done.\n\n-----Original Message-----\nFrom: Sam\nSent: Monday\nHello",
        "Done.",
        id="at an Outlook original message line",
    ),
    pytest.param(
        "Works now.\n\n________________________________\nFrom: Docket Support\nSent: Mon\n",
        "Works now.",
        id="at an underscore separator followed by From",
    ),
    pytest.param(
        "C'est réglé.\n\nDe : Support Docket\nEnvoyé : lundi 5 janvier 2026 17:41\nÀ : Marc\nObjet : [T-1]\n\nBonjour",
        "C'est réglé.",
        id="at a French Outlook header block",
    ),
    pytest.param(
        "Thanks!\n\nOn Mon, 5 Jan 2026 at 10:00, Sam <sam@docket.example> wrote:\n> Hello\n> there",
        "Thanks!",
        id="an attribution line and the quote below it",
    ),
    pytest.param(
        "Thanks!\n\nOn Mon, 5 Jan 2026 at 10:00, Sam <sam@docket.example>\nwrote:\n\n> Hello",
        "Thanks!",
        id="an attribution wrapped after wrote",
    ),
    pytest.param(
        "Sure.\n\n> Can you retry?\n>\n> Sam\n",
        "Sure.",
        id="a trailing quoted block without an attribution",
    ),
    pytest.param("Fixed.\n--\nAna\nACME", "Fixed.", id="a signature after a bare -- line"),
    pytest.param(
        "On Mon, 5 Jan 2026 at 10:00, Sam <sam@docket.example> wrote:\n"
        "> Which version?\n"
        "3.2.1\n"
        "> Which browser?\n"
        "Firefox 134\n"
        "> Thanks\n",
        "> Which version?\n3.2.1\n> Which browser?\nFirefox 134",
        id="the attribution above inline answers, keeping the quotes they answer",
    ),
    pytest.param(
        "-----Original Message-----\nFrom: Sam\nSent: Monday\n\nPlease confirm.",
        "From: Sam\nSent: Monday\n\nPlease confirm.",
        id="a header block's marker when the reply is only that block",
    ),
]


@pytest.mark.parametrize(("text", "reply"), CUTS)
def test_trimming_cuts_what_the_reply_quotes(text: str, reply: str) -> None:
    assert trim_reply(text) == reply


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "See below.\n\n---------- Forwarded message ---------\nFrom: Bank\nDate: Mon, 5 Jan 2026\nSubject: Declined\nTo: me\n\nDeclined.",
            id="a forwarded header block",
        ),
        pytest.param("> just the quote\n> nothing else", id="a message of only quoted text"),
        pytest.param(
            "On Monday the export worked.\nToday it fails.",
            id="a line starting with On inside the text",
        ),
    ],
)
def test_trimming_keeps_a_text_that_quotes_nothing_to_cut(text: str) -> None:
    assert trim_reply(text) == text


@pytest.mark.parametrize(
    "footer", ["Sent from my iPhone", "Envoyé de mon iPhone", "Get Outlook for iOS"]
)
def test_trimming_drops_a_mobile_footer(footer: str) -> None:
    assert trim_reply(f"Fixed, thanks.\n\n{footer}\n") == "Fixed, thanks."


# --- HTML ---------------------------------------------------------------------------------


def test_html_blocks_and_breaks_become_lines_and_scripts_disappear() -> None:
    html = (
        "<html><head><title>x</title><style>p{color:red}</style></head><body>"
        "<script>steal()</script><p>Hello&nbsp;there &amp; welcome</p>"
        "<div>line one<br>line two</div><ul><li>first</li><li>second</li></ul>"
        '<p>See <a href="https://docket.example/kb/12">the article</a>.</p></body></html>'
    )

    assert html_to_text(html) == (
        "Hello there & welcome\n\n"
        "line one\nline two\n- first\n- second\n\n"
        "See the article <https://docket.example/kb/12>."
    )


def test_html_blockquotes_come_out_quoted_so_trimming_removes_them() -> None:
    html = "<div>Yes.</div><blockquote><div>Did it work?</div><blockquote>Old</blockquote></blockquote>"

    text = html_to_text(html)

    assert text == "Yes.\n\n> Did it work?\n>\n> > Old"
    assert trim_reply(text) == "Yes."


def test_an_empty_plain_alternative_gives_way_to_the_html_one() -> None:
    raw = (
        b"From: a@example.com\nContent-Type: multipart/alternative; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\n \n--b\nContent-Type: text/html\n\n<p>Hello</p>\n--b--\n"
    )

    assert parse_mail(raw).text == "Hello"


def test_a_nameless_inline_image_is_kept_as_an_attachment() -> None:
    raw = (
        b"From: a@example.com\nContent-Type: multipart/related; boundary=b\n\n"
        b"--b\nContent-Type: text/html\n\n<p>See <img src='cid:x'></p>\n"
        b"--b\nContent-Type: image/png\nContent-ID: <x>\nContent-Transfer-Encoding: base64\n\n"
        b"iVBORw0KGgo=\n--b--\n"
    )

    mail = parse_mail(raw)

    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("attachment-1.png", "image/png")
    ]


def test_an_undated_attribution_right_above_docket_s_marker_is_trimmed_too() -> None:
    text = (
        "Version 4.2 on Windows.\n\nOn Monday, Docket Support wrote:\n"
        "> ##- Please type your reply above this line -##\n> Which version?\n"
    )
    assert trim_reply(text) == "Version 4.2 on Windows."
    assert (
        trim_reply(
            "Merci !\n\nLe lundi, Support a écrit :\n> ##- Please type your reply above this line -##\n"
        )
        == "Merci !"
    )
    # away from the marker, an undated "wrote:" line is the sender's own words
    assert trim_reply("My colleague wrote:\nit fails") == "My colleague wrote:\nit fails"


@pytest.mark.parametrize(
    "from_header",
    [
        "r@acme.test <evil@x.test>",  # a display name that is another address
        "alice@example.org)<bob@example.org>",  # the parser confusion of CVE-2023-27043
        "a@acme.test, b@acme.test",
    ],
)
def test_a_from_header_naming_two_addresses_is_refused(from_header: str) -> None:
    raw = f"From: {from_header}\r\nTo: help@desk.test\r\nSubject: x\r\n\r\nhello".encode()
    with pytest.raises(MailUnreadable):
        parse_mail(raw)


def test_a_display_name_repeating_the_address_is_one_sender() -> None:
    raw = b'From: "Rita@Acme.test" <rita@acme.test>\r\nTo: help@desk.test\r\n\r\nhello'
    assert parse_mail(raw).sender == "rita@acme.test"
