"""The MIME tree of an inbound email, walked for its body text and its attachments.

MIME structure, parameters, filenames (RFC 2231 and encoded-word) and transfer
decoding use ``policy.default``; any part whose headers it cannot read is read from its
raw headers instead, so one broken part never loses the rest of the message.

- Of a ``multipart/alternative``, the text/plain alternative is the body if it says
  anything, else the last alternative with text; the others are not read as body.
- A forwarded message (``message/rfc822``) is part of the body, under a
  "Forwarded message" header, never an attachment: it is usually what the requester
  wants the desk to read. Attachments inside it are kept as attachments.
- A named text part after the body, and any non-text part, is a file.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from domain.attachments import clean_filename
from mail.headers import decode_header_text, raw_headers
from mail.html_text import html_to_text
from mail.text import clean_body, decode_bytes

_MAX_DEPTH = 30
"""MIME nesting deeper than this is not read (no client nests that deep)."""

_SIGNATURE_TYPES = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
    }
)
_EXTENSIONS = {
    "application/octet-stream": ".bin",
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "text/calendar": ".ics",
    "text/plain": ".txt",
    "text/html": ".html",
    "message/rfc822": ".eml",
}


# --- one part, read without raising -------------------------------------------------------


def safe_content_type(part: Message) -> str:
    """The part's content type, lower-cased; ``text/plain`` when none can be read."""
    try:
        return part.get_content_type().lower()
    except Exception:
        raw = " ".join(raw_headers(part, "Content-Type"))
        match = re.match(r"\s*([\w!#$&^.+-]+/[\w!#$&^.+-]+)", raw)
        return match.group(1).lower() if match else "text/plain"


def _safe_disposition(part: Message) -> str | None:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        raw = " ".join(raw_headers(part, "Content-Disposition")).strip().lower()
        disposition = raw.split(";")[0].strip() or None
    return disposition.lower() if disposition else None


def _safe_parameter(read: Callable[[], object]) -> str | None:
    """A header parameter (filename, charset) as text; ``None`` when absent or unreadable."""
    try:
        value = read()
    except Exception:
        return None
    return str(value) if value else None


def _safe_filename(part: Message) -> str | None:
    return _safe_parameter(part.get_filename)


def _safe_charset(part: Message) -> str | None:
    return _safe_parameter(part.get_content_charset)


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def sanitise_filename(name: str | None, content_type: str, number: int) -> str:
    """A filename safe to show and store; ``attachment-<n>.<ext>`` when nothing is left."""
    cleaned = clean_filename(decode_header_text(name or ""))
    if cleaned:
        return cleaned
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{number}{extension}"


# --- the walk -----------------------------------------------------------------------------


@dataclass
class Reading:
    """What the walk over the MIME tree has found: body texts, and the files as
    (filename as written, content type, bytes)."""

    texts: list[str] = field(default_factory=list)
    attachments: list[tuple[str | None, str, bytes]] = field(default_factory=list)

    def attach(self, part: Message, content_type: str) -> None:
        data = _payload_bytes(part)
        if data:
            self.attachments.append((_safe_filename(part), content_type, data))


def read_parts(message: Message) -> Reading:
    """The body texts and the files of a whole message."""
    reading = Reading()
    _walk(message, reading, 0)
    return reading


def _text_of(part: Message, content_type: str) -> str:
    text = clean_body(decode_bytes(_payload_bytes(part), _safe_charset(part)))
    if content_type == "text/html":
        return html_to_text(text)
    return text


def _subparts(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return []


def _walk(part: Message, reading: Reading, depth: int, *, body: bool = True) -> None:
    """Collect body text and attachments; ``body=False`` walks an unchosen alternative."""
    if depth > _MAX_DEPTH:
        return
    content_type = safe_content_type(part)
    maintype = content_type.partition("/")[0]
    disposition = _safe_disposition(part)
    if content_type in ("message/rfc822", "message/global"):
        inner = _subparts(part)
        if inner:
            _walk_forwarded(inner[0], reading, depth + 1, body=body)
        elif disposition == "attachment":
            reading.attach(part, "message/rfc822")
        return
    if maintype == "multipart":
        children = _subparts(part)
        if content_type == "multipart/alternative" and body:
            chosen = _choose_alternative(children, depth)
            for child in children:
                _walk(child, reading, depth + 1, body=child is chosen)
        else:
            for child in children:
                _walk(child, reading, depth + 1, body=body)
        return
    filename = _safe_filename(part)
    if disposition == "attachment":
        reading.attach(part, content_type)
    elif content_type in ("text/plain", "text/html"):
        if filename and reading.texts:
            reading.attach(part, content_type)  # a named text after the body: a file
        elif body:
            text = _text_of(part, content_type)
            if text.strip():
                reading.texts.append(text.strip("\n"))
    elif filename:
        reading.attach(part, content_type)
    elif body and maintype not in ("text", "message") and content_type not in _SIGNATURE_TYPES:
        reading.attach(part, content_type)  # an unnamed file is still the sender's file


def _choose_alternative(children: list[Message], depth: int) -> Message | None:
    """The text/plain alternative if it says anything, else the last one with text."""
    offering = [child for child in children if _offers_text(child, depth + 1)]
    for child in offering:
        if safe_content_type(child) == "text/plain":
            return child
    return offering[-1] if offering else None


def _offers_text(part: Message, depth: int) -> bool:
    """Whether a body text is somewhere in this part (a look at the tree, no HTML read)."""
    if depth > _MAX_DEPTH:
        return False
    content_type = safe_content_type(part)
    if content_type.startswith("multipart/"):
        return any(_offers_text(child, depth + 1) for child in _subparts(part))
    if content_type in ("text/plain", "text/html") and _safe_disposition(part) != "attachment":
        return bool(_payload_bytes(part).strip())
    return False


def _walk_forwarded(inner: Message, reading: Reading, depth: int, *, body: bool) -> None:
    nested = Reading()
    _walk(inner, nested, depth)
    reading.attachments.extend(nested.attachments)
    if not body or not nested.texts:
        return
    lines = ["---------- Forwarded message ----------"]
    for name in ("From", "Date", "Subject", "To"):
        value = decode_header_text(" ".join(raw_headers(inner, name)))
        if value:
            lines.append(f"{name}: {value}")
    reading.texts.append("\n".join(lines) + "\n\n" + "\n\n".join(nested.texts))
