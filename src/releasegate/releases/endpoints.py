"""Create Release and Update Release (the seed endpoints)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.apikeys.auth import authorize, parse_path_ids
from releasegate.kit.http import RuntimeDep, respond
from releasegate.kit.openapi import envelope_responses
from releasegate.releases.intake import read_release_form
from releasegate.releases.schemas import CREATE_RELEASE, UPDATE_RELEASE
from releasegate.releases.service import create_release, update_release
from releasegate.storage import release_file_key

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["releases"])

_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {"type": "string", "description": "JSON release object"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/releases",
    status_code=201,
    openapi_extra=_FORM_BODY,
    responses=envelope_responses(201, 403, 404, 408, 409, 413, 415),
)
async def create_release_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "releases.create")
    release_id = uuid.uuid4()
    form = await read_release_form(
        runtime,
        request,
        team_id,
        caller.team.max_file_size_mb,
        CREATE_RELEASE,
        lambda file_id: release_file_key(team_id, release_id, file_id),
    )
    return respond(201, await create_release(runtime, caller, form, release_id))


@router.put(
    "/releases/{releaseId}",
    openapi_extra=_FORM_BODY,
    responses=envelope_responses(200, 403, 404, 408, 409, 413, 415),
)
async def update_release_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id, release_id = parse_path_ids(teamId, [("releaseId", releaseId)])
    caller = await authorize(runtime, request, team_id, "releases.update")
    form = await read_release_form(
        runtime,
        request,
        team_id,
        caller.team.max_file_size_mb,
        UPDATE_RELEASE,
        lambda file_id: release_file_key(team_id, release_id, file_id),
    )
    return respond(200, await update_release(runtime, caller, release_id, form))
