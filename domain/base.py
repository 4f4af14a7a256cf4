"""The base every Docket aggregate shares: stamped, hash-chained events."""

from __future__ import annotations

from dataclasses import field
from typing import Any, ClassVar, Self

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate

from domain.chain import GENESIS, event_hash
from domain.stamp import Stamp


class ChainedAggregate(Aggregate):
    """An aggregate whose events carry a :class:`Stamp` and form a hash chain."""

    chain_head: str = GENESIS

    class Event(Aggregate.Event):
        stamp: Stamp
        prev_hash: str
        event_hash: str = field(init=False, default="")
        class_version: ClassVar[int] = 1

        def __post_init__(self) -> None:
            # Runs only when an event is first made; stored events are rebuilt
            # without __init__, so their recorded hash is kept as written.
            kind = type(self).__qualname__
            version = getattr(type(self), "class_version", 1)
            object.__setattr__(self, "event_hash", event_hash(kind, version, vars(self)))

        def apply(self, aggregate: Any) -> None:
            aggregate.chain_head = self.event_hash
            aggregate.took(self)

    class Created(Event, Aggregate.Created):
        pass

    def took(self, event: ChainedAggregate.Event) -> None:
        """Called with each event as it is applied, after its own change: for what an
        aggregate keeps of every event alike (none, by default)."""

    @classmethod
    def _create(
        cls,
        event_class: type[CanInitAggregate[Any]],
        **kwargs: Any,
    ) -> Self:
        stamp: Stamp = kwargs["stamp"]
        kwargs["timestamp"] = stamp.at
        kwargs["prev_hash"] = GENESIS
        return super()._create(event_class, **kwargs)

    def trigger_event(self, event_class: type[CanMutateAggregate[Any]], **kwargs: Any) -> None:
        stamp: Stamp = kwargs["stamp"]
        kwargs["timestamp"] = stamp.at
        kwargs["prev_hash"] = self.chain_head
        super().trigger_event(event_class, **kwargs)
