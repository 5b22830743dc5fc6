"""Branches (Extension, dev-api-releases.md §9): list, create, get, rename, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.auth.guard import authorize, parse_path_ids
from releasegate.branches import service
from releasegate.branches.schemas import CREATE_BRANCH, UPDATE_BRANCH, BranchRename, NewBranch
from releasegate.branches.views import BranchView
from releasegate.kit.envelope import ok
from releasegate.kit.ids import parse_uuid
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import choice, first, page_data, parse_page
from releasegate.products.errors import InvalidProductId
from releasegate.runtime import RuntimeDep

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["branches"])


@router.get("/branches", responses=envelope_responses(200, 404))
async def list_branches_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """List a product's branches (`productId` required), each with `releaseCount`.

    200 `Branches found`; 400 `Invalid or missing productId`, 404 `Product not found`
    (dev-api-releases.md §9).
    """
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    params = request.query_params
    product_id = parse_uuid(first(params, "productId"))
    if product_id is None:
        raise InvalidProductId()
    search = first(params, "search")
    sort_column = choice(params, "sortColumn", ("name", "createdAt", "updatedAt"), "createdAt")
    column = {"name": "name", "createdAt": "created_at", "updatedAt": "updated_at"}[sort_column]
    page = await service.list_branches(
        runtime,
        team_id,
        product_id,
        search if search and len(search) <= 255 else None,
        column,
        parse_page(params),
    )
    return ok(page_data("branches", page, BranchView.to_json), "Branches found")


@router.post("/branches", status_code=201, responses=envelope_responses(201, 403, 404, 409, 413))
async def create_branch_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """Create a branch of a product. 201 `Branch created`; 404 `Product not found`, 403
    `Max branches per product reached`, 409 duplicate name (dev-api-releases.md §9).
    """
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "dev.write")
    new = NewBranch.from_body(await read_json_body(request, CREATE_BRANCH))
    return (await service.create_branch(runtime, caller, new)).response(201)


@router.get("/branches/{branchId}", responses=envelope_responses(200, 404))
async def get_branch_endpoint(
    teamId: str, branchId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get one branch. 200 `Branch found`; 404 `Branch not found` (dev-api-releases.md §9)."""
    team_id, branch_id = parse_path_ids(teamId, [("branchId", branchId)])
    await authorize(runtime, request, team_id, "dev.read")
    view = await service.get_branch(runtime, team_id, branch_id)
    return ok(view.to_json(), "Branch found")


@router.put("/branches/{branchId}", responses=envelope_responses(200, 404, 409, 413))
async def update_branch_endpoint(
    teamId: str, branchId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Rename a branch (clients must then send the new name).

    200 `Branch updated`; 404 `Branch not found`, 409 duplicate name (dev-api-releases.md §9).
    """
    team_id, branch_id = parse_path_ids(teamId, [("branchId", branchId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    rename = BranchRename.from_body(await read_json_body(request, UPDATE_BRANCH))
    return (await service.update_branch(runtime, caller, branch_id, rename)).response()


@router.delete("/branches/{branchId}", responses=envelope_responses(200, 404, 409))
async def delete_branch_endpoint(
    teamId: str, branchId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a branch that has no releases; `data` is the branch before deletion.

    200 `Branch deleted`; 404 `Branch not found`, 409 `Branch has releases and cannot
    be deleted` (dev-api-releases.md §9).
    """
    team_id, branch_id = parse_path_ids(teamId, [("branchId", branchId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await service.delete_branch(runtime, caller, branch_id)).response()
