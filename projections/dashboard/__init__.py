"""The analysts' dashboard: its fold of ticket events (:mod:`.fold`, the view) and the
dashboards read from it (:mod:`.queries`). ``dashboard.VIEW``, ``dashboard.summary`` and
the rest are names of this package."""

from projections.dashboard.fold import (
    COUNTS,
    DAY_COUNTS,
    DAY_DURATIONS,
    DURATIONS,
    MOMENT_COUNTS,
    MOMENTS,
    NAME,
    RATINGS,
    SURVEYS,
    TICKETS,
    VIEW,
)
from projections.dashboard.queries import (
    BUCKETS,
    SATISFACTION_GROUPS,
    TIME_GROUPS,
    DashboardFilter,
    satisfaction,
    summary,
    times,
    top_issues,
    top_products,
    volume,
)

__all__ = [
    "BUCKETS",
    "COUNTS",
    "DAY_COUNTS",
    "DAY_DURATIONS",
    "DURATIONS",
    "MOMENTS",
    "MOMENT_COUNTS",
    "NAME",
    "RATINGS",
    "SATISFACTION_GROUPS",
    "SURVEYS",
    "TICKETS",
    "TIME_GROUPS",
    "VIEW",
    "DashboardFilter",
    "satisfaction",
    "summary",
    "times",
    "top_issues",
    "top_products",
    "volume",
]
