"""Release endpoints: the seed create/update (§2–§3) and the catalogue (§4–§7)."""

from __future__ import annotations

import uuid
from typing import Literal, cast

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from releasegate.apikeys.auth import authorize, parse_path_ids
from releasegate.kit.errors import ApiError
from releasegate.kit.http import RuntimeDep, respond
from releasegate.kit.ids import parse_uuid
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import choice, first, parse_page
from releasegate.kit.validation import utf16_length
from releasegate.releases import catalogue
from releasegate.releases.intake import read_release_form
from releasegate.releases.models import ReleaseStatus
from releasegate.releases.repository import (
    DEFAULT_BRANCH,
    SORT_COLUMNS,
    ReleaseFilter,
    SortColumn,
)
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
    """Create a release from a multipart `data` JSON part and an optional `file` part.

    201 `Release created`; 400/413/415 for bad bodies, 404 unknown product, branch or
    licenses, 403 release limit, 409 duplicate version (dev-api-releases.md §2).
    """
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
    created = await create_release(runtime, caller, form, release_id)
    if form.file is not None:
        runtime.metrics.count_upload(form.file.size)
    return respond(201, created)


@router.put(
    "/releases/{releaseId}",
    openapi_extra=_FORM_BODY,
    responses=envelope_responses(200, 403, 404, 408, 409, 413, 415),
)
async def update_release_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Replace a release's fields and optionally its file (multipart, as for create).

    200 `Release updated`; 404 unknown release, product, branch or licenses, 403 release
    limit on a move, 409 duplicate version (dev-api-releases.md §3).
    """
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
    updated = await update_release(runtime, caller, release_id, form)
    if form.file is not None:
        runtime.metrics.count_upload(form.file.size)
    return respond(200, updated)


def _list_filter(params: QueryParams) -> ReleaseFilter:
    """Rows 6–7 of §4; every other parameter silently falls back (first occurrence wins)."""
    product_id = parse_uuid(first(params, "productId"))
    if product_id is None:
        raise ApiError(400, "Invalid or missing productId")
    raw_branch = first(params, "branchId")
    branch: uuid.UUID | Literal["default"] | None = None
    if raw_branch == DEFAULT_BRANCH:
        branch = DEFAULT_BRANCH
    elif raw_branch is not None:
        branch = parse_uuid(raw_branch)
        if branch is None:
            raise ApiError(400, "Invalid branchId")
    status = first(params, "status")
    search = first(params, "search")
    return ReleaseFilter(
        product_id=product_id,
        branch=branch,
        status=status if status in tuple(ReleaseStatus) else None,
        search=search if search is not None and utf16_length(search) <= 255 else None,
    )


@router.get("/releases", responses=envelope_responses(200, 404))
async def list_releases_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """List a product's releases, filtered by branch, status and search, sorted and paged.

    200 `Releases found` (also when empty); 400 `Invalid or missing productId`, 404
    unknown product or branch (dev-api-releases.md §4).
    """
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    params = request.query_params
    where = _list_filter(params)
    sort_column = cast(SortColumn, choice(params, "sortColumn", SORT_COLUMNS, "createdAt"))
    body = await catalogue.list_releases(runtime, team_id, where, sort_column, parse_page(params))
    return respond(200, body)


@router.get("/releases/{releaseId}", responses=envelope_responses(200, 404))
async def get_release_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get one release. 200 `Release found`; 404 `Release not found` (dev-api-releases.md §5)."""
    team_id, release_id = parse_path_ids(teamId, [("releaseId", releaseId)])
    await authorize(runtime, request, team_id, "dev.read")
    return respond(200, await catalogue.get_release(runtime, team_id, release_id))


@router.delete("/releases/{releaseId}", responses=envelope_responses(200, 404, 409))
async def delete_release_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a release and its file; `data` is the release as it was before deletion.

    200 `Release deleted`; 404 `Release not found` (dev-api-releases.md §6).
    """
    team_id, release_id = parse_path_ids(teamId, [("releaseId", releaseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await catalogue.delete_release(runtime, caller, release_id))


@router.post("/releases/{releaseId}/set-latest", responses=envelope_responses(200, 404, 409))
async def set_latest_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Make a published release without license restrictions the latest of its branch.

    200 `Release set as latest` (also if it already was); 400 if not PUBLISHED or
    restricted, 404 `Release not found` (dev-api-releases.md §7).
    """
    team_id, release_id = parse_path_ids(teamId, [("releaseId", releaseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await catalogue.set_latest(runtime, caller, release_id))
