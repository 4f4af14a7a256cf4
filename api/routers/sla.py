"""Service levels: compliance for analysts, and the policy book for admins."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.answers import bad_query, read_problems, start_of_day, time_zone
from api.deps import CorrelationId, CurrentPrincipal, RuntimeDep, allowed, stamp_for
from api.problems import responses
from api.schemas.sla import (
    Compliance,
    SlaPolicyOut,
    SlaSummary,
    SlaSummaryQuery,
    TierPolicyIn,
    TierTargets,
)
from domain.errors import NothingChanged
from domain.messages import Msg
from domain.sla import CALENDARS, Targets, format_duration

router = APIRouter(prefix="/v1/sla", tags=["sla"])

PROBLEMS = responses({422: "Invalid parameter"}, waits_for="SLA view")


def day_range(
    start: date | None, end: date | None, tz: str
) -> tuple[datetime | None, datetime | None]:
    """Whole days in ``tz``: from the start of ``start`` to the end of ``end``."""
    zone = time_zone(tz)
    if start is not None and end is not None and start > end:
        raise bad_query("from", Msg("from is a day on or before to."))
    try:
        low = start_of_day(start, zone) if start else None
        high = start_of_day(end + timedelta(days=1), zone) if end else None
    except OverflowError:
        raise bad_query("to", Msg("to is too far in the future.")) from None
    return low, high


@router.get("/summary", response_model=SlaSummary, responses=PROBLEMS)
def sla_summary(
    query: Annotated[SlaSummaryQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> SlaSummary:
    """Compliance of the SLA clocks started in the date range, per support tier, priority
    and account: met, breached, still running, and met / (met + breached)."""
    allowed(who, "sla_summary")
    start, end = day_range(query.start, query.end, query.tz)
    with read_problems():
        figures, position = runtime.reads.sla_summary(
            start=start,
            end=end,
            account_ids=tuple(query.account),
            min_position=query.min_position,
        )
    return SlaSummary(
        position=position,
        by_tier=[Compliance(**r) for r in figures["tier"]],
        by_priority=[Compliance(**r) for r in figures["priority"]],
        by_account=[Compliance(**r) for r in figures["account"]],
    )


def policy_out(policy: dict[str, Targets]) -> SlaPolicyOut:
    return SlaPolicyOut(
        tiers={
            tier: {
                priority: TierTargets(**{t: format_duration(s) for t, s in targets.items()})
                for priority, targets in table.items()
            }
            for tier, table in policy.items()
        },
        calendars=list(CALENDARS),
    )


@router.get("/policy", response_model=SlaPolicyOut, responses=PROBLEMS)
def sla_policy(who: CurrentPrincipal, runtime: RuntimeDep) -> SlaPolicyOut:
    """The targets in force now, per support tier and priority, and the known calendars."""
    allowed(who, "sla_policy")
    return policy_out(runtime.desk.sla_policy())


@router.put(
    "/policies/{tier}",
    response_model=SlaPolicyOut,
    responses=PROBLEMS,
)
def change_sla_policy(
    tier: str,
    body: TierPolicyIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    correlation_id: CorrelationId,
) -> SlaPolicyOut:
    """New targets for one tier, in force for promises made from now on (tickets filed or
    reopened later); tickets already filed keep the terms recorded on them."""
    allowed(who, "sla_policy_change")
    data = body.model_dump(exclude_none=True)
    stamp = stamp_for(who, correlation_id, None)
    # the same targets again are already in force: a PUT may be repeated
    with contextlib.suppress(NothingChanged):
        runtime.desk.change_sla_targets(tier=tier, data=data, stamp=stamp)
    return policy_out(runtime.desk.sla_policy())
