"""Branch rules: names unique per product (case-sensitive), the per-product cap, and no
deletion while releases remain.

Writes lock the branch's product row first, as release create and update do, so a release
cannot be created on (or moved to) a branch that is being renamed or deleted (§1.7).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.branches import repository as repo
from releasegate.branches.models import Branch
from releasegate.branches.views import branch_json, branch_with_count_json
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.pagination import PageRequest, split_page
from releasegate.products import repository as products
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import emit

NAME_TAKEN = "A branch with this name already exists for this product"
HAS_RELEASES = "Branch has releases and cannot be deleted"


def _name_conflict(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return "uq_branches_product_id_name" in text or "branches.product_id" in text


def _release_reference(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return "fk_releases_branch_id_branches" in text or "FOREIGN KEY constraint failed" in text


async def _locked_branch(session: AsyncSession, team_id: uuid.UUID, branch_id: uuid.UUID) -> Branch:
    """The branch, read again after its product row is locked; 404 if either is gone."""
    branch = await repo.get(session, team_id, branch_id)
    if branch is None:
        raise ApiError(404, "Branch not found")
    await products.get(session, team_id, branch.product_id, lock=True)
    branch = await repo.get(session, team_id, branch_id, lock=True)
    if branch is None:
        raise ApiError(404, "Branch not found")
    return branch


async def _release_count(session: AsyncSession, branch: Branch) -> int:
    return (await repo.release_counts(session, branch.team_id, [branch.id]))[branch.id]


async def create_branch(
    runtime: Runtime, caller: Caller, data: dict[str, Any]
) -> dict[str, object]:
    """POST /branches: a new branch of a team product; returns the response envelope."""
    team = caller.team
    product_id = uuid.UUID(data["productId"])
    try:
        async with runtime.database.write() as session:
            product = await products.get(session, team.id, product_id, lock=True)
            if product is None:
                raise ApiError(404, "Product not found")
            limit = team.max_branches_per_product
            if limit and await repo.count_for_product(session, team.id, product_id) >= limit:
                raise ApiError(403, "Max branches per product reached")
            if await repo.name_taken(session, team.id, product_id, data["name"]):
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
            body = envelope(branch_with_count_json(branch, 0), "Branch created", valid=True)
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
            await emit(session, runtime, team.id, EventType.BRANCH_CREATED, branch_json(branch))
    except IntegrityError as exc:
        if _name_conflict(exc):
            raise ApiError(409, NAME_TAKEN) from None
        raise
    return body


async def get_branch(
    runtime: Runtime, team_id: uuid.UUID, branch_id: uuid.UUID
) -> dict[str, object]:
    """GET /branches/{branchId}: the branch with its release count."""
    async with runtime.database.read() as session:
        branch = await repo.get(session, team_id, branch_id)
        if branch is None:
            raise ApiError(404, "Branch not found")
        count = await _release_count(session, branch)
    return envelope(branch_with_count_json(branch, count), "Branch found", valid=True)


async def update_branch(
    runtime: Runtime, caller: Caller, branch_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, object]:
    """PUT /branches/{branchId}: rename. Keeping the current name is a no-op (no audit row)."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            branch = await _locked_branch(session, team.id, branch_id)
            previous_name = branch.name
            renamed = branch.name != data["name"]
            if renamed:
                if await repo.name_taken(
                    session, team.id, branch.product_id, data["name"], excluding=branch.id
                ):
                    raise ApiError(409, NAME_TAKEN)
                branch.name = data["name"]
                branch.updated_at = utcnow()
                await session.flush()
            count = await _release_count(session, branch)
            body = envelope(branch_with_count_json(branch, count), "Branch updated", valid=True)
            if renamed:
                await audit.record(
                    session,
                    team_id=team.id,
                    actor=caller.actor,
                    action="UPDATE_BRANCH",
                    target_type="BRANCH",
                    target_id=branch.id,
                    request_body=data,
                    response_body=body,
                )
                payload = {**branch_json(branch), "previousName": previous_name}
                await emit(session, runtime, team.id, EventType.BRANCH_UPDATED, payload)
    except IntegrityError as exc:
        if _name_conflict(exc):
            raise ApiError(409, NAME_TAKEN) from None
        raise
    return body


async def delete_branch(
    runtime: Runtime, caller: Caller, branch_id: uuid.UUID
) -> dict[str, object]:
    """DELETE /branches/{branchId}: only an empty branch; `data` is the branch before deletion."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            branch = await _locked_branch(session, team.id, branch_id)
            if await _release_count(session, branch):
                raise ApiError(409, HAS_RELEASES)
            body = envelope(branch_with_count_json(branch, 0), "Branch deleted", valid=True)
            payload = branch_json(branch)
            await repo.delete_branch(session, team.id, branch.id)
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="DELETE_BRANCH",
                target_type="BRANCH",
                target_id=branch.id,
                request_body=None,
                response_body=body,
            )
            await emit(session, runtime, team.id, EventType.BRANCH_DELETED, payload)
    except IntegrityError as exc:
        if _release_reference(exc):
            raise ApiError(409, HAS_RELEASES) from None
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
    """GET /branches?productId=: one page of a product's branches with release counts."""
    async with runtime.database.read() as session:
        if await products.get(session, team_id, product_id) is None:
            raise ApiError(404, "Product not found")
        rows, total = await repo.page(session, team_id, product_id, search, sort_column, page)
        rows, has_next = split_page(rows, page)
        counts = await repo.release_counts(session, team_id, [row.id for row in rows])
    branches = [branch_with_count_json(row, counts[row.id]) for row in rows]
    return envelope(
        {"branches": branches, "hasNextPage": has_next, "totalResults": total},
        "Branches found",
        valid=True,
    )
