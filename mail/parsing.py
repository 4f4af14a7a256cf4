"""Inbound email, read into what a ticket needs: who wrote, to whom, about what, new text.

Pure parsing: bytes in, an ``InboundMail`` out, or ``MailUnreadable`` with the reason.
Routing the mail to a ticket, and keeping refused mail, is the caller's business.

Choices worth knowing:

- Human-visible headers (From, To, Cc, Subject, message ids) are decoded here from the
  raw header text rather than through ``policy.default``'s header objects, because those
  raise on some malformed encoded-words (a ``utf-7`` word decoding to a lone surrogate).
  MIME structure, parameters, filenames (RFC 2231 and encoded-word) and transfer
  decoding do use ``policy.default``.
- A forwarded message (``message/rfc822``) is part of the body, under a
  "Forwarded message" header, never an attachment: it is usually what the requester
  wants the desk to read. Attachments inside it are kept as attachments.
- Every string is safe to store: no lone surrogates, no NUL or other control characters
  (but newlines and tabs in bodies).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.utils
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser

from domain.errors import MailUnreadable

__all__ = [
    "InboundMail",
    "MailAttachment",
    "MailUnreadable",
    "html_to_text",
    "parse_mail",
    "trim_reply",
]

DOCKET_REPLY_MARKER = "##- Please type your reply above this line -##"
"""Docket's outbound mails carry this line above the quoted history."""

_MAX_DEPTH = 30
"""MIME nesting deeper than this is not read (no client nests that deep)."""


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMail:
    sender: str
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    full_text: str
    attachments: tuple[MailAttachment, ...]
    auto_reply: bool


# --- strings safe to keep -----------------------------------------------------------------

_SURROGATES = re.compile("[\ud800-\udfff]")
_BODY_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")
_WHITESPACE = re.compile(r"\s+")


def _unescape_bytes(text: str) -> str:
    """Raw 8-bit bytes the parser kept as surrogate escapes, read as UTF-8."""
    if not _SURROGATES.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return _SURROGATES.sub("\ufffd", text)


def _clean_body(text: str) -> str:
    text = _unescape_bytes(text).replace("\r\n", "\n").replace("\r", "\n")
    return _BODY_CONTROLS.sub("", text)


def _clean_line(text: str) -> str:
    """One line of header text: controls dropped, whitespace collapsed."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in _unescape_bytes(text))
    return _WHITESPACE.sub(" ", text).strip()


_LATIN_1 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1"})


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in the declared charset; unknown or wrong charsets fall back to UTF-8."""
    name = (charset or "").strip().strip("\"'").split("*")[0].lower()
    if name in _LATIN_1:
        # senders say Latin-1 and mean Windows-1252 (the euro sign), as browsers know
        name = "cp1252"
    if name and name not in ("us-ascii", "ascii"):
        try:
            codecs.lookup(name)
            return data.decode(name, "replace")
        except (LookupError, UnicodeError, TypeError, ValueError):
            pass
    return data.decode("utf-8", "replace")


# --- headers ------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _decode_word(charset: str, encoding: str, payload: str) -> str | None:
    try:
        raw = payload.encode("ascii")
    except UnicodeError:
        return None
    if encoding in "bB":
        raw = raw.rstrip(b"=")
        raw += b"=" * (-len(raw) % 4)
        try:
            data = base64.b64decode(raw)
        except (binascii.Error, ValueError):
            return None
    else:
        data = re.sub(
            rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw.replace(b"_", b" ")
        )
    return _decode_bytes(data, charset)


def decode_header_text(raw: str) -> str:
    """RFC 2047 text, tolerant: a malformed encoded-word is kept as written."""
    raw = re.sub(r"\r?\n[ \t]", " ", raw)
    out: list[str] = []
    position = 0
    previous_was_word = False
    for match in _ENCODED_WORD.finditer(raw):
        between = raw[position : match.start()]
        decoded = _decode_word(*match.groups())
        if decoded is None:
            out.append(between + match.group(0))
            previous_was_word = False
        else:
            # whitespace between two encoded-words is not part of the text (RFC 2047 §6.2)
            if not (previous_was_word and between.strip() == ""):
                out.append(between)
            out.append(decoded)
            previous_was_word = True
        position = match.end()
    out.append(raw[position:])
    return _clean_line("".join(out))


def _raw_headers(message: Message, name: str) -> list[str]:
    wanted = name.lower()
    try:
        return [str(value) for key, value in message.raw_items() if key.lower() == wanted]
    except Exception:
        return []


_ANGLE_ADDRESS = re.compile(r"<\s*([^<>\s@]+@[^<>\s@]+?)\s*>")


def _usable_address(written: str) -> str | None:
    address = _clean_line(written).lower()
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or " " in address:
        return None
    return address


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) for each well-formed address in the headers.

    A header the address parser cannot read (an unbalanced parenthesis in a name, say)
    still gives the ``<…@…>`` addresses written in it.
    """
    found: list[tuple[str, str]] = []
    for value in values:
        unfolded = re.sub(r"\r?\n[ \t]*", " ", value)
        try:
            pairs = email.utils.getaddresses([unfolded])
        except Exception:
            pairs = []
        readable = [
            (name, address) for name, written in pairs if (address := _usable_address(written))
        ]
        if not readable:
            start = 0
            for match in _ANGLE_ADDRESS.finditer(unfolded):
                address = _usable_address(match.group(1))
                if address:
                    readable.append((unfolded[start : match.start()].strip(" ,;"), address))
                start = match.end()
        found.extend((decode_header_text(name).strip("\"' "), a) for name, a in readable)
    return found


def _message_ids(values: list[str]) -> tuple[str, ...]:
    ids: list[str] = []
    for value in values:
        for found in _MESSAGE_ID.findall(_clean_line(value)):
            if found not in ids:
                ids.append(found)
    return tuple(ids)


def _first_message_id(values: list[str]) -> str | None:
    ids = _message_ids(values)
    if ids:
        return ids[0]
    written = _clean_line(values[0]) if values else ""
    return written.split(" ")[0] if written else None


def _is_auto_reply(message: Message, sender: str) -> bool:
    auto_submitted = " ".join(_raw_headers(message, "Auto-Submitted")).strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    precedence = " ".join(_raw_headers(message, "Precedence")).strip().lower()
    if precedence in ("bulk", "junk", "auto_reply", "auto-reply"):
        return True
    if any(v.strip() for n in ("X-Autoreply", "X-Autorespond") for v in _raw_headers(message, n)):
        return True
    if sender.partition("@")[0] in ("mailer-daemon", "postmaster"):
        return True
    return _safe_content_type(message) == "multipart/report"


# --- MIME tree ----------------------------------------------------------------------------

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


def _safe_content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        raw = " ".join(_raw_headers(part, "Content-Type"))
        match = re.match(r"\s*([\w!#$&^.+-]+/[\w!#$&^.+-]+)", raw)
        return match.group(1).lower() if match else "text/plain"


def _safe_disposition(part: Message) -> str | None:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        raw = " ".join(_raw_headers(part, "Content-Disposition")).strip().lower()
        disposition = raw.split(";")[0].strip() or None
    return disposition.lower() if disposition else None


def _safe_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return str(name) if name else None


def _safe_charset(part: Message) -> str | None:
    try:
        charset = part.get_content_charset()
    except Exception:
        return None
    return str(charset) if charset else None


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
    cleaned = decode_header_text(name or "")
    cleaned = re.split(r"[/\\]", cleaned)[-1]
    cleaned = "".join(c for c in cleaned if unicodedata.category(c) not in ("Cc", "Cf"))
    cleaned = cleaned.strip().lstrip(".").strip()
    if len(cleaned.encode("utf-8")) > 200:
        stem, dot, extension = cleaned.rpartition(".")
        keep = f".{extension[:20]}" if dot and stem else ""
        cleaned = cleaned.encode("utf-8")[: 200 - len(keep.encode())].decode("utf-8", "ignore")
        cleaned = cleaned.rstrip() + keep
    if cleaned:
        return cleaned
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{number}{extension}"


@dataclass
class _Reading:
    """What the walk over the MIME tree has found so far."""

    texts: list[str] = field(default_factory=list)
    attachments: list[tuple[str | None, str, bytes]] = field(default_factory=list)

    def attach(self, part: Message, content_type: str) -> None:
        data = _payload_bytes(part)
        if data:
            self.attachments.append((_safe_filename(part), content_type, data))


def _text_of(part: Message, content_type: str) -> str:
    text = _clean_body(_decode_bytes(_payload_bytes(part), _safe_charset(part)))
    if content_type == "text/html":
        return html_to_text(text)
    return text


def _subparts(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return []


def _walk(part: Message, reading: _Reading, depth: int, *, body: bool = True) -> None:
    """Collect body text and attachments; ``body=False`` walks an unchosen alternative."""
    if depth > _MAX_DEPTH:
        return
    content_type = _safe_content_type(part)
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
        if _safe_content_type(child) == "text/plain":
            return child
    return offering[-1] if offering else None


def _offers_text(part: Message, depth: int) -> bool:
    """Whether a body text is somewhere in this part (a look at the tree, no HTML read)."""
    if depth > _MAX_DEPTH:
        return False
    content_type = _safe_content_type(part)
    if content_type.startswith("multipart/"):
        return any(_offers_text(child, depth + 1) for child in _subparts(part))
    if content_type in ("text/plain", "text/html") and _safe_disposition(part) != "attachment":
        return bool(_payload_bytes(part).strip())
    return False


def _walk_forwarded(inner: Message, reading: _Reading, depth: int, *, body: bool) -> None:
    nested = _Reading()
    _walk(inner, nested, depth)
    reading.attachments.extend(nested.attachments)
    if not body or not nested.texts:
        return
    lines = ["---------- Forwarded message ----------"]
    for name in ("From", "Date", "Subject", "To"):
        value = decode_header_text(" ".join(_raw_headers(inner, name)))
        if value:
            lines.append(f"{name}: {value}")
    reading.texts.append("\n".join(lines) + "\n\n" + "\n\n".join(nested.texts))


# --- the message --------------------------------------------------------------------------


_WRITTEN = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
"""Anything written like an address, wherever it stands in a header."""


def parse_mail(raw: bytes) -> InboundMail:
    """Read one RFC 5322 message; any problem at all is a ``MailUnreadable``."""
    try:
        return _parse(bytes(raw))
    except MailUnreadable:
        raise
    except Exception as error:  # the contract: bytes from the internet never crash us
        raise MailUnreadable(
            f"The message could not be read as an email ({type(error).__name__}). "
            "Send it again as a plain RFC 5322 message."
        ) from error


def _parse(raw: bytes) -> InboundMail:
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    senders = _addresses(_raw_headers(message, "From"))
    if not senders:
        raise MailUnreadable(
            "The message has no readable sender address in its From header, so it cannot be "
            "matched to a requester. Send it again from a mail client that sets From."
        )
    sender_name, sender = senders[0]
    from_headers = _raw_headers(message, "From")
    written = {found.lower() for value in from_headers for found in _WRITTEN.findall(value)}
    if len(from_headers) > 1 or len(senders) > 1 or written - {sender}:
        # "r@acme.test <evil@x.test>": the gateway checked one address, we would credit another
        raise MailUnreadable(
            "The From header names more than one address, so who wrote it is not certain. "
            "Send it again from a mail client that sets one sender."
        )
    recipients: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for _, address in _addresses(_raw_headers(message, name)):
            if address not in recipients:
                recipients.append(address)

    reading = _Reading()
    _walk(message, reading, 0)
    full_text = "\n\n".join(reading.texts).strip("\n")
    if not full_text.strip() and not reading.attachments:
        raise MailUnreadable(
            "The message has no text and no attachments, so there is nothing to add to a "
            "ticket. Write the reply in the body of the email and send it again."
        )
    attachments = tuple(
        MailAttachment(sanitise_filename(name, content_type, number), content_type, data)
        for number, (name, content_type, data) in enumerate(reading.attachments, start=1)
    )
    subject_values = _raw_headers(message, "Subject")
    message_ids = _raw_headers(message, "Message-ID")
    return InboundMail(
        sender=sender,
        sender_name=sender_name,
        recipients=tuple(recipients),
        subject=decode_header_text(subject_values[0]) if subject_values else "",
        message_id=_first_message_id(message_ids),
        in_reply_to=_message_ids(_raw_headers(message, "In-Reply-To")),
        references=_message_ids(_raw_headers(message, "References")),
        text=trim_reply(full_text) if full_text.strip() else "",
        full_text=full_text,
        attachments=attachments,
        auto_reply=_is_auto_reply(message, sender),
    )


# --- HTML ---------------------------------------------------------------------------------

_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "li",
        "main",
        "nav",
        "ol",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_PARAGRAPHS = frozenset(["p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"])
_SKIPPED = frozenset(["script", "style", "head", "title", "template", "noscript", "object"])
_MAX_QUOTE_MARKS = 8
"""Deeper quotes are drawn at this depth, so hostile nesting cannot blow the text up."""
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.line: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[tuple[str | None, int]] = []

    def _end_line(self, *, keep_empty: bool = False) -> None:
        text = "".join(self.line)
        if self.pre_depth == 0:
            text = _WHITESPACE.sub(" ", text.replace("\xa0", " ")).strip()
        if text or keep_empty:
            self.lines.append((self.quote_depth, text))
        self.line = []

    def _blank_line(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.quote_depth, ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if tag == "br":
            self._end_line(keep_empty=True)
        elif tag == "hr":
            self._end_line()
            self.lines.append((self.quote_depth, "_" * 32))
        elif tag == "blockquote":
            self._blank_line()
            self.quote_depth += 1
        elif tag in _PARAGRAPHS:
            self._blank_line()
            self.pre_depth += tag == "pre"
        elif tag in _BLOCKS:
            self._end_line()
            if tag == "li":
                self.line.append("- ")
        elif tag in ("td", "th"):
            self.line.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            web = href if href.startswith(("http://", "https://")) else None
            self.links.append((web, len(self.line)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self._end_line()
            self.quote_depth = max(0, self.quote_depth - 1)
            self._blank_line()
        elif tag in _PARAGRAPHS:
            self._end_line()
            self.pre_depth = max(0, self.pre_depth - (tag == "pre"))
            self._blank_line()
        elif tag in _BLOCKS:
            self._end_line()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            if href and href not in "".join(self.line[start:]):
                self.line.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            parts = data.split("\n")
            for part in parts[:-1]:
                self.line.append(part)
                self._end_line(keep_empty=True)
            self.line.append(parts[-1])
        else:
            self.line.append(data)

    def text(self) -> str:
        self._end_line()
        while self.lines and not self.lines[-1][1]:
            self.lines.pop()
        rendered = []
        for depth, text in self.lines:
            prefix = "> " * min(depth, _MAX_QUOTE_MARKS)
            rendered.append((prefix + text).rstrip())
        joined = "\n".join(rendered)
        return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail body; ``<blockquote>`` content comes out ``>``-quoted."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        return _clean_body(extractor.text())
    except Exception:  # html.parser can still trip on some hostile markup
        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", html)
        return _clean_body(_WHITESPACE.sub(" ", stripped).strip())


# --- reply trimming -----------------------------------------------------------------------

_ATTRIBUTIONS = (
    re.compile(r"^on\b.{0,300}\bwrote\s?:$", re.IGNORECASE),
    re.compile(r"^le\b.{0,300}\ba\s+écrit\s?:$", re.IGNORECASE),
    re.compile(r"^am\b.{0,300}\bschrieb\b.{0,300}:$", re.IGNORECASE),
    re.compile(r"^el\b.{0,300}\bescribió\s?:$", re.IGNORECASE),
)
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(original message|message d'origine|ursprüngliche nachricht)\s*-{2,}$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^_{20,}$")
_HEADER_FROM = re.compile(r"^\*?(from|de|von)\s?:\*?\s", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\*?(sent|date|envoyé|gesendet|datum)\s?:", re.IGNORECASE)
_HEADER_TO = re.compile(r"^\*?(to|subject|à|objet|an|betreff|cc)\s?:", re.IGNORECASE)
_FORWARD = re.compile(
    r"(forwarded message|begin forwarded message|message transféré|début du message réexpédié"
    r"|weitergeleitete nachricht)",
    re.IGNORECASE,
)
_MOBILE_FOOTERS = re.compile(
    r"^(sent from my \S.*|sent from (outlook|mail|yahoo mail)\b.*|get outlook for \S.*"
    r"|envoyé de mon \S.*|envoyé depuis mon \S.*|télécharger outlook pour \S.*"
    r"|obtenir outlook pour \S.*|von meinem \S.* gesendet)$",
    re.IGNORECASE,
)


def _is_quoted(line: str) -> bool:
    return line.lstrip(" \t").startswith(">")


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines (1 or 2, or 3) the attribution at ``index`` takes; 0 if none."""
    for span in (1, 2, 3):
        window = lines[index : index + span]
        if len(window) < span or any(_is_quoted(line) or not line.strip() for line in window):
            return 0
        joined = " ".join(line.strip() for line in window)
        if len(joined) > 400:
            return 0
        if any(c.isdigit() for c in joined) and any(p.match(joined) for p in _ATTRIBUTIONS):
            return span
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style "From: … Sent: … To: …" block that is not a forward's header."""
    if not _HEADER_FROM.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1 : index + 7] if line.strip()]
    if not (any(_HEADER_SENT.match(x) for x in following[:5])):
        return False
    if not any(_HEADER_TO.match(x) for x in following[:5]):
        return False
    before = [line for line in lines[max(0, index - 3) : index] if line.strip()]
    return not (before and _FORWARD.search(before[-1]))


def _next_non_blank(lines: list[str], index: int) -> str:
    for line in lines[index:]:
        if line.strip():
            return line.strip()
    return ""


def _history_start(lines: list[str]) -> tuple[int, int]:
    """Where the quoted history starts, and how many lines its attribution takes."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if DOCKET_REPLY_MARKER in line:
            return index, 1
        if _ORIGINAL_MESSAGE.match(stripped):
            return index, 1
        if _UNDERSCORES.match(stripped) and _HEADER_FROM.match(_next_non_blank(lines, index + 1)):
            return index, 1
        if _is_header_block(lines, index):
            return index, 1
        span = _attribution_length(lines, index)
        if span:
            return index, span
    return len(lines), 0


def _drop_trailing(lines: list[str]) -> list[str]:
    """Trailing blank lines, quoted lines and mobile footers."""
    end = len(lines)
    while end and (
        not lines[end - 1].strip()
        or _is_quoted(lines[end - 1])
        or _MOBILE_FOOTERS.match(lines[end - 1].strip())
    ):
        end -= 1
    return lines[:end]


def _cut_signature(lines: list[str]) -> list[str]:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] in ("-- ", "--") and any(line.strip() for line in lines[:index]):
            return lines[:index]
    return lines


_LOOSE_ATTRIBUTION = re.compile(r"\b(wrote|a écrit|schrieb|escribió)\s?:\s*$", re.IGNORECASE)


def _drop_loose_attribution(lines: list[str]) -> list[str]:
    kept = list(lines)
    while kept and not kept[-1].strip():
        kept.pop()
    if kept and len(kept[-1]) <= 400 and _LOOSE_ATTRIBUTION.search(kept[-1]):
        kept.pop()
    return kept


def trim_reply(text: str) -> str:
    """The new text of a reply: quoted history, signature and mobile footer removed.

    Never empty for a text that has a non-blank line: inline answers between quoted
    lines are kept, and when nothing at all is left the full text is returned.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, span = _history_start(lines)
    rest = lines[start + span :]
    kept = lines[:start]
    inline_answers = (
        span
        and start < len(lines)
        and DOCKET_REPLY_MARKER not in lines[start]
        and _is_quoted(_next_non_blank(rest, 0))
        and any(line.strip() and not _is_quoted(line) for line in _drop_trailing(rest))
    )
    if inline_answers:
        # the sender answered between the quoted lines: the answers are the new text
        kept = kept + rest
    elif span and start < len(lines) and DOCKET_REPLY_MARKER in lines[start]:
        # above Docket's own marker, any "… wrote:" line is the client's attribution,
        # dated or not ("On Monday, Docket Support wrote:")
        kept = _drop_loose_attribution(kept)
    trimmed = _drop_trailing(_cut_signature(_drop_trailing(kept)))
    while trimmed and not trimmed[0].strip():
        trimmed.pop(0)
    result = "\n".join(trimmed).rstrip()
    if result.strip():
        return result
    attribution_lines: set[int] = set()
    for index in range(len(lines)):
        attribution_lines.update(range(index, index + _attribution_length(lines, index)))
    answers = [
        line
        for index, line in enumerate(lines)
        if not _is_quoted(line)
        and DOCKET_REPLY_MARKER not in line
        and not _ORIGINAL_MESSAGE.match(line.strip())
        and not _UNDERSCORES.match(line.strip())
        and index not in attribution_lines
    ]
    fallback = "\n".join(answers).strip()
    return fallback if fallback else text.strip()
