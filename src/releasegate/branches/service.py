"""Branch rules: names unique per product (case-sensitive), the per-product cap, and no
deletion while releases remain (dev-api-releases.md §9).

Writes lock the branch's product row first, as release create and update do, so a release
cannot be created on (or moved to) a branch that is being renamed or deleted (§1.7).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.auth.guard import Caller
from releasegate.branches import repository as repo
from releasegate.branches.errors import (
    BranchHasReleases,
    BranchNameTaken,
    BranchNotFound,
    MaxBranchesReached,
)
from releasegate.branches.models import Branch
from releasegate.branches.schemas import BranchRename, NewBranch
from releasegate.branches.views import BranchView, branch_json
from releasegate.changes import Change, Event, record_change
from releasegate.db.constraints import is_violation
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import Reply
from releasegate.kit.pagination import Page, PageRequest
from releasegate.products import repository as products
from releasegate.products.errors import ProductNotFound
from releasegate.releases import repository as releases
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import has_subscribers


def _name_conflict(exc: IntegrityError) -> BranchNameTaken | None:
    return BranchNameTaken() if is_violation(exc, "uq_branches_product_id_name") else None


async def _locked_branch(session: AsyncSession, team_id: uuid.UUID, branch_id: uuid.UUID) -> Branch:
    """The branch, read again after its product row is locked; 404 if either is gone."""
    branch = await repo.get(session, team_id, branch_id)
    if branch is None:
        raise BranchNotFound()
    await products.get(session, team_id, branch.product_id, lock=True)
    branch = await repo.get(session, team_id, branch_id, lock=True)
    if branch is None:
        raise BranchNotFound()
    return branch


async def _view(session: AsyncSession, branch: Branch) -> BranchView:
    counts = await releases.count_by_branch(session, branch.team_id, [branch.id])
    return BranchView(branch, counts[branch.id])


async def create_branch(runtime: Runtime, caller: Caller, new: NewBranch) -> Reply[BranchView]:
    """A new branch of a team product."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            if await products.get(session, team.id, new.product_id, lock=True) is None:
                raise ProductNotFound()
            limit = team.max_branches_per_product
            if limit and await repo.count_for_product(session, team.id, new.product_id) >= limit:
                raise MaxBranchesReached()
            if await repo.name_taken(session, team.id, new.product_id, new.name):
                raise BranchNameTaken()
            now = utcnow()
            branch = Branch(
                id=uuid.uuid4(),
                team_id=team.id,
                product_id=new.product_id,
                name=new.name,
                created_at=now,
                updated_at=now,
            )
            session.add(branch)
            await session.flush()
            view = BranchView(branch, 0)
            reply = Reply(view, view.to_json(), "Branch created")
            await record_change(
                session,
                runtime,
                Change(
                    team.id,
                    caller.actor,
                    "CREATE_BRANCH",
                    "BRANCH",
                    branch.id,
                    request=new.request,
                    response=reply.envelope(),
                    events=[Event(EventType.BRANCH_CREATED, branch_json(branch))],
                ),
            )
    except IntegrityError as exc:
        raise _name_conflict(exc) or exc from None
    return reply


async def get_branch(runtime: Runtime, team_id: uuid.UUID, branch_id: uuid.UUID) -> BranchView:
    """The branch with its release count."""
    async with runtime.database.read() as session:
        branch = await repo.get(session, team_id, branch_id)
        if branch is None:
            raise BranchNotFound()
        return await _view(session, branch)


async def update_branch(
    runtime: Runtime, caller: Caller, branch_id: uuid.UUID, rename: BranchRename
) -> Reply[BranchView]:
    """Rename. Keeping the current name is a no-op (no audit row, no event)."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            branch = await _locked_branch(session, team.id, branch_id)
            previous_name = branch.name
            renamed = branch.name != rename.name
            if renamed:
                if await repo.name_taken(
                    session, team.id, branch.product_id, rename.name, excluding=branch.id
                ):
                    raise BranchNameTaken()
                branch.name = rename.name
                branch.updated_at = utcnow()
                await session.flush()
            view = await _view(session, branch)
            reply = Reply(view, view.to_json(), "Branch updated")
            if renamed:
                payload = {**branch_json(branch), "previousName": previous_name}
                await record_change(
                    session,
                    runtime,
                    Change(
                        team.id,
                        caller.actor,
                        "UPDATE_BRANCH",
                        "BRANCH",
                        branch.id,
                        request=rename.request,
                        response=reply.envelope(),
                        events=[Event(EventType.BRANCH_UPDATED, payload)],
                    ),
                )
    except IntegrityError as exc:
        raise _name_conflict(exc) or exc from None
    return reply


async def delete_branch(
    runtime: Runtime, caller: Caller, branch_id: uuid.UUID
) -> Reply[BranchView]:
    """Only an empty branch; the answer is the branch before deletion."""
    team = caller.team
    try:
        async with runtime.database.write() as session:
            branch = await _locked_branch(session, team.id, branch_id)
            view = await _view(session, branch)
            if view.release_count:
                raise BranchHasReleases()
            reply = Reply(view, view.to_json(), "Branch deleted")
            payload = branch_json(branch)
            await repo.delete_branches(session, team.id, [branch.id])
            await record_change(
                session,
                runtime,
                Change(
                    team.id,
                    caller.actor,
                    "DELETE_BRANCH",
                    "BRANCH",
                    branch.id,
                    response=reply.envelope(),
                    events=[Event(EventType.BRANCH_DELETED, payload)],
                ),
            )
    except IntegrityError as exc:
        if is_violation(exc, "fk_releases_branch_id_branches"):
            raise BranchHasReleases() from None
        raise
    return reply


async def list_branches(
    runtime: Runtime,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    search: str | None,
    sort_column: str,
    request: PageRequest,
) -> Page[BranchView]:
    """One page of a product's branches with their release counts."""
    async with runtime.database.read() as session:
        if await products.get(session, team_id, product_id) is None:
            raise ProductNotFound()
        page = await repo.page(session, team_id, product_id, search, sort_column, request)
        counts = await releases.count_by_branch(session, team_id, [row.id for row in page.rows])
    views = [BranchView(row, counts[row.id]) for row in page.rows]
    return Page(views, page.has_next, page.total)


@dataclass(frozen=True)
class RemovedBranches:
    """What a product deletion took: branch ids (ascending) and BRANCH_DELETED payloads
    (empty when no webhook listens)."""

    ids: list[uuid.UUID]
    payloads: list[dict[str, object]]


async def remove_branches_of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> RemovedBranches:
    """In the product deletion's transaction: every branch of the product (its releases are
    gone already)."""
    rows = await repo.of_product(session, team_id, product_id)
    payloads = (
        [branch_json(row) for row in rows]
        if await has_subscribers(session, team_id, EventType.BRANCH_DELETED)
        else []
    )
    ids = sorted(row.id for row in rows)
    await repo.delete_branches(session, team_id, ids)
    return RemovedBranches(ids, payloads)
