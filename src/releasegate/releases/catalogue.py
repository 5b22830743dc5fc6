"""Release catalogue: list, get one, delete, set latest, the raw file (dev-api-releases.md
§4–§8), and the releases' part of a product deletion.

Writes lock the product row, then the release row: the order every release write uses, so a
delete or set-latest serialises with creates and updates of the same product (§1.7).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.auth.guard import Caller
from releasegate.branches import repository as branches
from releasegate.branches.errors import BranchNotFound
from releasegate.changes import Change, Event, record_change
from releasegate.files import service as files
from releasegate.files.models import ReleaseFile
from releasegate.files.reading import FileDownload, open_download
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import Reply
from releasegate.kit.pagination import Page, PageRequest
from releasegate.metadata import repository as metadata
from releasegate.products import repository as products
from releasegate.products.errors import ProductNotFound
from releasegate.releases import repository as repo
from releasegate.releases.errors import (
    ConcurrentUpdate,
    NotPublishedCannotBeLatest,
    ReleaseHasNoFile,
    ReleaseNotFound,
    RestrictedReleaseCannotBeLatest,
)
from releasegate.releases.events import LatestWatch, release_event_payload
from releasegate.releases.models import Release, ReleaseStatus
from releasegate.releases.service import conflict_from
from releasegate.releases.views import ReleaseView, load_view, load_views
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import has_subscribers

T = TypeVar("T")
_LOCK_ATTEMPTS = 3


async def list_releases(
    runtime: Runtime,
    team_id: uuid.UUID,
    where: repo.ReleaseFilter,
    sort_column: repo.SortColumn,
    request: PageRequest,
) -> Page[ReleaseView]:
    """Rows 8–9 of §4 (the product, then a named branch), then one page of releases."""
    async with runtime.database.read() as session:
        if await products.get(session, team_id, where.product_id) is None:
            raise ProductNotFound()
        if isinstance(where.branch, uuid.UUID) and (
            await branches.get_of_product(session, team_id, where.product_id, where.branch) is None
        ):
            raise BranchNotFound()
        page = await repo.page(session, team_id, where, sort_column, request)
        views = await load_views(session, team_id, page.rows)
    return Page(views, page.has_next, page.total)


async def get_release(runtime: Runtime, team_id: uuid.UUID, release_id: uuid.UUID) -> ReleaseView:
    """One release (§5)."""
    async with runtime.database.read() as session:
        view = await load_view(session, team_id, release_id)
    if view is None:
        raise ReleaseNotFound()
    return view


async def open_release_file(
    runtime: Runtime,
    team_id: uuid.UUID,
    release_id: uuid.UUID,
    range_header: str | None,
    if_range: str | None,
) -> FileDownload:
    """Rows 7–10 of §8 in order: the release under the team, its file, then the bytes."""
    async with runtime.database.read() as session:
        release = await repo.get(session, team_id, release_id)
        if release is None:
            raise ReleaseNotFound()
        file = await files.file_of_release(session, release.id)
    if file is None:
        raise ReleaseHasNoFile()
    return await open_download(runtime, file, range_header, if_range)


class _ReleaseMoved(Exception):
    """The release changed product between reading it and locking its product."""


async def _lock_release(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID
) -> Release:
    """The release row, locked after its product's row; 404 if it is (by then) gone."""
    release = await repo.get(session, team_id, release_id)
    if release is None:
        raise ReleaseNotFound()
    product_id = release.product_id
    await products.lock_in_order(session, team_id, [product_id])
    release = await repo.get(session, team_id, release_id, lock=True)
    if release is None:
        raise ReleaseNotFound()
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
    raise ConcurrentUpdate()


async def _remove(session: AsyncSession, team_id: uuid.UUID, releases: list[Release]) -> list[str]:
    """Releases with their files, metadata and allow-lists; the file keys to purge."""
    ids = [release.id for release in releases]
    stored = await files.files_of_releases(session, ids)
    keys = await files.detach(session, team_id, sorted(stored.values(), key=_by_id))
    await metadata.delete_of(session, "release_id", ids)
    await repo.delete_releases(session, team_id, ids)
    return keys


def _by_id(file: ReleaseFile) -> uuid.UUID:
    return file.id


async def delete_release(
    runtime: Runtime, caller: Caller, release_id: uuid.UUID
) -> Reply[ReleaseView]:
    """Delete a release with its metadata, links and file (§6); the object goes after commit.
    The answer is the release as it was before deletion."""
    team = caller.team

    async def commit(session: AsyncSession) -> tuple[Reply[ReleaseView], list[str]]:
        release = await _lock_release(session, team.id, release_id)
        watch = await LatestWatch.start(
            session, runtime, team.id, [(release.product_id, release.branch_id)]
        )
        view = await load_view(session, team.id, release_id)
        assert view is not None
        data = view.to_json()
        reply = Reply(view, data, "Release deleted")
        keys = await _remove(session, team.id, [release])
        await record_change(
            session,
            runtime,
            Change(
                team.id,
                caller.actor,
                "DELETE_RELEASE",
                "RELEASE",
                release_id,
                response=reply.envelope(),
                events=[Event(EventType.RELEASE_DELETED, release_event_payload(data))],
            ),
        )
        await watch.emit_changes()
        return reply, keys

    reply, keys = await _with_locked_release(runtime, commit)
    await files.purge_after_commit(runtime, keys)
    return reply


async def set_latest(runtime: Runtime, caller: Caller, release_id: uuid.UUID) -> Reply[ReleaseView]:
    """Make a release the latest of its (product, branch) (§7); a no-op if it already is."""
    team = caller.team

    async def commit(session: AsyncSession) -> Reply[ReleaseView]:
        release = await _lock_release(session, team.id, release_id)
        if release.status != ReleaseStatus.PUBLISHED:
            raise NotPublishedCannotBeLatest()
        if await repo.has_allowed_licenses(session, release.id):
            raise RestrictedReleaseCannotBeLatest()
        changed = not release.latest
        watch = await LatestWatch.start(
            session, runtime, team.id, [(release.product_id, release.branch_id)] if changed else []
        )
        if changed:
            await repo.demote_latest(session, release.product_id, release.branch_id)
            release.latest = True
            release.updated_at = utcnow()
            await session.flush()
        view = await load_view(session, team.id, release.id)
        assert view is not None
        reply = Reply(view, view.to_json(), "Release set as latest")
        if changed:
            await record_change(
                session,
                runtime,
                Change(
                    team.id,
                    caller.actor,
                    "SET_LATEST_RELEASE",
                    "RELEASE",
                    release.id,
                    response=reply.envelope(),
                ),
            )
            await watch.emit_changes()
        return reply

    return await _with_locked_release(runtime, commit)


async def product_has_releases(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> bool:
    return await repo.any_of_product(session, team_id, product_id)


@dataclass(frozen=True)
class RemovedReleases:
    """What a product deletion took: release ids (ascending), RELEASE_DELETED payloads (empty
    when no webhook listens) and the file keys to purge after the commit."""

    ids: list[uuid.UUID]
    payloads: list[dict[str, object]]
    keys: list[str]


async def remove_releases_of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> RemovedReleases:
    """In the product deletion's transaction: every release of the product, with its file."""
    releases = await repo.of_product(session, team_id, product_id)
    payloads: list[dict[str, object]] = []
    if releases and await has_subscribers(session, team_id, EventType.RELEASE_DELETED):
        payloads = [view.payload() for view in await load_views(session, team_id, releases)]
    keys = await _remove(session, team_id, releases)
    return RemovedReleases([release.id for release in releases], payloads, keys)
