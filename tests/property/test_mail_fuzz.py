"""Whatever bytes arrive, reading them gives an InboundMail or MailUnreadable, nothing else."""

from __future__ import annotations

import base64
import quopri
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import MailUnreadable
from mail.html_text import html_to_text
from mail.message import InboundMail, parse_mail
from mail.trimming import trim_reply

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CHARSETS = (
    "utf-8",
    "iso-8859-1",
    "windows-1252",
    "shift_jis",
    "iso-2022-jp",
    "koi8-r",
    "utf-16",
    "utf-7",
    "x-unknown",
    "base64",
    "rot13",
    "",
)
ENCODINGS = ("7bit", "8bit", "quoted-printable", "base64", "x-uuencode", "binary")
LEAF_TYPES = (
    "text/plain",
    "text/html",
    "text/calendar",
    "image/png",
    "application/pdf",
    "application/pgp-signature",
    "message/delivery-status",
)
MULTIPART_TYPES = ("mixed", "alternative", "related", "signed", "report")
HEADER_NAMES = (
    "To",
    "Cc",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Delivered-To",
    "X-Original-To",
    "Auto-Submitted",
    "Precedence",
    "Content-Type",
    "Content-Disposition",
)

texts = st.text(max_size=60)
words = st.text(st.characters(codec="utf-8"), min_size=0, max_size=20)


def encode_text(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset or "utf-8", "replace")
    except (LookupError, TypeError, UnicodeError):
        return text.encode("utf-8", "surrogatepass")


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    """An RFC 2047 word, sometimes well formed, sometimes not."""
    charset = draw(st.sampled_from(CHARSETS))
    data = encode_text(draw(words), charset)
    kind = draw(st.sampled_from("BQbqX"))
    if kind in "Bb":
        payload = base64.b64encode(data).decode()
        payload = payload[: draw(st.integers(0, len(payload)))]
    else:
        payload = quopri.encodestring(data, header=True).decode("ascii", "replace")
        payload = payload.replace("?", "=3F").replace(" ", "_")
    end = draw(st.sampled_from(["?=", "?=", "", "?"]))
    return f"=?{charset}?{kind}?{payload}{end}"


header_values = st.one_of(
    words,
    encoded_words(),
    st.lists(st.one_of(words, encoded_words()), max_size=4).map(" ".join),
    st.builds(
        lambda name, local, domain: f"{name} <{local}@{domain}>",
        st.one_of(words, encoded_words()),
        st.from_regex(r"[A-Za-z0-9._+-]{0,12}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9.-]{0,12}", fullmatch=True),
    ),
    st.from_regex(r"(<[^<>\s]{0,20}>\s?){0,3}", fullmatch=True),
)


senders = st.builds(
    lambda name, local: f"{name} <{local}@example.com>",
    st.one_of(words, encoded_words()),
    st.from_regex(r"[A-Za-z0-9._+-]{1,12}", fullmatch=True),
)


@st.composite
def headers(draw: st.DrawFn, *, top: bool) -> bytes:
    lines: list[bytes] = []
    sender_kind = draw(st.integers(0, 5)) if top else 0
    if sender_kind:
        sender = draw(header_values if sender_kind == 1 else senders)
        lines.append(f"From: {sender}".encode("utf-8", "surrogatepass"))
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(HEADER_NAMES))
        value = draw(header_values)
        raw = f"{name}: {value}".encode("utf-8", "surrogatepass")
        if draw(st.booleans()):
            raw = raw.replace(b" ", b"\r\n ", 1)  # folded
        lines.append(raw)
    return b"\r\n".join(lines)


@st.composite
def leaves(draw: st.DrawFn) -> bytes:
    content_type = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    body_text = draw(texts)
    if content_type == "text/html":
        body_text = f"<div>{body_text}</div><blockquote>{draw(texts)}</blockquote>"
    data = draw(st.binary(max_size=40)) if draw(st.booleans()) else encode_text(body_text, charset)
    if encoding == "base64":
        body = base64.encodebytes(data)
        if draw(st.booleans()):
            body = body[: draw(st.integers(0, len(body)))]  # truncated
    elif encoding == "quoted-printable":
        body = quopri.encodestring(data)
    else:
        body = data
    lines = [f"Content-Type: {content_type}; charset={charset}"]
    if draw(st.booleans()):
        disposition = draw(st.sampled_from(["attachment", "inline", "garbage"]))
        filename = draw(st.one_of(words, encoded_words(), st.just("../../etc/passwd")))
        lines.append(f'Content-Disposition: {disposition}; filename="{filename}"')
    if draw(st.booleans()):
        lines.append(f"Content-Transfer-Encoding: {encoding}")
    head = "\r\n".join(lines).encode("utf-8", "surrogatepass")
    return head + draw(headers(top=False)) + b"\r\n\r\n" + body


@st.composite
def parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return draw(leaves())
    if draw(st.integers(0, 5)) == 0:
        inner = draw(messages(depth=depth + 1))
        return b"Content-Type: message/rfc822\r\n\r\n" + inner
    subtype = draw(st.sampled_from(MULTIPART_TYPES))
    boundary = draw(st.sampled_from(["b1", "=_boundary", "x" * 70, ""])) + str(depth)
    children = draw(st.lists(parts(depth=depth + 1), max_size=3))
    body = b"".join(f"--{boundary}\r\n".encode() + child + b"\r\n" for child in children)
    if draw(st.booleans()):
        body += f"--{boundary}--\r\n".encode()  # sometimes never closed
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    return head + b"preamble\r\n" + body


@st.composite
def messages(draw: st.DrawFn, depth: int = 0) -> bytes:
    top = draw(headers(top=True))
    return top + b"\r\n" + draw(parts(depth=depth))


def assert_safe(mail: InboundMail) -> None:
    """Everything read is storable text: no surrogates, no NUL, addresses lower-cased."""
    assert mail.sender and "@" in mail.sender and mail.sender == mail.sender.lower()
    assert len(set(mail.recipients)) == len(mail.recipients)
    for value in (mail.sender, mail.sender_name, mail.subject, mail.text, mail.full_text):
        value.encode("utf-8")
        assert "\x00" not in value
    assert "\n" not in mail.subject and "\n" not in mail.sender_name
    for attachment in mail.attachments:
        assert attachment.filename.strip()
        assert not re.search(r"[/\\\x00-\x1f\x7f]", attachment.filename)
    assert mail.full_text.strip() or mail.attachments
    if mail.full_text.strip():
        assert mail.text.strip()


def read_or_refuse(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except MailUnreadable as refused:
        detail, cause = refused.detail, refused.__cause__
    else:
        assert_safe(mail)
        return
    # refused for a reason, not by the safety net that turns a crash into a refusal
    assert "could not be read as an email" not in detail, cause


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_refused_as_unreadable(raw: bytes) -> None:
    read_or_refuse(raw)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_after_a_valid_sender_are_read_or_refused(body: bytes) -> None:
    read_or_refuse(b"From: someone@example.com\r\n" + body)


@FUZZ
@given(messages())
def test_generated_mime_messages_are_read_or_refused_as_unreadable(raw: bytes) -> None:
    read_or_refuse(raw)


@FUZZ
@given(st.text(max_size=300))
def test_any_html_becomes_text_without_error(html: str) -> None:
    html_to_text(html)


quoted_lines = st.text(max_size=30).map(lambda s: "> " + s.replace("\n", " "))
reply_lines = st.one_of(
    st.text(max_size=40),
    quoted_lines,
    st.sampled_from(
        [
            "-- ",
            "--",
            "",
            "On Mon, 5 Jan 2026 at 10:00, Sam <sam@docket.example> wrote:",
            "On Mon, 5 Jan 2026 at 10:00, Sam <",
            "sam@docket.example> wrote:",
            "Le 5 janv. 2026 à 10:00, Sam a écrit :",
            "-----Original Message-----",
            "________________________________",
            "From: Sam",
            "Sent: Monday",
            "To: Ana",
            "Subject: Re: hello",
            "Sent from my iPhone",
            "##- Please type your reply above this line -##",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(reply_lines, max_size=15).map("\n".join))
def test_trimming_never_empties_a_text_with_a_line_of_its_own(text: str) -> None:
    trimmed = trim_reply(text)

    has_own_line = any(
        line.strip() and not line.startswith(">") for line in text.replace("\r", "\n").split("\n")
    )
    if has_own_line:
        assert trimmed.strip()
    assert len(trimmed) <= len(text)
