"""Branch rules: names unique per product (case-sensitive), the per-product cap."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.branches import repository as repo
from releasegate.branches.models import Branch
from releasegate.branches.views import branch_json
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.pagination import PageRequest, split_page
from releasegate.products import repository as products
from releasegate.runtime import Runtime

NAME_TAKEN = "A branch with this name already exists for this product"


async def create_branch(
    runtime: Runtime, caller: Caller, data: dict[str, Any]
) -> dict[str, object]:
    team = caller.team
    product_id = uuid.UUID(data["productId"])
    try:
        async with runtime.database.write() as session:
            product = await products.get(session, team.id, product_id, lock=True)
            if product is None:
                raise ApiError(404, "Product not found")
            limit = team.max_branches_per_product
            if limit and await repo.count_for_product(session, product_id) >= limit:
                raise ApiError(403, "Max branches per product reached")
            if await repo.name_taken(session, product_id, data["name"]):
                raise ApiError(409, NAME_TAKEN)
            now = utcnow()
            branch = Branch(
                id=uuid.uuid4(),
                team_id=team.id,
                product_id=product_id,
                name=data["name"],
                created_at=now,
                updated_at=now,
            )
            session.add(branch)
            await session.flush()
            body = envelope(
                {**branch_json(branch), "releaseCount": 0}, "Branch created", valid=True
            )
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="CREATE_BRANCH",
                target_type="BRANCH",
                target_id=branch.id,
                request_body=data,
                response_body=body,
            )
    except IntegrityError as exc:
        if "uq_branches_product_id_name" in str(exc.orig) or "branches.product_id" in str(exc.orig):
            raise ApiError(409, NAME_TAKEN) from None
        raise
    return body


async def list_branches(
    runtime: Runtime,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    search: str | None,
    sort_column: str,
    page: PageRequest,
) -> dict[str, object]:
    async with runtime.database.read() as session:
        if await products.get(session, team_id, product_id) is None:
            raise ApiError(404, "Product not found")
        rows, total = await repo.page(session, team_id, product_id, search, sort_column, page)
        rows, has_next = split_page(rows, page)
        counts = await repo.release_counts(session, [row.id for row in rows])
    branches = [{**branch_json(row), "releaseCount": counts[row.id]} for row in rows]
    return envelope(
        {"branches": branches, "hasNextPage": has_next, "totalResults": total},
        "Branches found",
        valid=True,
    )
