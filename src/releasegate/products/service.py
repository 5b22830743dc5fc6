"""Product rules: names unique per team (ASCII case-insensitive), the team's product cap, and
deletion refused while releases exist unless cascading (dev-api-releases.md §10)."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.auth.guard import Caller
from releasegate.branches import service as branches
from releasegate.changes import Change, Event, record_change
from releasegate.db.constraints import is_violation
from releasegate.files import service as files
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import Reply
from releasegate.kit.pagination import Page, PageRequest
from releasegate.licenses import repository as licenses
from releasegate.metadata import repository as metadata
from releasegate.products import repository as repo
from releasegate.products.errors import (
    MaxProductsReached,
    ProductHasReleases,
    ProductNameTaken,
    ProductNotFound,
)
from releasegate.products.models import Product
from releasegate.products.schemas import ProductDraft
from releasegate.products.views import ProductView
from releasegate.releases import catalogue as releases
from releasegate.runtime import Runtime
from releasegate.teams import repository as teams
from releasegate.webhooks.models import EventType


def _name_conflict(exc: IntegrityError) -> ProductNameTaken | None:
    """A concurrent create or rename took the name between the check and the commit."""
    return ProductNameTaken() if is_violation(exc, "uq_products_team_id_name") else None


async def _view(session: AsyncSession, product: Product) -> ProductView:
    rows = await metadata.load(session, "product_id", [product.id])
    return ProductView(product, rows[product.id])


async def create_product(
    runtime: Runtime, caller: Caller, draft: ProductDraft
) -> Reply[ProductView]:
    """Create a product with its metadata; 403 at the team cap, 409 on a taken name."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            cap = await teams.lock_team(session, team.id)
            if cap and cap.max_products and await repo.count(session, team.id) >= cap.max_products:
                raise MaxProductsReached()
            if await repo.name_taken(session, team.id, draft.name):
                raise ProductNameTaken()
            now = utcnow()
            product = Product(
                id=uuid.uuid4(),
                team_id=team.id,
                name=draft.name,
                url=draft.url,
                created_at=now,
                updated_at=now,
            )
            session.add(product)
            await session.flush()
            await metadata.replace(session, team.id, "product_id", product.id, draft.metadata)
            view = await _view(session, product)
            reply = Reply(view, view.to_json(), "Product created")
            await record_change(
                session,
                runtime,
                Change(
                    team.id,
                    caller.actor,
                    "CREATE_PRODUCT",
                    "PRODUCT",
                    product.id,
                    request=draft.request,
                    response=reply.envelope(),
                    events=[Event(EventType.PRODUCT_CREATED, view.to_json())],
                ),
            )
    except IntegrityError as exc:
        raise _name_conflict(exc) or exc from None
    return reply


async def get_product(runtime: Runtime, team_id: uuid.UUID, product_id: uuid.UUID) -> ProductView:
    """One product with its metadata."""
    async with runtime.database.read() as session:
        product = await repo.get(session, team_id, product_id)
        if product is None:
            raise ProductNotFound()
        return await _view(session, product)


async def list_products(
    runtime: Runtime,
    team_id: uuid.UUID,
    search: str | None,
    sort_column: repo.SortColumn,
    request: PageRequest,
) -> Page[ProductView]:
    """One page of the team's products, each with its metadata."""
    async with runtime.database.read() as session:
        page = await repo.page(session, team_id, search, sort_column, request)
        rows = await metadata.load(session, "product_id", [row.id for row in page.rows])
    views = [ProductView(row, rows[row.id]) for row in page.rows]
    return Page(views, page.has_next, page.total)


async def update_product(
    runtime: Runtime, caller: Caller, product_id: uuid.UUID, draft: ProductDraft
) -> Reply[ProductView]:
    """Replace name, url and metadata; 404 for a product outside the team, 409 on a taken name."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            product = await repo.get(session, team.id, product_id, lock=True)
            if product is None:
                raise ProductNotFound()
            if await repo.name_taken(session, team.id, draft.name, excluding=product.id):
                raise ProductNameTaken()
            product.name = draft.name
            product.url = draft.url
            product.updated_at = utcnow()
            await session.flush()
            await metadata.replace(session, team.id, "product_id", product.id, draft.metadata)
            view = await _view(session, product)
            reply = Reply(view, view.to_json(), "Product updated")
            await record_change(
                session,
                runtime,
                Change(
                    team.id,
                    caller.actor,
                    "UPDATE_PRODUCT",
                    "PRODUCT",
                    product.id,
                    request=draft.request,
                    response=reply.envelope(),
                    events=[Event(EventType.PRODUCT_UPDATED, view.to_json())],
                ),
            )
    except IntegrityError as exc:
        raise _name_conflict(exc) or exc from None
    return reply


async def delete_product(
    runtime: Runtime, caller: Caller, product_id: uuid.UUID, *, cascade: bool
) -> Reply[ProductView]:
    """Delete a product with its branches, license links and metadata, in one transaction.

    Without `cascade` a product with releases is refused (409). With it, the releases go too,
    and their stored files after the commit. The answer is the product before deletion plus
    the ids of the releases and branches that went with it (one DELETE_PRODUCT audit row).
    """
    team = caller.team
    async with runtime.database.write() as session:
        product = await repo.get(session, team.id, product_id, lock=True)
        if product is None:
            raise ProductNotFound()
        if not cascade and await releases.product_has_releases(session, team.id, product_id):
            raise ProductHasReleases()
        view = await _view(session, product)
        # RELEASE_DELETED before BRANCH_DELETED; no RELEASE_LATEST_CHANGED in a cascade (§2).
        removed_releases = await releases.remove_releases_of_product(session, team.id, product_id)
        removed_branches = await branches.remove_branches_of_product(session, team.id, product_id)
        await licenses.unlink_product(session, product_id)
        await metadata.delete_of(session, "product_id", [product_id])
        await repo.delete_product(session, team.id, product_id)
        before = view.to_json()
        reply = Reply(
            view,
            {
                **before,
                "deletedReleaseIds": [str(value) for value in removed_releases.ids],
                "deletedBranchIds": [str(value) for value in removed_branches.ids],
            },
            "Product deleted",
        )
        await record_change(
            session,
            runtime,
            Change(
                team.id,
                caller.actor,
                "DELETE_PRODUCT",
                "PRODUCT",
                product_id,
                response=reply.envelope(),
                events=[
                    *(Event(EventType.RELEASE_DELETED, p) for p in removed_releases.payloads),
                    *(Event(EventType.BRANCH_DELETED, p) for p in removed_branches.payloads),
                    Event(EventType.PRODUCT_DELETED, before),
                ],
            ),
        )
    await files.purge_after_commit(runtime, removed_releases.keys)
    return reply
