"""Products (Extension, dev-api-releases.md §10)."""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.auth.guard import authorize, parse_path_ids
from releasegate.kit.envelope import ok
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import choice, first, page_data, parse_page
from releasegate.kit.validation import utf16_length
from releasegate.products import service
from releasegate.products.repository import SORT_COLUMNS, SortColumn
from releasegate.products.schemas import CREATE_PRODUCT, UPDATE_PRODUCT, ProductDraft
from releasegate.products.views import ProductView
from releasegate.runtime import RuntimeDep

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["products"])


@router.post("/products", status_code=201, responses=envelope_responses(201, 403, 409, 413))
async def create_product_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """Create a product. 201 `Product created`; 403 `Max products reached`, 409 duplicate
    name (dev-api-releases.md §10).
    """
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "dev.write")
    draft = ProductDraft.from_body(await read_json_body(request, CREATE_PRODUCT))
    return (await service.create_product(runtime, caller, draft)).response(201)


@router.get("/products", responses=envelope_responses(200))
async def list_products_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """List the team's products with search, sorting and paging.

    200 `Products found`, `data = {products, hasNextPage, totalResults}` (dev-api-releases.md §10).
    """
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    params = request.query_params
    search = first(params, "search")
    sort_column = cast(SortColumn, choice(params, "sortColumn", SORT_COLUMNS, "createdAt"))
    page = await service.list_products(
        runtime,
        team_id,
        search if search is not None and utf16_length(search) <= 255 else None,
        sort_column,
        parse_page(params),
    )
    return ok(page_data("products", page, ProductView.to_json), "Products found")


@router.get("/products/{productId}", responses=envelope_responses(200, 404))
async def get_product_endpoint(
    teamId: str, productId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get one product. 200 `Product found`; 404 `Product not found` (dev-api-releases.md §10)."""
    team_id, product_id = parse_path_ids(teamId, [("productId", productId)])
    await authorize(runtime, request, team_id, "dev.read")
    view = await service.get_product(runtime, team_id, product_id)
    return ok(view.to_json(), "Product found")


@router.put("/products/{productId}", responses=envelope_responses(200, 404, 409, 413))
async def update_product_endpoint(
    teamId: str, productId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Replace a product's name, url and metadata.

    200 `Product updated`; 404 `Product not found`, 409 duplicate name (dev-api-releases.md §10).
    """
    team_id, product_id = parse_path_ids(teamId, [("productId", productId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    draft = ProductDraft.from_body(await read_json_body(request, UPDATE_PRODUCT))
    return (await service.update_product(runtime, caller, product_id, draft)).response()


@router.delete("/products/{productId}", responses=envelope_responses(200, 404, 409))
async def delete_product_endpoint(
    teamId: str, productId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a product and its branches; with `cascade=true` also its releases and files.

    200 `Product deleted` (`data` = the product before deletion); 404 `Product not found`,
    409 `Product has releases and cannot be deleted` without cascade (dev-api-releases.md §10).
    """
    team_id, product_id = parse_path_ids(teamId, [("productId", productId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    cascade = first(request.query_params, "cascade") == "true"
    reply = await service.delete_product(runtime, caller, product_id, cascade=cascade)
    return reply.response()
