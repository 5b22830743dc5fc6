"""Licenses (Extension, dev-api-releases.md §11): the license routes.

`/licenses/id/...` routes are declared before `/licenses/{licenseKey}` so they match first.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.auth.errors import InvalidPathId
from releasegate.auth.guard import authorize, parse_path_ids
from releasegate.kit.envelope import ok
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import choice, page_data, parse_page
from releasegate.licenses import service
from releasegate.licenses.keys import LICENSE_KEY_PATTERN
from releasegate.licenses.schemas import (
    CREATE_LICENSE,
    UPDATE_LICENSE,
    LicenseDraft,
    parse_license_filters,
)
from releasegate.licenses.views import LicenseView
from releasegate.runtime import RuntimeDep

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["licenses"])

_SORT_COLUMNS = {"createdAt": "created_at", "updatedAt": "updated_at"}


def _team_and_key(team_id: str, license_key: str) -> uuid.UUID:
    """C1, then C2 for a key path: the key's format stands in for a UUID check."""
    (team_uuid,) = parse_path_ids(team_id, [])
    if not LICENSE_KEY_PATTERN.fullmatch(license_key):
        raise InvalidPathId("licenseKey")
    return team_uuid


@router.get("/licenses", responses=envelope_responses(200))
async def list_licenses_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """List the team's licenses, filtered by key, products, customers, metadata or status.

    200 `Licenses found`, `data = {licenses, hasNextPage, totalResults}`
    (dev-api-releases.md §11.3).
    """
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    params = request.query_params
    sort_column = choice(params, "sortColumn", tuple(_SORT_COLUMNS), "createdAt")
    page = await service.list_licenses(
        runtime,
        team_id,
        parse_license_filters(params, runtime.keyring, team_id),
        _SORT_COLUMNS[sort_column],
        parse_page(params),
    )
    return ok(page_data("licenses", page, LicenseView.to_json), "Licenses found")


@router.post("/licenses", responses=envelope_responses(200, 403, 413))
async def create_license_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """Create a license; a key is generated unless one is imported.

    200 `License created`; 403 `Max licenses reached`, 400 unknown product or customer
    ids or key already in use (dev-api-releases.md §11.3).
    """
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "dev.write")
    draft = LicenseDraft.from_body(await read_json_body(request, CREATE_LICENSE))
    return (await service.create_license(runtime, caller, draft)).response()


@router.get("/licenses/id/{licenseId}", responses=envelope_responses(200, 404))
async def get_license_by_id_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get a license by id.

    200 `License found`; 404 `License not found` (dev-api-releases.md §11.3).
    """
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    await authorize(runtime, request, team_id, "dev.read")
    view = await service.get_license(runtime, team_id, license_id=license_id)
    return ok(view.to_json(), "License found")


@router.put("/licenses/id/{licenseId}", responses=envelope_responses(200, 404, 413))
async def update_license_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Replace a license's fields; an unchanged expiry keeps its stored date.

    200 `License updated`; 404 `License not found`, 400 unknown product or customer ids
    or key already in use (dev-api-releases.md §11.3).
    """
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    draft = LicenseDraft.from_body(await read_json_body(request, UPDATE_LICENSE))
    return (await service.update_license(runtime, caller, license_id, draft)).response()


@router.delete("/licenses/id/{licenseId}", responses=envelope_responses(200, 404, 409))
async def delete_license_by_id_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a license by id; `data` is the license before deletion.

    200 `License deleted successfully`; 404 `License not found`, 409 if it is the last
    allowed license of a release (dev-api-releases.md §11.3).
    """
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await service.delete_license(runtime, caller, license_id=license_id)).response()


@router.post("/licenses/id/{licenseId}/suspend", responses=envelope_responses(200, 404))
async def suspend_license_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Suspend a license (idempotent). 200 `License suspended`; 404 `License not found`
    (dev-api-releases.md §11.3).
    """
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await service.set_suspended(runtime, caller, license_id, True)).response()


@router.post("/licenses/id/{licenseId}/unsuspend", responses=envelope_responses(200, 404))
async def unsuspend_license_endpoint(
    teamId: str, licenseId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Lift a license's suspension (idempotent). 200 `License unsuspended`; 404 `License
    not found` (dev-api-releases.md §11.3).
    """
    team_id, license_id = parse_path_ids(teamId, [("licenseId", licenseId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await service.set_suspended(runtime, caller, license_id, False)).response()


@router.get("/licenses/{licenseKey}", responses=envelope_responses(200, 404))
async def get_license_by_key_endpoint(
    teamId: str, licenseKey: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get a license by its key. 200 `License found`; 400 `Invalid licenseKey`, 404
    `License not found` (dev-api-releases.md §11.3).
    """
    team_id = _team_and_key(teamId, licenseKey)
    await authorize(runtime, request, team_id, "dev.read")
    view = await service.get_license(runtime, team_id, key=licenseKey)
    return ok(view.to_json(), "License found")


@router.delete("/licenses/{licenseKey}", responses=envelope_responses(200, 404, 409))
async def delete_license_by_key_endpoint(
    teamId: str, licenseKey: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a license by its key; `data` is the license before deletion.

    200 `License deleted successfully`; 400 `Invalid licenseKey`, 404 `License not
    found`, 409 if it is the last allowed license of a release (dev-api-releases.md §11.3).
    """
    team_id = _team_and_key(teamId, licenseKey)
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await service.delete_license(runtime, caller, key=licenseKey)).response()
