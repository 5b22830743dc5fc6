"""Licenses (Extension, dev-api-releases.md §11): create and get."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.apikeys.auth import authorize, parse_path_ids
from releasegate.kit.errors import ApiError
from releasegate.kit.http import RuntimeDep, respond
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.licenses.keys import LICENSE_KEY_PATTERN
from releasegate.licenses.schemas import CREATE_LICENSE
from releasegate.licenses.service import create_license, get_license

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["licenses"])


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


@router.get("/licenses/{licenseKey}", responses=envelope_responses(200, 404))
async def get_license_by_key_endpoint(
    teamId: str, licenseKey: str, request: Request, runtime: RuntimeDep
) -> Response:
    (team_id,) = parse_path_ids(teamId, [])
    if not LICENSE_KEY_PATTERN.fullmatch(licenseKey):
        raise ApiError(400, "Invalid licenseKey")
    await authorize(runtime, request, team_id, "dev.read")
    return respond(200, await get_license(runtime, team_id, key=licenseKey))
