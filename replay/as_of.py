"""A ticket as it stood at a version or an instant: what the people on it saw then.

The answer is the ticket detail (fields, conversation with authors and roles,
files, internal notes, SLA clocks) folded by the detail and SLA views' own folds
(:func:`projections.ticket_detail.detail_as_folded`,
:func:`projections.sla.clocks_as_folded`) over the ticket's stored events up to
then, so it cannot differ from what the live detail answered at that version.
Beside it, the write model's own fields (:func:`replay.history.state_at`).

*Then* is one instant: the instant asked for with ``as_of``, the instant
version N was written with ``version``, and now with neither; the SLA clocks
are read at it (due, breached or not at that instant). Refused: a version the
ticket has not reached (:class:`~domain.errors.VersionNotReached`), an instant
still to come (:class:`~domain.errors.AsOfInTheFuture`), and any point before
the ticket was filed (:class:`~domain.errors.NotYetFiled`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import AsOfInTheFuture, InvalidField, NotYetFiled, VersionNotReached
from domain.messages import Msg
from projections import sla, ticket_detail
from projections.kit import Fact
from replay.history import state_at


@dataclass(frozen=True)
class TicketAsOf:
    """The ticket's detail as it stood at ``at``, and its write model then."""

    at: datetime
    """The instant the answer stands at; the SLA clocks are read at it."""
    detail: dict[str, Any]
    """In the shape :func:`projections.ticket_detail.detail` answers, with ``sla`` (the
    folded clocks) beside the internal notes when they are read."""
    write_model: dict[str, Any]


def ticket_as_of(
    facts: Sequence[Fact],
    *,
    version: int | None,
    as_of: datetime | None,
    now: datetime,
    with_internal_notes: bool,
) -> TicketAsOf:
    """The ticket folded from its ``facts`` (its whole stream, in order) up to ``version``
    or up to the instant ``as_of`` (both ``None``: as it stands ``now``)."""
    if version is not None and as_of is not None:
        raise InvalidField("as_of", Msg("Give version or as_of, not both."))
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidField("as_of", Msg("as_of needs a time zone, e.g. 2024-03-01T12:00:00Z."))
    number = getattr(facts[0].event, "number", "") if facts else ""
    last = facts[-1].version if facts else 0
    if version is not None and version > last:
        raise VersionNotReached(number, version, last)
    if as_of is not None and as_of > now:
        raise AsOfInTheFuture(as_of, now)
    upto: list[Fact] = []  # a prefix of the stream: the ticket then
    for f in facts:
        if version is not None and f.version > version:
            break
        if as_of is not None and f.event.timestamp > as_of:
            break
        upto.append(f)
    found = ticket_detail.detail_as_folded(upto, with_internal_notes=with_internal_notes)
    write_model = state_at([f.event for f in upto])
    if found is None or write_model is None:
        raise NotYetFiled(number)
    if with_internal_notes:  # staff read the SLA clocks with the notes, as in the live detail
        found["sla"] = sla.clocks_as_folded([f.event for f in upto])
    if as_of is not None:
        at = as_of
    elif version is not None:
        at = upto[-1].event.timestamp
    else:
        at = now
    return TicketAsOf(at=at, detail=found, write_model=write_model)
