"""Tags: short labels staff put on tickets to find and count them (never shown to customers).

A tag is written as staff type it and kept normalised: surrounding blanks dropped, lower
case, each run of inner blanks one ``-`` ("Billing  Issue" → ``billing-issue``). What is
left may hold only ASCII letters and digits and ``-``, ``_``, ``.``, ``:`` (so a tag reads
the same in a URL, a CSV and a query string), starts with a letter or a digit, and is at
most :data:`TAG_MAX_CHARS` long. A ticket carries at most :data:`TAGS_MAX` tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.errors import InvalidField
from domain.messages import Msg

TAG_MAX_CHARS = 40
TAGS_MAX = 20
"""At most this many tags on one ticket (and in one change's ``add`` or ``remove``)."""
TAG_ALPHABET = "a-z, 0-9, -, _, . and :"
_TAG = re.compile(r"[a-z0-9][a-z0-9_.:-]*")
_BLANKS = re.compile(r"\s+")


def normalised_tag(field: str, raw: object) -> str:
    """The tag ``raw`` stands for, or :class:`InvalidField` naming ``field``."""
    if not isinstance(raw, str):
        raise InvalidField(
            field, Msg("Each of {field} is a tag written as text, e.g. billing.", field=field)
        )
    tag = _BLANKS.sub("-", raw.strip().lower())
    if not tag:
        raise InvalidField(
            field, Msg("A tag in {field} is empty; write it, e.g. billing.", field=field)
        )
    if len(tag) > TAG_MAX_CHARS:
        raise InvalidField(
            field,
            Msg(
                "Tag {tag}… is {length} characters; shorten it to at most {TAG_MAX_CHARS}.",
                tag=tag[:TAG_MAX_CHARS],
                length=len(tag),
                TAG_MAX_CHARS=TAG_MAX_CHARS,
            ),
        )
    if not _TAG.fullmatch(tag):
        raise InvalidField(
            field,
            Msg(
                "Tag {tag!r} in {field} may hold only {TAG_ALPHABET}, starting with a "
                "letter or a digit; e.g. billing-issue.",
                tag=tag,
                field=field,
                TAG_ALPHABET=TAG_ALPHABET,
            ),
        )
    return tag


def normalised_tags(field: str, raws: Iterable[object]) -> list[str]:
    """Each tag normalised, in the order given, each once; at most :data:`TAGS_MAX`."""
    if isinstance(raws, str):
        raise InvalidField(field, Msg('{field} is a list of tags, e.g. ["billing"].', field=field))
    tags = list(dict.fromkeys(normalised_tag(field, raw) for raw in raws))
    if len(tags) > TAGS_MAX:
        raise InvalidField(
            field,
            Msg(
                "{field} names {length} tags; at most {TAGS_MAX} at a time.",
                field=field,
                length=len(tags),
                TAGS_MAX=TAGS_MAX,
            ),
        )
    return tags
