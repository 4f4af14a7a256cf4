"""Aggregates kept folded in a serving process, safe for the API's threads.

eventsourcing's repository cache fast-forwards a cached aggregate *in place*: one thread
applies the events stored since to the very object another thread is deep-copying, and
the copy fails ("dictionary changed size during iteration"). This repository never
changes a cached aggregate: under the aggregate's lock it folds the new events onto a
copy and caches the copy, so what the cache holds is only ever read, and every caller
gets a copy of its own to decide on. Each read still fetches the events stored since the
cached version, so a change another process made is seen at once; a decision on a fold
that another writer overtook is refused by the append, as without the cache.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.persistence import EventStore
from eventsourcing.utils import strtobool

T = TypeVar("T")


def copy_of(aggregate: T) -> T:
    """A deep copy of ``aggregate``, for a caller to change: a pickle round trip copies
    the plain data an aggregate holds as ``copy.deepcopy`` does, in about half the time
    (copying a cached ticket is most of what a reply's read of it costs)."""
    copied: T = pickle.loads(pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL))
    return copied


class CopyingRepository(Repository[UUID]):
    """The repository with a cache whose aggregates are folded on copies (see above)."""

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                folded = self._fast_forwarded(aggregate_id, projector_func)
        finally:
            self._disuse_fastforward_lock(aggregate_id)
        # nobody changes what the cache holds, so no lock needed; a caller that only
        # reads (``deepcopy_from_cache=False``) may read the cached aggregate itself
        return copy_of(folded) if deepcopy_from_cache else folded

    def _fast_forwarded(
        self, aggregate_id: UUID, projector_func: ProjectorFunction[Any, Any]
    ) -> Any:
        """The cached aggregate with the events stored since folded onto a copy (cached in
        its place), the cached one if none were, or one folded from its first event."""
        assert self.cache is not None
        try:
            cached = self.cache.get(aggregate_id)
        except KeyError:
            folded = self._reconstruct_aggregate(aggregate_id, None, projector_func)
            self.cache.put(aggregate_id, folded)
            return folded
        since = list(self.event_store.get(originator_id=aggregate_id, gt=cached.version))
        if not since:
            return cached
        folded = projector_func(copy_of(cached), cast(Iterable[Any], since))
        if folded is None:  # discarded meanwhile
            self.cache.get(aggregate_id, evict=True)
            raise AggregateNotFoundError(aggregate_id)
        self.cache.put(aggregate_id, folded)
        return folded


def copying_repository(
    events: EventStore[UUID], snapshots: EventStore[UUID] | None, env: Any
) -> CopyingRepository:
    """The repository an application's settings ask for (``AGGREGATE_CACHE_MAXSIZE``; no
    cache when unset, as eventsourcing's own)."""
    maxsize = env.get("AGGREGATE_CACHE_MAXSIZE")
    return CopyingRepository(
        event_store=events,
        snapshot_store=snapshots,
        cache_maxsize=int(maxsize) if maxsize else None,
        fastforward=strtobool(env.get("AGGREGATE_CACHE_FASTFORWARD", "y")),
    )
