"""Product rules: names unique per team (ASCII case-insensitive), the team's product cap."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.metadata.service import load_metadata, replace_metadata
from releasegate.products import repository as repo
from releasegate.products.models import Product
from releasegate.products.views import product_with_metadata_json
from releasegate.runtime import Runtime
from releasegate.teams.models import Team

NAME_TAKEN = "A product with this name already exists"


async def create_product(
    runtime: Runtime, caller: Caller, data: dict[str, Any]
) -> dict[str, object]:
    team: Team = caller.team
    try:
        async with runtime.database.write() as session:
            if team.max_products and await repo.count(session, team.id) >= team.max_products:
                raise ApiError(403, "Max products reached")
            if await repo.name_taken(session, team.id, data["name"]):
                raise ApiError(409, NAME_TAKEN)
            now = utcnow()
            product = Product(
                id=uuid.uuid4(),
                team_id=team.id,
                name=data["name"],
                url=data["url"],
                created_at=now,
                updated_at=now,
            )
            session.add(product)
            await session.flush()
            await replace_metadata(session, team.id, "product_id", product.id, data["metadata"])
            metadata = (await load_metadata(session, "product_id", [product.id]))[product.id]
            body = envelope(
                product_with_metadata_json(product, metadata), "Product created", valid=True
            )
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="CREATE_PRODUCT",
                target_type="PRODUCT",
                target_id=product.id,
                request_body=data,
                response_body=body,
            )
    except IntegrityError as exc:
        if "uq_products_team_id_name" in str(exc.orig):
            raise ApiError(409, NAME_TAKEN) from None
        raise
    return body


async def get_product(
    runtime: Runtime, team_id: uuid.UUID, product_id: uuid.UUID
) -> dict[str, object]:
    async with runtime.database.read() as session:
        product = await repo.get(session, team_id, product_id)
        if product is None:
            raise ApiError(404, "Product not found")
        metadata = (await load_metadata(session, "product_id", [product.id]))[product.id]
    return envelope(product_with_metadata_json(product, metadata), "Product found", valid=True)
