"""The buckets the times dashboard's roll-up counts durations in, and the quantiles read
back from them.

A duration (filing → first response, filing → resolution) is kept in microseconds and
falls in one bucket: 0.01 h wide below one hour, then each ``GAMMA`` times the one
before (a log scale, as DDSketch does), mirrored for the negative durations an import
can carry. Counts and sums per bucket are exact, so counts and means are exact; a
median or 90th percentile is read as the representative value of the bucket holding
each order statistic it interpolates between, which is within ``error_bound`` of that
order statistic: **0.005 h or 0.5 %, whichever is larger**. Interpolating two values
each within its bound stays within the larger of the two bounds.

The bucket of a duration is ``bisect_right(THRESHOLDS, micros)``, which is exactly
PostgreSQL's ``width_bucket(micros, THRESHOLDS)``, so the fold (Python) and the rows a
range cuts (SQL) put a duration in the same bucket.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

HOUR = 3_600_000_000
"""Microseconds in an hour."""
LINEAR_WIDTH = HOUR // 100
"""Below one hour, buckets are 0.01 h wide: the representative (the middle) is within
0.005 h of anything in the bucket."""
ALPHA = 0.005
"""From one hour up, relative accuracy: the representative is within 0.5 % of anything in
its bucket."""
GAMMA = (1 + ALPHA) / (1 - ALPHA)
LONGEST = 10_000 * 366 * 24 * HOUR
"""Longer than any duration between two instants of the calendar (years 1 to 9999)."""


def _positive_bounds() -> list[int]:
    bounds = list(range(0, HOUR + 1, LINEAR_WIDTH))
    k = 1
    while bounds[-1] <= LONGEST:
        bounds.append(round(HOUR * GAMMA**k))
        k += 1
    return bounds


_POSITIVE = _positive_bounds()
THRESHOLDS: tuple[int, ...] = (
    *sorted(1 - b for b in _POSITIVE if b > 0),  # (-hi, -lo] is [1 - hi, 1 - lo) in µs
    *_POSITIVE,
)
"""The buckets' lower bounds, ascending: bucket ``i`` holds ``[THRESHOLDS[i-1],
THRESHOLDS[i])``; no duration falls below the first or past the last."""
BOUNDS = "{" + ",".join(map(str, THRESHOLDS)) + "}"
"""``THRESHOLDS`` as a PostgreSQL array, sent as this text (``%s::bigint[]``): psycopg
adapting the 3,861 numbers of a list one by one cost about 20 ms a query."""


def bucket_of(micros: int) -> int:
    """The bucket a duration of ``micros`` falls in (PostgreSQL's ``width_bucket``)."""
    return bisect.bisect_right(THRESHOLDS, micros)


def representative(bucket: int) -> float:
    """The value (µs) a bucket stands for: the middle of a linear one, the point of a log
    one equally far (relatively) from both its ends."""
    low, high = THRESHOLDS[bucket - 1], THRESHOLDS[bucket]
    if low < 0:  # the mirror of a positive bucket [1 - high, 1 - low)
        return -representative(bucket_of(1 - high))
    if high <= HOUR:
        return (low + high) / 2
    return 2 * low * high / (low + high)


def error_bound(hours: float) -> float:
    """How far (hours) a bucket's representative can be from a duration of ``hours`` in it
    (and a microsecond, which the buckets' bounds are rounded to)."""
    return max(LINEAR_WIDTH / HOUR / 2, ALPHA * abs(hours)) * (1 + 1e-12) + 1 / HOUR


def quantile(buckets: Sequence[tuple[int, int]], q: float) -> float:
    """The ``q`` quantile (hours), interpolated between order statistics as
    ``percentile_cont`` does, of the durations counted per bucket (ascending ``(bucket,
    count)`` pairs, at least one count)."""
    total = sum(n for _, n in buckets)
    rank = q * (total - 1)
    low = math.floor(rank)
    high = min(low + 1, total - 1)
    at_low, at_high = _order_statistic(buckets, low), _order_statistic(buckets, high)
    return (at_low + (at_high - at_low) * (rank - low)) / HOUR


def _order_statistic(buckets: Sequence[tuple[int, int]], k: int) -> float:
    """The representative of the bucket holding the ``k``-th smallest duration (from 0)."""
    seen = 0
    for bucket, n in buckets:
        seen += n
        if k < seen:
            return representative(bucket)
    raise ValueError(f"no order statistic {k} among {seen} durations")
