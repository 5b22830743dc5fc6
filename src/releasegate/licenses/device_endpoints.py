"""HWID and IP-address routes of a license (dev-api-releases.md §11.3)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.auth.guard import authorize, parse_path_ids
from releasegate.kit.envelope import ok
from releasegate.kit.json_body import read_json
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import choice, first, parse_page
from releasegate.licenses.device_kinds import HWID, IP_ADDRESS, DeviceKind
from releasegate.licenses.devices import (
    SORT_COLUMNS,
    forgotten_value,
    list_devices,
    set_forgotten,
)
from releasegate.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["licenses"])


async def _list(
    kind: DeviceKind, team_id: str, license_id: str, request: Request, runtime: Runtime
) -> Response:
    team_uuid, license_uuid = parse_path_ids(team_id, [("licenseId", license_id)])
    caller = await authorize(runtime, request, team_uuid, "dev.read")
    params = request.query_params
    page = await list_devices(
        runtime,
        kind,
        caller.team,
        license_uuid,
        show_forgotten=first(params, "showForgotten") == "true",
        sort_column=choice(params, "sortColumn", tuple(SORT_COLUMNS), "lastSeenAt"),
        request=parse_page(params),
    )
    data = {
        kind.list_field: [view.to_json() for view in page.rows],
        "totalResults": page.total,
        "hasNextPage": page.has_next,
    }
    return ok(data, f"{kind.plural_noun} retrieved successfully")


async def _patch(
    kind: DeviceKind,
    id_name: str,
    team_id: str,
    license_id: str,
    record_id: str,
    request: Request,
    runtime: Runtime,
) -> Response:
    team_uuid, license_uuid, record_uuid = parse_path_ids(
        team_id, [("licenseId", license_id), (id_name, record_id)]
    )
    caller = await authorize(runtime, request, team_uuid, "dev.write")
    body = await read_json(request)
    forgotten = forgotten_value(body)
    reply = await set_forgotten(runtime, caller, kind, license_uuid, record_uuid, forgotten, body)
    return reply.response()


@router.get("/licenses/id/{licenseId}/hwid", responses=envelope_responses(200, 404))
async def list_hwids_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """List a license's hardware identifiers (forgotten ones with `showForgotten=true`).

    200 `Hardware identifiers retrieved successfully`; 404 `License not found`
    (dev-api-releases.md §11.3).
    """
    return await _list(HWID, teamId, licenseId, request, runtime)


@router.patch("/licenses/id/{licenseId}/hwid/{hwidId}", responses=envelope_responses(200, 404, 413))
async def patch_hwid_endpoint(
    teamId: str, licenseId: str, hwidId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Forget or remember a hardware identifier with `{"forgotten": bool}`.

    200 `Hardware identifier forgotten successfully` (or `remembered`); 400 bad body,
    404 `Hardware identifier not found` (dev-api-releases.md §11.3).
    """
    return await _patch(HWID, "hwidId", teamId, licenseId, hwidId, request, runtime)


@router.get("/licenses/id/{licenseId}/ip-address", responses=envelope_responses(200, 404))
async def list_ip_addresses_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """List a license's IP addresses (forgotten ones with `showForgotten=true`).

    200 `IP addresses retrieved successfully`; 404 `License not found` (dev-api-releases.md §11.3).
    """
    return await _list(IP_ADDRESS, teamId, licenseId, request, runtime)


@router.patch(
    "/licenses/id/{licenseId}/ip-address/{ipId}", responses=envelope_responses(200, 404, 413)
)
async def patch_ip_address_endpoint(
    teamId: str, licenseId: str, ipId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Forget or remember an IP address with `{"forgotten": bool}`.

    200 `IP address forgotten successfully` (or `remembered`); 400 bad body, 404 `IP
    address not found` (dev-api-releases.md §11.3).
    """
    return await _patch(IP_ADDRESS, "ipId", teamId, licenseId, ipId, request, runtime)
