"""Prove that a stored stream is exactly what Docket wrote.

Each stored event is decoded without upcasting, re-encoded (Docket always writes
one canonical form, so any other bytes were written by someone else), hashed,
and linked to the one before it; see :mod:`domain.chain`.
"""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.persistence import StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic

from domain.chain import ChainLink, Damage, verify_chain


def verify_stored_stream(events: Iterable[StoredEvent], transcoder: Transcoder) -> list[Damage]:
    damages: list[Damage] = []
    links: list[ChainLink] = []
    for stored in events:
        try:
            kind = resolve_topic(stored.topic).__qualname__
            fields = dict(transcoder.decode(stored.state))
            canonical_bytes = transcoder.encode(fields)
        except Exception as error:  # any undecodable event was not written by Docket
            damages.append(Damage(stored.originator_version, f"undecodable: {error}"))
            continue
        if canonical_bytes != stored.state:
            damages.append(Damage(stored.originator_version, "stored bytes altered"))
        class_version = fields.pop("class_version", 1)
        fields["originator_id"] = stored.originator_id
        fields["originator_version"] = stored.originator_version
        links.append(ChainLink(stored.originator_version, kind, class_version, fields))
    damages.extend(verify_chain(links))
    return sorted(damages, key=lambda d: d.version)
