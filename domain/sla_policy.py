"""The SLA policy book: the targets each support tier is promised, as recorded changes.

There is one book. Until an admin first changes it, the founding policy shipped
in ``domain/sla.toml`` is in force; the first change records that founding
policy as the book's opening event, then the change. A change applies to
promises made from its instant on (see :mod:`domain.sla`): tickets already
filed keep the terms recorded on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import NothingChanged
from domain.messages import Msg
from domain.sla import FOUNDING_POLICY, Targets, targets_from_data
from domain.stamp import Stamp
from domain.vocabulary import SUPPORT_TIERS, checked_choice

BOOK_ID: UUID = uuid5(NAMESPACE_URL, "docket:sla-policy-book")


class SlaPolicyBook(ChainedAggregate):
    class Founded(ChainedAggregate.Created):
        tiers: dict[str, Targets]

    class TargetsChanged(ChainedAggregate.Event):
        tier: str
        targets: Targets

    @classmethod
    def found(cls, *, stamp: Stamp) -> SlaPolicyBook:
        return cls(id=BOOK_ID, tiers=dict(FOUNDING_POLICY), stamp=stamp)

    @event(Founded)
    def __init__(self, id: UUID, tiers: dict[str, Targets], stamp: Stamp) -> None:
        self.tiers = dict(tiers)

    def change_targets(self, *, tier: str, data: Mapping[str, Any], stamp: Stamp) -> None:
        """``data`` is a tier's table as in ``sla.toml``: base targets, priority overrides."""
        checked_choice("tier", tier, SUPPORT_TIERS)
        targets = targets_from_data(tier, data)
        if targets == self.tiers.get(tier):
            raise NothingChanged(Msg("The {tier} tier already has these targets.", tier=tier))
        self._targets_changed(tier=tier, targets=targets, stamp=stamp)

    @event(TargetsChanged)
    def _targets_changed(self, tier: str, targets: Targets, stamp: Stamp) -> None:
        self.tiers[tier] = targets
