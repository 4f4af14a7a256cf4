"""Liveness, readiness and metrics for operators."""

from __future__ import annotations

import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.runtime import Runtime
from api.schemas.health import Health, Me, ProjectionHealth, ReplicaHealth
from desk.access import Principal
from desk.automation_watch import AutomationWatch
from desk.deadline_watch import DeadlineWatch
from projections.tracking import ViewFailure

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """Database reachable, log position, and each projection's position and lag.

    ``degraded`` with 503 when the database is away; ``degraded`` with 200 when a view is
    stuck (it keeps failing on one event): the API still serves, from a view that has
    stopped moving, so taking the node out of service would not help, but an operator
    must look (``reasons`` names the view, the position and the error).
    """
    ok = runtime.database_ok()
    position = runtime.position() if ok else 0
    views = projection_health(runtime, position) if ok else {}
    reasons = [] if ok else ["the database does not answer"]
    replica = replica_health(runtime, position)
    if replica is not None and replica.database != "ok":
        reasons.append("the read database (DOCKET_READ_DATABASE_URL) does not answer")
        ok = False
    reasons += [
        f"view {name} is stuck at position {h.stuck_at} after {h.failures} failed attempts: "
        f"{h.error}"
        for name, h in views.items()
        if h.stuck_at is not None
    ]
    body = Health(
        status="degraded" if reasons else "ok",
        database="ok" if ok else "unreachable",
        position=position,
        projections=views,
        reasons=reasons,
        replica=replica,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


def replica_health(runtime: Runtime, position: int) -> ReplicaHealth | None:
    """The standby reads are answered from: whether it answers, how far it has replayed
    the log and how far behind the primary's log that is (``None``: reads are the
    primary's). Its views' positions are the primary's, replayed: a view's lag on the
    standby is at most its lag here plus the standby's."""
    if runtime.read_pool is None:
        return None
    replayed = runtime.read_position()
    if replayed is None:
        return ReplicaHealth(database="unreachable", position=0, lag=0)
    return ReplicaHealth(database="ok", position=replayed, lag=max(0, position - replayed))


def projection_health(runtime: Runtime, position: int) -> dict[str, ProjectionHealth]:
    """Each view's committed position (from any worker), how far behind the log it is, and
    the error its worker is retrying after, if any (this process's own, else as recorded by
    the worker that met it, such as ``docket serve``'s projection process)."""
    local = runtime.workers.runner.status if runtime.projecting else {}
    recorded = runtime.primary_reads.failing_views()
    found: dict[str, ProjectionHealth] = {}
    for view, at in sorted(runtime.primary_reads.positions().items()):
        mine = local.get(view)
        failing: ViewFailure | None
        if mine is not None and mine.last_error is not None:
            failing = ViewFailure(mine.last_error, mine.failures, mine.failing_at)
        else:
            failing = recorded.get(view)
        found[view] = ProjectionHealth(
            position=at,
            lag=max(0, position - at),
            error=failing.error if failing else None,
            failures=failing.failures if failing else 0,
            stuck_at=failing.failing_at if failing and failing.stuck else None,
        )
    return found


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(runtime: RuntimeDep) -> PlainTextResponse:
    """Prometheus text format."""
    position = runtime.position()
    views = projection_health(runtime, position)
    watch = runtime.workers.deadlines
    rules = runtime.workers.automations

    lines = [
        *one("docket_up", "Whether the database answers.", int(runtime.database_ok())),
        *one("docket_log_position", "Highest position in the event log.", position),
        *gauge(
            "docket_projection_position",
            "Log position each view has applied.",
            [(f'{{view="{v}"}}', h.position) for v, h in views.items()],
        ),
        *gauge(
            "docket_projection_lag_events",
            "Events in the log a view has not applied yet.",
            [(f'{{view="{v}"}}', h.lag) for v, h in views.items()],
        ),
        *one(
            "docket_sla_breaches_recorded",
            "Tickets this process's deadline watch put SLA breaches on record for.",
            watch.recorded if watch else 0,
        ),
        *one(
            "docket_sla_watch_failing",
            "Whether this process's deadline watch is retrying after an error.",
            failing(watch),
        ),
        *one(
            "docket_automations_fired",
            "Automation firings this process's automation watch wrote.",
            rules.fired if rules else 0,
        ),
        *one(
            "docket_automation_watch_failing",
            "Whether this process's automation watch is retrying after an error.",
            failing(rules),
        ),
        *replica_gauges(runtime, position),
        *one("docket_api_pid", "The API process that answered this scrape.", os.getpid()),
        "# HELP docket_http_requests_total HTTP requests answered by every API process of "
        "this server, by route and status.",
        "# TYPE docket_http_requests_total counter",
    ]
    by_process = runtime.counts.by_process()
    for (method, route, status), count in sorted(runtime.counts.totals().items()):
        labels = f'method="{method}",route="{route}",status="{status}"'
        lines.append(f"docket_http_requests_total{{{labels}}} {count}")
    lines += [
        "# HELP docket_http_process_requests_total HTTP requests answered by each API process "
        "(one per worker, those exited included).",
        "# TYPE docket_http_process_requests_total counter",
    ]
    for pid, counts in sorted(by_process.items()):
        lines.append(f'docket_http_process_requests_total{{pid="{pid}"}} {sum(counts.values())}')
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def gauge(name: str, about: str, samples: list[tuple[str, int]]) -> list[str]:
    return [f"# HELP {name} {about}", f"# TYPE {name} gauge"] + [
        f"{name}{labels} {value}" for labels, value in samples
    ]


def one(name: str, about: str, value: int) -> list[str]:
    """A gauge of one sample, without labels."""
    return gauge(name, about, [("", value)])


def failing(watch: DeadlineWatch | AutomationWatch | None) -> int:
    """Whether a watch this process runs is retrying after an error."""
    return int(watch is not None and watch.last_error is not None)


def replica_gauges(runtime: Runtime, position: int) -> list[str]:
    """The standby's gauges, when reads are answered from one."""
    replica = replica_health(runtime, position)
    if replica is None:
        return []
    return [
        *one(
            "docket_read_database_up",
            "Whether the standby reads are answered from answers.",
            int(replica.database == "ok"),
        ),
        *one(
            "docket_read_database_lag_events",
            "Events in the primary's log the standby has not replayed yet.",
            replica.lag,
        ),
    ]


@router.get("/v1/me", response_model=Me)
def me(who: CurrentPrincipal) -> Me:
    """Who the token belongs to."""
    principal: Principal = allowed(who, "me")
    return Me(
        id=principal.id,
        role=principal.role,
        name=principal.name,
        account_id=str(principal.account_id) if principal.account_id else None,
    )
