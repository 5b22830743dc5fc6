"""Raw file download for publishers (Extension, dev-api-releases.md §8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from releasegate.apikeys.auth import authorize, parse_path_ids
from releasegate.kit.http import RuntimeDep
from releasegate.kit.openapi import envelope_responses
from releasegate.releases.download import open_release_file

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["releases"])

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
    download = await open_release_file(
        runtime,
        team_id,
        release_id,
        request.headers.get("range"),
        request.headers.get("if-range"),
    )
    chunks = runtime.metrics.counted_download("raw", download.chunks)
    return StreamingResponse(chunks, download.status, download.headers)
