"""Audit log, read-only (Extension, webhooks-and-audit.md §6)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.audit.views import audit_filter, audit_log_json, audit_log_page
from releasegate.auth.guard import authorize, parse_path_ids
from releasegate.kit.envelope import ok
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import first, page_data, parse_page
from releasegate.runtime import RuntimeDep

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["audit"])


@router.get("/audit-logs", responses=envelope_responses(200))
async def list_audit_logs_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """List the team's audit rows, newest first, filtered by `targetType`, `targetId`,
    `action` and `since` (invalid filters are ignored).

    200 `Audit logs found`, `data = {auditLogs, hasNextPage, totalResults}`
    (webhooks-and-audit.md §6).
    """
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    params = request.query_params
    where = audit_filter(
        first(params, "targetType"),
        first(params, "targetId"),
        first(params, "action"),
        first(params, "since"),
    )
    page = await audit_log_page(runtime, team_id, where, parse_page(params))
    return ok(page_data("auditLogs", page, audit_log_json), "Audit logs found")
