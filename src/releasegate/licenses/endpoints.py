"""Licenses (Extension, dev-api-releases.md §11): the license routes.

`/licenses/id/...` routes are declared before `/licenses/{licenseKey}` so they match first.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.apikeys.auth import authorize, parse_path_ids
from releasegate.kit.errors import ApiError
from releasegate.kit.http import RuntimeDep, respond
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import choice, parse_page
from releasegate.licenses.deletion import delete_license
from releasegate.licenses.device_endpoints import router as device_router
from releasegate.licenses.keys import LICENSE_KEY_PATTERN
from releasegate.licenses.list_filters import parse_license_filters
from releasegate.licenses.schemas import CREATE_LICENSE, UPDATE_LICENSE
from releasegate.licenses.service import create_license, get_license, list_licenses, update_license
from releasegate.licenses.suspension import set_suspended

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["licenses"])
router.include_router(device_router)

_SORT_COLUMNS = {"createdAt": "created_at", "updatedAt": "updated_at"}


def _team_and_key(team_id: str, license_key: str) -> uuid.UUID:
    """C1, then C2 for a key path: the key's format stands in for a UUID check."""
    (team_uuid,) = parse_path_ids(team_id, [])
    if not LICENSE_KEY_PATTERN.fullmatch(license_key):
        raise ApiError(400, "Invalid licenseKey")
    return team_uuid


@router.get("/licenses", responses=envelope_responses(200))
async def list_licenses_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    params = request.query_params
    sort_column = choice(params, "sortColumn", tuple(_SORT_COLUMNS), "createdAt")
    body = await list_licenses(
        runtime,
        team_id,
        parse_license_filters(params, runtime.keyring, team_id),
        _SORT_COLUMNS[sort_column],
        parse_page(params),
    )
    return respond(200, body)


@router.post("/licenses", responses=envelope_responses(200, 403, 413))
async def create_license_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "dev.write")
    data = await read_json_body(request, CREATE_LICENSE)
    return respond(200, await create_license(runtime, caller, data))


@router.get("/licenses/id/{licenseId}", responses=envelope_responses(200, 404))
async def get_license_by_id_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    await authorize(runtime, request, team_id, "dev.read")
    return respond(200, await get_license(runtime, team_id, license_id=license_id))


@router.put("/licenses/id/{licenseId}", responses=envelope_responses(200, 404, 413))
async def update_license_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    data = await read_json_body(request, UPDATE_LICENSE)
    return respond(200, await update_license(runtime, caller, license_id, data))


@router.delete("/licenses/id/{licenseId}", responses=envelope_responses(200, 404, 409))
async def delete_license_by_id_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await delete_license(runtime, caller, license_id=license_id))


@router.post("/licenses/id/{licenseId}/suspend", responses=envelope_responses(200, 404))
async def suspend_license_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await set_suspended(runtime, caller, license_id, True))


@router.post("/licenses/id/{licenseId}/unsuspend", responses=envelope_responses(200, 404))
async def unsuspend_license_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await set_suspended(runtime, caller, license_id, False))


@router.get("/licenses/{licenseKey}", responses=envelope_responses(200, 404))
async def get_license_by_key_endpoint(
    teamId: str, licenseKey: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id = _team_and_key(teamId, licenseKey)
    await authorize(runtime, request, team_id, "dev.read")
    return respond(200, await get_license(runtime, team_id, key=licenseKey))


@router.delete("/licenses/{licenseKey}", responses=envelope_responses(200, 404, 409))
async def delete_license_by_key_endpoint(
    teamId: str, licenseKey: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id = _team_and_key(teamId, licenseKey)
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await delete_license(runtime, caller, key=licenseKey))
