"""Who did a thing, through which channel, why, and when.

Every event of every aggregate carries a :class:`Stamp`. The instant is part of
the stamp, so a command never reads a clock: live traffic passes "now",
importers pass the historical instant from their data, tests pass a fixed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidField
from domain.messages import Msg
from domain.vocabulary import ACTOR_KINDS, VIAS


@dataclass(frozen=True)
class Stamp:
    actor_id: str
    actor_kind: str
    via: str
    at: datetime
    correlation_id: str = ""
    causation_id: str = ""

    def __post_init__(self) -> None:
        if self.actor_kind not in ACTOR_KINDS:
            raise InvalidField(
                "actor_kind", Msg("Unknown actor kind {actor_kind!r}.", actor_kind=self.actor_kind)
            )
        if self.via not in VIAS:
            raise InvalidField(
                "via", Msg("Unknown channel {via!r}; use one of {VIAS}.", via=self.via, VIAS=VIAS)
            )
        if self.at.tzinfo is None:
            raise InvalidField("at", Msg("Instants must carry a time zone."))

    @property
    def is_staff(self) -> bool:
        """Agents and admins; importers too (they replay what staff did elsewhere)."""
        return self.actor_kind in ("agent", "admin", "importer")
