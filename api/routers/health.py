"""Liveness, readiness and metrics for operators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.auth import Principal
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.schemas import Health, Me

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """Database reachable, log position, and each projection's position and lag."""
    ok = runtime.database_ok()
    position = runtime.position() if ok else 0
    body = Health(
        status="ok" if ok else "degraded",
        database="ok" if ok else "unreachable",
        position=position,
        projections={},
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(runtime: RuntimeDep) -> PlainTextResponse:
    """Prometheus text format."""
    lines = [
        "# HELP docket_up Whether the database answers.",
        "# TYPE docket_up gauge",
        f"docket_up {1 if runtime.database_ok() else 0}",
        "# HELP docket_log_position Highest position in the event log.",
        "# TYPE docket_log_position gauge",
        f"docket_log_position {runtime.position()}",
        "# HELP docket_http_requests_total HTTP requests answered, by route and status.",
        "# TYPE docket_http_requests_total counter",
    ]
    for (method, route, status), count in sorted(runtime.counters.items()):
        labels = f'method="{method}",route="{route}",status="{status}"'
        lines.append(f"docket_http_requests_total{{{labels}}} {count}")
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


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
