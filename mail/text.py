"""Strings from the internet made safe to keep, and bytes read in their declared charset.

Every string an inbound email gives Docket goes through here: no lone surrogates, no NUL
or other control characters (but newlines and tabs in bodies), whitespace collapsed in
header text. Headers of the emails Docket sends are one line with no invisible
format characters (:func:`header_line`). Charsets are read as mail clients read them: an
unknown or wrong one falls back to UTF-8, and Latin-1 is read as Windows-1252.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

_SURROGATES = re.compile("[\ud800-\udfff]")
_BODY_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")
WHITESPACE = re.compile(r"\s+")


def _unescape_bytes(text: str) -> str:
    """Raw 8-bit bytes the parser kept as surrogate escapes, read as UTF-8."""
    if not _SURROGATES.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return _SURROGATES.sub("\ufffd", text)


def unix_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` line ends as ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_body(text: str) -> str:
    """A body text: Unix line ends, no control characters but newline and tab."""
    return _BODY_CONTROLS.sub("", unix_newlines(_unescape_bytes(text)))


def clean_line(text: str) -> str:
    """One line of header text: controls dropped, whitespace collapsed."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in _unescape_bytes(text))
    return WHITESPACE.sub(" ", text).strip()


def header_line(text: str) -> str:
    """Text for a header of an email Docket sends: one line, and none of the characters
    that make it read other than it is written: controls, line and paragraph separators,
    and the invisible format characters (bidirectional overrides and isolates such as
    U+202E, zero-width spaces), but the zero-width joiner that emoji are built with."""
    kept: list[str] = []
    for c in _unescape_bytes(text):
        category = unicodedata.category(c)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category != "Cf" or c == "\u200d":
            kept.append(c)
    return WHITESPACE.sub(" ", "".join(kept)).strip()


_LATIN_1 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1"})


def decode_bytes(data: bytes, charset: str | None) -> str:
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
