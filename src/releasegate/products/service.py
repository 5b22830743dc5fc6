"""Product rules: names unique per team (ASCII case-insensitive), the team's product cap, and
deletion refused while releases exist unless cascading (dev-api-releases.md §10)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.branches.events import branch_payloads_of_product
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.pagination import PageRequest, split_page
from releasegate.metadata.service import load_metadata, replace_metadata
from releasegate.products import repository as repo
from releasegate.products.models import Product
from releasegate.products.views import product_with_metadata_json
from releasegate.releases import repository as releases
from releasegate.releases.events import release_payloads_of_product
from releasegate.releases.service import delete_unreferenced
from releasegate.runtime import Runtime
from releasegate.storage.journal import JournalKind, StorageJournal
from releasegate.teams import storage_usage
from releasegate.teams.models import Team
from releasegate.teams.repository import lock_team
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import emit

NAME_TAKEN = "A product with this name already exists"


async def create_product(
    runtime: Runtime, caller: Caller, data: dict[str, Any]
) -> dict[str, object]:
    """Create a product with its metadata; 403 at the team cap, 409 on a taken name."""
    team: Team = caller.team
    try:
        async with runtime.database.write() as session:
            cap = await lock_team(session, team.id)
            if cap and cap.max_products and await repo.count(session, team.id) >= cap.max_products:
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
            product_object = product_with_metadata_json(product, metadata)
            body = envelope(product_object, "Product created", valid=True)
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
            await emit(session, runtime, team.id, EventType.PRODUCT_CREATED, product_object)
    except IntegrityError as exc:
        raise _name_conflict(exc) or exc from None
    return body


def _name_conflict(exc: IntegrityError) -> ApiError | None:
    """A concurrent create or rename took the name between the check and the commit."""
    return ApiError(409, NAME_TAKEN) if "uq_products_team_id_name" in str(exc.orig) else None


async def get_product(
    runtime: Runtime, team_id: uuid.UUID, product_id: uuid.UUID
) -> dict[str, object]:
    """One Product object with its metadata."""
    async with runtime.database.read() as session:
        product = await repo.get(session, team_id, product_id)
        if product is None:
            raise ApiError(404, "Product not found")
        metadata = (await load_metadata(session, "product_id", [product.id]))[product.id]
    return envelope(product_with_metadata_json(product, metadata), "Product found", valid=True)


async def list_products(
    runtime: Runtime,
    team_id: uuid.UUID,
    search: str | None,
    sort_column: repo.SortColumn,
    page: PageRequest,
) -> dict[str, object]:
    """One page of the team's products, each with its metadata."""
    async with runtime.database.read() as session:
        rows, total = await repo.page(session, team_id, search, sort_column, page)
        rows, has_next = split_page(rows, page)
        metadata = await load_metadata(session, "product_id", [row.id for row in rows])
    return envelope(
        {
            "products": [product_with_metadata_json(row, metadata[row.id]) for row in rows],
            "hasNextPage": has_next,
            "totalResults": total,
        },
        "Products found",
        valid=True,
    )


async def update_product(
    runtime: Runtime, caller: Caller, product_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, object]:
    """Replace name, url and metadata; 404 for a product outside the team, 409 on a taken name."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            product = await repo.get(session, team.id, product_id, lock=True)
            if product is None:
                raise ApiError(404, "Product not found")
            if await repo.name_taken(session, team.id, data["name"], excluding=product.id):
                raise ApiError(409, NAME_TAKEN)
            product.name = data["name"]
            product.url = data["url"]
            product.updated_at = utcnow()
            await session.flush()
            await replace_metadata(session, team.id, "product_id", product.id, data["metadata"])
            metadata = (await load_metadata(session, "product_id", [product.id]))[product.id]
            product_object = product_with_metadata_json(product, metadata)
            body = envelope(product_object, "Product updated", valid=True)
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="UPDATE_PRODUCT",
                target_type="PRODUCT",
                target_id=product.id,
                request_body=data,
                response_body=body,
            )
            await emit(session, runtime, team.id, EventType.PRODUCT_UPDATED, product_object)
    except IntegrityError as exc:
        raise _name_conflict(exc) or exc from None
    return body


async def delete_product(
    runtime: Runtime, caller: Caller, product_id: uuid.UUID, *, cascade: bool
) -> dict[str, object]:
    """Delete a product with its branches, license links and metadata, in one transaction.

    Without `cascade` a product with releases is refused (409). With it, the releases go too:
    their files get PENDING_DELETE entries and leave the usage counter, and their objects are
    deleted after the commit. `data` is the product before deletion plus the ids of the
    releases and branches that went with it (one DELETE_PRODUCT audit row records them).
    """
    team = caller.team
    async with runtime.database.write() as session:
        product = await repo.get(session, team.id, product_id, lock=True)
        if product is None:
            raise ApiError(404, "Product not found")
        if not cascade and await repo.has_releases(session, team.id, product_id):
            raise ApiError(409, "Product has releases and cannot be deleted")
        metadata = (await load_metadata(session, "product_id", [product.id]))[product.id]
        before = product_with_metadata_json(product, metadata)
        # Payloads show what is about to go; no RELEASE_LATEST_CHANGED in a cascade (§2).
        deleted_releases = await release_payloads_of_product(session, team.id, product_id)
        deleted_branches = await branch_payloads_of_product(session, team.id, product_id)
        release_ids, files = await releases.delete_releases_of_product(session, team.id, product_id)
        session.add_all(
            StorageJournal(key=file.key, team_id=team.id, kind=JournalKind.PENDING_DELETE)
            for file in files
        )
        await storage_usage.apply_delta(session, team.id, -sum(file.size for file in files), 0)
        branch_ids = await repo.delete_product(session, team.id, product_id)
        body = envelope(
            {
                **before,
                "deletedReleaseIds": [str(value) for value in release_ids],
                "deletedBranchIds": [str(value) for value in branch_ids],
            },
            "Product deleted",
            valid=True,
        )
        await audit.record(
            session,
            team_id=team.id,
            actor=caller.actor,
            action="DELETE_PRODUCT",
            target_type="PRODUCT",
            target_id=product_id,
            request_body=None,
            response_body=body,
        )
        for payload in deleted_releases:
            await emit(session, runtime, team.id, EventType.RELEASE_DELETED, payload)
        for payload in deleted_branches:
            await emit(session, runtime, team.id, EventType.BRANCH_DELETED, payload)
        await emit(session, runtime, team.id, EventType.PRODUCT_DELETED, before)
    for file in files:
        await delete_unreferenced(runtime, file.key)
    return body
