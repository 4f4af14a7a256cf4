"""The new text of a reply: quoted history, signature and mobile footer cut away.

The history starts at Docket's own "reply above this line" marker (the first line of
every email the outbox sends), an "Original message" or underscore rule, an
Outlook-style "From: … Sent: … To: …" block, or a dated "On … wrote:" attribution, in
English, French, German or Spanish. A sender who answered between the quoted lines
keeps the answers and the questions they answer. The signature goes from the last
"-- " line; "Sent from my phone" footers go too. Nothing that says something is ever
trimmed to nothing: the unquoted lines, or the whole text, are kept instead.
"""

from __future__ import annotations

import re

from mail.text import unix_newlines
from projections.outbox import reply_markers

MARKERS = reply_markers()
"""Docket's "reply above this line" in each language its emails are written in."""


def has_marker(line: str) -> bool:
    return any(marker in line for marker in MARKERS)


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
        if has_marker(line):
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
    lines = unix_newlines(text).split("\n")
    start, span = _history_start(lines)
    rest = lines[start + span :]
    kept = lines[:start]
    inline_answers = (
        span
        and start < len(lines)
        and not has_marker(lines[start])
        and _is_quoted(_next_non_blank(rest, 0))
        and any(line.strip() and not _is_quoted(line) for line in _drop_trailing(rest))
    )
    if inline_answers:
        # the sender answered between the quoted lines: the answers are the new text
        kept = kept + rest
    elif span and start < len(lines) and has_marker(lines[start]):
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
        and not has_marker(line)
        and not _ORIGINAL_MESSAGE.match(line.strip())
        and not _UNDERSCORES.match(line.strip())
        and index not in attribution_lines
    ]
    fallback = "\n".join(answers).strip()
    return fallback if fallback else text.strip()
