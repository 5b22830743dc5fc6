"""RequestLog rows: what a client request matched, written after the response
(client-api.md §7)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import structlog

from releasegate.client.models import RequestLog
from releasegate.client.responses import RequestStatus
from releasegate.runtime import Runtime

log = structlog.get_logger(__name__)


@dataclass
class Trace:
    """Filled in as the checks run; ids are set only once they matched."""

    type: str
    method: str
    path: str
    ip_address: str
    country: str | None
    user_agent: str | None
    started: float = field(default_factory=time.perf_counter)
    team_id: uuid.UUID | None = None  # set once the team resolved (rows before it aren't logged)
    status: RequestStatus = RequestStatus.INTERNAL_SERVER_ERROR
    status_code: int = 500
    license_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    release_id: uuid.UUID | None = None
    release_file_id: uuid.UUID | None = None
    hardware_identifier_id: uuid.UUID | None = None

    def finish(self, status_code: int, status: RequestStatus) -> None:
        self.status_code = status_code
        self.status = status


async def write(runtime: Runtime, trace: Trace) -> None:
    """Best effort and outside the request's transaction; 429s and pre-team refusals skipped."""
    if trace.team_id is None or trace.status_code == 429:
        return
    row = RequestLog(
        team_id=trace.team_id,
        type=trace.type,
        status=trace.status.value,
        status_code=trace.status_code,
        license_id=trace.license_id,
        product_id=trace.product_id,
        customer_id=trace.customer_id,
        release_id=trace.release_id,
        release_file_id=trace.release_file_id,
        hardware_identifier_id=trace.hardware_identifier_id,
        ip_address=trace.ip_address,
        country=trace.country,
        user_agent=None if trace.user_agent is None else trace.user_agent[:1024],
        method=trace.method,
        path=trace.path[:255],
        duration_ms=round((time.perf_counter() - trace.started) * 1000),
    )
    try:
        async with runtime.database.write() as session:
            session.add(row)
    except Exception as exc:  # a lost log row must never fail or slow the request
        log.warning("request_log_failed", error=type(exc).__name__)
