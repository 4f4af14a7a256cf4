"""The human-visible headers of an inbound email: encoded words, addresses, message ids.

These headers (From, To, Cc, Subject, message ids) are decoded here from the raw header
text rather than through ``policy.default``'s header objects, because those raise on
some malformed encoded-words (a ``utf-7`` word decoding to a lone surrogate). A header
that cannot be read is kept as written, or gives what can still be read from it.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
from email.message import Message

from mail.text import clean_line, decode_bytes

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def raw_headers(message: Message, name: str) -> list[str]:
    """Every value of the header ``name``, as written; none when the headers cannot be read."""
    wanted = name.lower()
    try:
        return [str(value) for key, value in message.raw_items() if key.lower() == wanted]
    except Exception:
        return []


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
    return decode_bytes(data, charset)


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
    return clean_line("".join(out))


_ANGLE_ADDRESS = re.compile(r"<\s*([^<>\s@]+@[^<>\s@]+?)\s*>")


def _usable_address(written: str) -> str | None:
    address = clean_line(written).lower()
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or " " in address:
        return None
    return address


def addresses(values: list[str]) -> list[tuple[str, str]]:
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


def message_ids(values: list[str]) -> tuple[str, ...]:
    """The ``<…>`` ids written in the headers, each once, in order."""
    ids: list[str] = []
    for value in values:
        for found in _MESSAGE_ID.findall(clean_line(value)):
            if found not in ids:
                ids.append(found)
    return tuple(ids)


def first_message_id(values: list[str]) -> str | None:
    """The message's own id: the first ``<…>`` one, else the first word written."""
    ids = message_ids(values)
    if ids:
        return ids[0]
    written = clean_line(values[0]) if values else ""
    return written.split(" ")[0] if written else None
