"""Release endpoints: the seed create/update (§2–§3), the catalogue (§4–§7) and the raw
file (§8)."""

from __future__ import annotations

import uuid
from typing import Any, Literal, cast

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse

from releasegate.auth.guard import authorize, parse_path_ids
from releasegate.files.intake import read_upload_form
from releasegate.files.keys import release_file_key
from releasegate.kit.envelope import ok
from releasegate.kit.ids import parse_uuid
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import choice, first, page_data, parse_page
from releasegate.kit.validation import utf16_length
from releasegate.products.errors import InvalidProductId
from releasegate.releases import catalogue, service
from releasegate.releases.errors import InvalidBranchId
from releasegate.releases.models import ReleaseStatus
from releasegate.releases.repository import (
    DEFAULT_BRANCH,
    SORT_COLUMNS,
    ReleaseFilter,
    SortColumn,
)
from releasegate.releases.schemas import CREATE_RELEASE, UPDATE_RELEASE, ReleaseDraft
from releasegate.releases.views import ReleaseView
from releasegate.runtime import RuntimeDep

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
    form = await read_upload_form(
        runtime,
        request,
        team_id,
        caller.team.max_file_size_mb,
        CREATE_RELEASE,
        lambda file_id: release_file_key(team_id, release_id, file_id),
    )
    draft = ReleaseDraft.from_body(form.data)
    reply = await service.create_release(runtime, caller, release_id, draft, form.file)
    if form.file is not None:
        runtime.metrics.count_upload(form.file.size)
    return reply.response(201)


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
    form = await read_upload_form(
        runtime,
        request,
        team_id,
        caller.team.max_file_size_mb,
        UPDATE_RELEASE,
        lambda file_id: release_file_key(team_id, release_id, file_id),
    )
    draft = ReleaseDraft.from_body(form.data)
    reply = await service.update_release(runtime, caller, release_id, draft, form.file)
    if form.file is not None:
        runtime.metrics.count_upload(form.file.size)
    return reply.response()


def _list_filter(params: QueryParams) -> ReleaseFilter:
    """Rows 6–7 of §4; every other parameter silently falls back (first occurrence wins)."""
    product_id = parse_uuid(first(params, "productId"))
    if product_id is None:
        raise InvalidProductId()
    raw_branch = first(params, "branchId")
    branch: uuid.UUID | Literal["default"] | None = None
    if raw_branch == DEFAULT_BRANCH:
        branch = DEFAULT_BRANCH
    elif raw_branch is not None:
        branch = parse_uuid(raw_branch)
        if branch is None:
            raise InvalidBranchId()
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
    page = await catalogue.list_releases(runtime, team_id, where, sort_column, parse_page(params))
    return ok(page_data("releases", page, ReleaseView.to_json), "Releases found")


@router.get("/releases/{releaseId}", responses=envelope_responses(200, 404))
async def get_release_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get one release. 200 `Release found`; 404 `Release not found` (dev-api-releases.md §5)."""
    team_id, release_id = parse_path_ids(teamId, [("releaseId", releaseId)])
    await authorize(runtime, request, team_id, "dev.read")
    view = await catalogue.get_release(runtime, team_id, release_id)
    return ok(view.to_json(), "Release found")


@router.delete("/releases/{releaseId}", responses=envelope_responses(200, 404, 409))
async def delete_release_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a release and its file; `data` is the release as it was before deletion.

    200 `Release deleted`; 404 `Release not found` (dev-api-releases.md §6).
    """
    team_id, release_id = parse_path_ids(teamId, [("releaseId", releaseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await catalogue.delete_release(runtime, caller, release_id)).response()


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
    return (await catalogue.set_latest(runtime, caller, release_id)).response()


_BINARY: dict[str, Any] = {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
}
_FILE_RESPONSES = {
    **envelope_responses(200, 404, 416),
    200: {"description": "The whole file (Content-Type is the stored type)", "content": _BINARY},
    206: {"description": "One byte range of the file (see Content-Range)", "content": _BINARY},
}
_FILE_RESPONSES[416] = {**_FILE_RESPONSES[416], "description": "Range not satisfiable"}


@router.get("/releases/{releaseId}/file", response_class=Response, responses=_FILE_RESPONSES)
async def download_release_file_endpoint(
    teamId: str, releaseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Download a release's stored file as a binary stream; a single `Range` is honoured.

    200 whole file or 206 one range; 404 no release, no file or missing object, 416
    `Range not satisfiable` (dev-api-releases.md §8).
    """
    team_id, release_id = parse_path_ids(teamId, [("releaseId", releaseId)])
    await authorize(runtime, request, team_id, "releases.download")
    download = await catalogue.open_release_file(
        runtime,
        team_id,
        release_id,
        request.headers.get("range"),
        request.headers.get("if-range"),
    )
    if download.chunks is None:  # S3 or the proxy in front sends the bytes
        runtime.metrics.count_handover(runtime.settings.download_redirect)
        return Response(status_code=download.status, headers=download.headers)
    chunks = runtime.metrics.counted_download("raw", download.chunks)
    return StreamingResponse(chunks, download.status, download.headers)
