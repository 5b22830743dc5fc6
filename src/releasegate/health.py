"""Liveness and readiness probes, and the Prometheus scrape endpoint."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from releasegate.kit.envelope import json_response
from releasegate.kit.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from releasegate.kit.ratelimit import RedisLimiter
from releasegate.runtime import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Response:
    """Liveness probe: always 200 `OK` with `data = {"status": "ok"}` (operations.md)."""
    return json_response(200, {"status": "ok"}, "OK")


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> Response:
    """Readiness probe: checks the database, the storage and, when used, Redis.

    200 `Ready` when every check is `ok`, else 503 `Not ready`; `data` maps each check
    to `ok` or `unavailable` (operations.md).
    """
    checks: dict[str, str] = {}
    try:
        await runtime.database.ping()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    try:
        await runtime.storage.ping()
        checks["storage"] = "ok"
    except Exception:
        checks["storage"] = "unavailable"
    if isinstance(runtime.limiter, RedisLimiter):
        try:
            await runtime.limiter.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return json_response(200 if ready else 503, checks, "Ready" if ready else "Not ready")


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format, no envelope (operations.md)."""
    return Response(runtime.metrics.render(), 200, media_type=METRICS_CONTENT_TYPE)
