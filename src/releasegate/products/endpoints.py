"""Products (Extension, dev-api-releases.md §10): create and get."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.apikeys.auth import authorize, parse_path_ids
from releasegate.kit.http import RuntimeDep, respond
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.products.schemas import CREATE_PRODUCT
from releasegate.products.service import create_product, get_product

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["products"])


@router.post("/products", status_code=201, responses=envelope_responses(201, 403, 409, 413))
async def create_product_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "dev.write")
    data = await read_json_body(request, CREATE_PRODUCT)
    return respond(201, await create_product(runtime, caller, data))


@router.get("/products/{productId}", responses=envelope_responses(200, 404))
async def get_product_endpoint(
    teamId: str, productId: str, request: Request, runtime: RuntimeDep
) -> Response:
    team_id, product_id = parse_path_ids(teamId, [("productId", productId)])
    await authorize(runtime, request, team_id, "dev.read")
    return respond(200, await get_product(runtime, team_id, product_id))
