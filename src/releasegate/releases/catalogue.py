"""Release catalogue: list, get one, delete, set latest (dev-api-releases.md §4–§7).

Writes lock the product row, then the release row: the order every release write uses, so a
delete or set-latest serialises with creates and updates of the same product (§1.7).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.pagination import PageRequest, split_page
from releasegate.releases import repository as repo
from releasegate.releases.events import LatestWatch, emit_release_event
from releasegate.releases.models import Release, ReleaseStatus
from releasegate.releases.service import conflict_from, delete_unreferenced
from releasegate.releases.views import load_release_view, load_release_views
from releasegate.runtime import Runtime
from releasegate.storage.journal import JournalKind, StorageJournal
from releasegate.teams import storage_usage
from releasegate.webhooks.models import EventType

T = TypeVar("T")
RELEASE_NOT_FOUND = "Release not found"
_LOCK_ATTEMPTS = 3


async def list_releases(
    runtime: Runtime,
    team_id: uuid.UUID,
    where: repo.ReleaseFilter,
    sort_column: repo.SortColumn,
    page: PageRequest,
) -> dict[str, object]:
    """Rows 8–9 of §4 (the product, then a named branch), then one page of Release objects."""
    async with runtime.database.read() as session:
        if await repo.get_product(session, team_id, where.product_id) is None:
            raise ApiError(404, "Product not found")
        if isinstance(where.branch, uuid.UUID) and (
            await repo.branch_of_product(session, team_id, where.product_id, where.branch) is None
        ):
            raise ApiError(404, "Branch not found")
        rows, total = await repo.page_releases(session, team_id, where, sort_column, page)
        rows, has_next = split_page(rows, page)
        views = await load_release_views(session, team_id, rows)
    return envelope(
        {
            "releases": [view.to_json() for view in views],
            "hasNextPage": has_next,
            "totalResults": total,
        },
        "Releases found",
        valid=True,
    )


async def get_release(
    runtime: Runtime, team_id: uuid.UUID, release_id: uuid.UUID
) -> dict[str, object]:
    """One Release object (§5)."""
    async with runtime.database.read() as session:
        view = await load_release_view(session, team_id, release_id)
    if view is None:
        raise ApiError(404, RELEASE_NOT_FOUND)
    return envelope(view.to_json(), "Release found", valid=True)


class _ReleaseMoved(Exception):
    """The release changed product between reading it and locking its product."""


async def _lock_release(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID
) -> Release:
    """The release row, locked after its product's row; 404 if it is (by then) gone."""
    release = await repo.get_release(session, team_id, release_id)
    if release is None:
        raise ApiError(404, RELEASE_NOT_FOUND)
    product_id = release.product_id
    await repo.lock_products(session, team_id, [product_id])
    release = await repo.get_release(session, team_id, release_id, lock=True)
    if release is None:
        raise ApiError(404, RELEASE_NOT_FOUND)
    if release.product_id != product_id:
        raise _ReleaseMoved
    return release


async def _with_locked_release(runtime: Runtime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in a write transaction; retried when a concurrent move beat the lock.

    Retrying (instead of locking the new product too) keeps product locks in one order.
    """
    for _ in range(_LOCK_ATTEMPTS):
        try:
            async with runtime.database.write() as session:
                return await work(session)
        except _ReleaseMoved:
            continue
        except IntegrityError as exc:
            raise conflict_from(exc) or exc from None
    raise ApiError(409, "Conflicting concurrent update, please retry")


async def delete_release(
    runtime: Runtime, caller: Caller, release_id: uuid.UUID
) -> dict[str, object]:
    """Delete a release with its metadata, links and file (§6); the object goes after commit."""
    team = caller.team

    async def commit(session: AsyncSession) -> tuple[dict[str, object], str | None]:
        release = await _lock_release(session, team.id, release_id)
        watch = await LatestWatch.start(
            session, runtime, team.id, [(release.product_id, release.branch_id)]
        )
        view = await load_release_view(session, team.id, release_id)
        assert view is not None
        body = envelope(view.to_json(), "Release deleted", valid=True)
        await repo.delete_release(session, team.id, release_id)
        removed_key = None
        if view.file is not None:
            removed_key = view.file.key
            session.add(
                StorageJournal(key=removed_key, team_id=team.id, kind=JournalKind.PENDING_DELETE)
            )
            await storage_usage.apply_delta(session, team.id, -view.file.size, 0)
        await audit.record(
            session,
            team_id=team.id,
            actor=caller.actor,
            action="DELETE_RELEASE",
            target_type="RELEASE",
            target_id=release_id,
            request_body=None,
            response_body=body,
        )
        await emit_release_event(session, runtime, team.id, EventType.RELEASE_DELETED, body)
        await watch.emit_changes()
        return body, removed_key

    body, removed_key = await _with_locked_release(runtime, commit)
    if removed_key is not None:
        await delete_unreferenced(runtime, removed_key)
    return body


async def set_latest(runtime: Runtime, caller: Caller, release_id: uuid.UUID) -> dict[str, object]:
    """Make a release the latest of its (product, branch) (§7); a no-op if it already is."""
    team = caller.team

    async def commit(session: AsyncSession) -> dict[str, object]:
        release = await _lock_release(session, team.id, release_id)
        if release.status != ReleaseStatus.PUBLISHED:
            raise ApiError(400, "Cannot set as latest release when status is not PUBLISHED")
        if await repo.has_allowed_licenses(session, release.id):
            raise ApiError(400, "Cannot set as latest release when it has license restrictions")
        changed = not release.latest
        watch = await LatestWatch.start(
            session, runtime, team.id, [(release.product_id, release.branch_id)] if changed else []
        )
        if changed:
            await repo.demote_latest(session, release.product_id, release.branch_id)
            release.latest = True
            release.updated_at = utcnow()
            await session.flush()
        view = await load_release_view(session, team.id, release.id)
        assert view is not None
        body = envelope(view.to_json(), "Release set as latest", valid=True)
        if changed:
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="SET_LATEST_RELEASE",
                target_type="RELEASE",
                target_id=release.id,
                request_body=None,
                response_body=body,
            )
            await watch.emit_changes()
        return body

    return await _with_locked_release(runtime, commit)
