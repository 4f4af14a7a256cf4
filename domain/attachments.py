"""The rules every file a ticket carries obeys, however it came (an upload, an email).

One place decides whether a file is taken: its declared type is one Docket accepts,
its bytes are what that type says they are (a small sniffer of our own: magic numbers
for the binary types, decodable text without NUL for the text types), it is neither
empty nor over the limit, and its name is a clean base name (no folders, no control
or bidi characters, at most 200 bytes). ``desk.uploads`` applies them to uploads over
the API and to email attachments alike; ``Ticket.add_attachment`` checks the name and
type again, so no way in can put anything else on a ticket.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.errors import (
    AttachmentContentMismatch,
    AttachmentTooLarge,
    EmptyAttachment,
    UnsupportedAttachmentType,
)

ACCEPTED_TYPES: dict[str, str] = {
    "text/plain": ".txt",
    "text/csv": ".csv",
    "application/pdf": ".pdf",
    "application/json": ".json",
    "application/zip": ".zip",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "message/rfc822": ".eml",
    "application/octet-stream": ".bin",
}
"""The content types a ticket's files may have, and the extension a nameless one gets.
None of them is run by a browser (no HTML, SVG, XML, JavaScript); anything else can be
sent as ``application/octet-stream``, which is only ever downloaded."""

FILENAME_MAX_BYTES = 200
UNNAMED = "attachment"


@dataclass(frozen=True)
class CheckedFile:
    """A file the rules take: its clean name, its accepted type, its size."""

    filename: str
    content_type: str
    size: int


def checked_file(filename: str, content_type: str, data: bytes, *, max_bytes: int) -> CheckedFile:
    """The file as a ticket may carry it, or the named refusal that says why not."""
    declared = declared_type(content_type)
    name = display_name(filename, declared)
    if declared not in ACCEPTED_TYPES:
        raise UnsupportedAttachmentType(name, declared, tuple(sorted(ACCEPTED_TYPES)))
    if not data:
        raise EmptyAttachment(name)
    if len(data) > max_bytes:
        raise AttachmentTooLarge(name, len(data), max_bytes)
    if not looks_like(declared, data):
        raise AttachmentContentMismatch(name, declared, what_it_looks_like(data))
    return CheckedFile(name, declared, len(data))


def declared_type(content_type: str) -> str:
    """``image/PNG; name=x`` as ``image/png``; no type at all is ``application/octet-stream``;
    the other names clients give accepted types (``image/jpg``, Windows'
    ``application/x-zip-compressed``) as the accepted name."""
    declared = content_type.partition(";")[0].strip().lower() or "application/octet-stream"
    return ALIASES.get(declared, declared)


ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-zip-compressed": "application/zip",
    "text/comma-separated-values": "text/csv",
}


def served_type(content_type: str) -> str:
    """The type a stored file is listed and served with: its own if accepted, else
    ``application/octet-stream`` (files stored before the allowlist applied to email)."""
    declared = declared_type(content_type)
    return declared if declared in ACCEPTED_TYPES else "application/octet-stream"


# --- names ------------------------------------------------------------------------------


def clean_filename(raw: str) -> str:
    """Only the base name, as people can read it: the last part after any ``/`` or ``\\``,
    without control, format (bidi overrides, zero-width) or separator characters, no
    leading dots, at most 200 bytes of UTF-8 (the extension kept). May be empty."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _UNSHOWN)
    name = name.strip().lstrip(".").strip()
    if len(name.encode("utf-8")) > FILENAME_MAX_BYTES:
        stem, dot, extension = name.rpartition(".")
        keep = f".{extension[:20]}" if dot and stem else ""
        cut = name.encode("utf-8")[: FILENAME_MAX_BYTES - len(keep.encode("utf-8"))]
        name = cut.decode("utf-8", "ignore").rstrip() + keep
    return name


_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control, format (U+202E and friends), surrogate, private, unassigned, line breaks."""


def display_name(raw: str, content_type: str) -> str:
    """The clean base name, or ``attachment.<ext>`` when nothing of it is left."""
    return clean_filename(raw) or UNNAMED + ACCEPTED_TYPES.get(content_type, ".bin")


def is_clean_filename(name: str) -> bool:
    return bool(name) and clean_filename(name) == name


# --- what the bytes are -----------------------------------------------------------------

_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"),
}
_HEADER_LINE = re.compile(rb"[!-9;-~]+:")
"""An RFC 5322 header field: a name of printable ASCII but ``:``, then ``:``."""
_JSON_START = re.compile(r'[{\["]|-?\d|(true|false|null)\b')
"""How a JSON text opens: an object, an array, a string, a number or a literal."""
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
"""Bytes no text file holds, in UTF-8 and Windows-1252 alike: NUL and the other control
characters but tab, line and page breaks and ESC (as in coloured logs)."""
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)


def looks_like(content_type: str, data: bytes) -> bool:
    """Whether ``data`` is what ``content_type`` says it is."""
    if content_type in _MAGIC:
        return data.startswith(_MAGIC[content_type])
    if content_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if content_type in ("text/plain", "text/csv"):
        return as_text(data) is not None
    if content_type == "application/json":
        text = as_text(data, utf8_only=True)
        return text is not None and _JSON_START.match(text.lstrip()) is not None
    if content_type == "message/rfc822":
        return b"\x00" not in data and _HEADER_LINE.match(data.lstrip(b"\r\n")) is not None
    return content_type == "application/octet-stream"


def as_text(data: bytes, *, utf8_only: bool = False) -> str | None:
    """The bytes as text (UTF-8, else Windows-1252 as spreadsheets export), or ``None``
    when they hold a NUL or another control character, or decode as neither."""
    if data.translate(None, _TEXT_BYTES):  # what is left once every text byte is gone
        return None
    encodings = ("utf-8-sig",) if utf8_only else ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def what_it_looks_like(data: bytes) -> str:
    """What the bytes seem to be, in words, for the refusal."""
    for kind, words in (
        ("image/png", "a PNG image"),
        ("image/jpeg", "a JPEG image"),
        ("image/gif", "a GIF image"),
        ("image/webp", "a WebP image"),
        ("application/pdf", "a PDF document"),
        ("application/zip", "a ZIP archive"),
    ):
        if looks_like(kind, data):
            return words
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<script", b"<head", b"<body")):
        return "HTML"
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096]):
        return "an SVG image"
    if head.startswith(b"<?xml"):
        return "XML"
    if data.startswith((b"MZ", b"\x7fELF")):
        return "a program"
    if as_text(data) is not None:
        return "text"
    return "binary data"
