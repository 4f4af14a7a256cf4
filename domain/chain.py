"""The hash chain that makes every ticket's history tamper-evident.

Each event records ``prev_hash`` (the hash of the event before it in the same
stream, or :data:`GENESIS` for the first) and ``event_hash``, a SHA-256 over its
own class name, class version, aggregate id, version and every field as it was
written. Upcasting never changes those two fields, so a stream written at an old
class version still verifies after the class has moved on: the verifier hashes
the stored fields exactly as they were stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
HASH_FIELD = "event_hash"
PREV_FIELD = "prev_hash"


def canonical(value: Any) -> Any:
    """A JSON-ready form of an event field that is the same before and after storage."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def event_hash(kind: str, class_version: int, fields: Mapping[str, Any]) -> str:
    """The hash of one event: its kind (class name), class version and fields."""
    body = {k: canonical(v) for k, v in fields.items() if k != HASH_FIELD}
    payload = json.dumps(
        [kind, class_version, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One stored event as the verifier sees it."""

    version: int
    kind: str
    class_version: int
    fields: Mapping[str, Any]


DAMAGE_KINDS = ("edited", "reordered", "removed", "inserted", "replaced")
"""What a damage report can say was done to the stored events."""


@dataclass(frozen=True)
class Damage:
    version: int
    reason: str
    kind: str = "edited"
    """One of :data:`DAMAGE_KINDS`."""


def verify_chain(
    links: Iterable[ChainLink], first_version: int = 1, unreadable: Iterable[int] = ()
) -> list[Damage]:
    """Every place where a stream was altered, removed from, inserted into or reordered.

    ``unreadable`` versions are stored but could not be read (reported by the caller):
    they are not missing, and the event after one cannot be linked to it.
    """
    damages: list[Damage] = []
    skipped = frozenset(unreadable)
    expected_version = first_version
    previous_hash = GENESIS
    previous_version = 0
    for link in links:
        after_unreadable = False
        while expected_version in skipped and expected_version < link.version:
            expected_version += 1
            after_unreadable = True
        gap = link.version != expected_version
        if gap and link.version > expected_version:
            missing = (
                f"event {expected_version} is missing"
                if link.version == expected_version + 1
                else f"events {expected_version}..{link.version - 1} are missing"
            )
            damages.append(Damage(expected_version, f"{missing} (removed)", "removed"))
        elif gap:
            damages.append(
                Damage(
                    link.version,
                    f"version {link.version} comes again after version {previous_version} "
                    "(stored out of order or twice)",
                    "reordered",
                )
            )
        stored = link.fields.get(HASH_FIELD)
        recomputed = event_hash(link.kind, link.class_version, link.fields)
        if stored != recomputed:
            damages.append(Damage(link.version, "content does not match its hash (edited)"))
        if link.fields.get(PREV_FIELD) != previous_hash and not gap and not after_unreadable:
            follows = f"version {previous_version}" if previous_version else "the stream's start"
            damages.append(
                Damage(
                    link.version,
                    f"does not follow {follows}'s hash: an event before it was rewritten "
                    "with a new hash, or this one was inserted or replaced",
                    "replaced" if stored == recomputed else "edited",
                )
            )
        previous_hash = str(stored)
        previous_version = link.version
        expected_version = link.version + 1
    return damages
