"""Release business rules: Create Release and Update Release (dev-api-releases.md §2–§3).

Write order (files-and-storage.md §8): the file is already staged by the intake; every check
runs, then one transaction re-checks under the product lock and commits; only after the commit
is a replaced object deleted. Any failure discards the staged object and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.auth.guard import Caller
from releasegate.branches import repository as branches
from releasegate.branches.errors import BranchNotFound
from releasegate.changes import Change, Event, record_change
from releasegate.db.constraints import violated_constraints
from releasegate.files import service as files
from releasegate.files.inspection import FileFacts, inspect
from releasegate.files.intake import StagedFile
from releasegate.files.models import ReleaseFile
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import Reply
from releasegate.kit.errors import Refusal
from releasegate.kit.sizes import MIB
from releasegate.metadata import repository as metadata
from releasegate.products import repository as products
from releasegate.products.errors import ProductNotFound
from releasegate.releases import repository as repo
from releasegate.releases.errors import (
    ConcurrentUpdate,
    LicensesNotFound,
    MaxReleasesReached,
    ReleaseNotFound,
    RestrictedCannotBeLatest,
    VersionTaken,
)
from releasegate.releases.events import LatestWatch, release_event_payload
from releasegate.releases.models import Release, ReleaseStatus
from releasegate.releases.schemas import ReleaseDraft
from releasegate.releases.version_order import version_sort_key
from releasegate.releases.views import ReleaseView, load_view
from releasegate.runtime import Runtime
from releasegate.teams.models import Team
from releasegate.webhooks.models import EventType


def quota_bytes(team: Team) -> int:
    return team.max_storage_mb * MIB


def conflict_from(exc: IntegrityError) -> Refusal | None:
    """Map a unique-index violation at commit to its row (§1.7); None for anything else."""
    violated = violated_constraints(exc)
    if "uq_releases_version" in violated:
        return VersionTaken()
    if "uq_releases_latest" in violated:
        return ConcurrentUpdate()
    return None


def _audit_request(
    draft: ReleaseDraft, staged: StagedFile | None, facts: FileFacts | None
) -> dict[str, object]:
    """The `data` object, and the stored file's name, size and digest
    (webhooks-and-audit.md §6.3)."""
    body: dict[str, object] = dict(draft.request)
    if staged is not None and facts is not None:
        body["file"] = {"name": facts.name, "size": staged.size, "sha256": staged.sha256}
    return body


async def _answer(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID, details: str
) -> Reply[ReleaseView]:
    view = await load_view(session, team_id, release_id)
    assert view is not None
    return Reply(view, view.to_json(), details)


async def _record(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    action: str,
    event: EventType,
    reply: Reply[ReleaseView],
    request: object,
) -> None:
    assert isinstance(reply.data, dict)
    await record_change(
        session,
        runtime,
        Change(
            caller.team.id,
            caller.actor,
            action,
            "RELEASE",
            reply.value.release.id,
            request=request,
            response=reply.envelope(),
            events=[Event(event, release_event_payload(reply.data))],
        ),
    )


async def _check_licenses(
    session: AsyncSession, team: Team, license_ids: tuple[uuid.UUID, ...], *, lock: bool
) -> None:
    if license_ids and await repo.count_team_licenses(
        session, team.id, license_ids, lock=lock
    ) != len(license_ids):
        raise LicensesNotFound()


async def _check_branch(session: AsyncSession, team: Team, draft: ReleaseDraft) -> None:
    if draft.branch_id is not None and (
        await branches.get_of_product(session, team.id, draft.product_id, draft.branch_id) is None
    ):
        raise BranchNotFound()


# --- Create ----------------------------------------------------------------------------------


async def _check_create(
    session: AsyncSession,
    team: Team,
    draft: ReleaseDraft,
    staged: StagedFile | None,
    *,
    lock: bool = False,
) -> None:
    """Rows 19–26, in order. Run once up front and again under the product lock."""
    if await products.get(session, team.id, draft.product_id) is None:
        raise ProductNotFound()
    limit = team.max_releases_per_product
    if limit and await repo.count_of_product(session, draft.product_id) >= limit:
        raise MaxReleasesReached()
    await _check_licenses(session, team, draft.license_ids, lock=lock)
    if draft.license_ids and draft.set_as_latest:
        raise RestrictedCannotBeLatest()
    await _check_branch(session, team, draft)
    if await repo.version_taken(session, team.id, draft.product_id, draft.branch_id, draft.version):
        raise VersionTaken()
    if staged is not None:
        await files.check_quota(session, team.id, quota_bytes(team), staged.size)


async def create_release(
    runtime: Runtime,
    caller: Caller,
    release_id: uuid.UUID,
    draft: ReleaseDraft,
    staged: StagedFile | None,
) -> Reply[ReleaseView]:
    """A new release with its metadata, allow-list and (staged) file."""
    team = caller.team
    try:
        files.check_declared(draft.sha256, staged, uploads_allowed=team.allow_file_uploads)
        async with runtime.database.read() as session:
            await _check_create(session, team, draft, staged)
        facts = None
        if staged is not None:
            facts = await inspect(runtime, staged, allow_plain_jars=team.allow_plain_jars)
        try:
            async with runtime.database.write() as session:
                return await _commit_create(
                    session, runtime, caller, release_id, draft, staged, facts
                )
        except IntegrityError as exc:
            raise conflict_from(exc) or exc from None
    except BaseException:
        if staged is not None:
            await files.discard(runtime, staged)
        raise


async def _commit_create(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    release_id: uuid.UUID,
    draft: ReleaseDraft,
    staged: StagedFile | None,
    facts: FileFacts | None,
) -> Reply[ReleaseView]:
    team = caller.team
    await products.lock_in_order(session, team.id, [draft.product_id])
    await _check_create(session, team, draft, staged, lock=True)

    becomes_latest = draft.set_as_latest and draft.status == ReleaseStatus.PUBLISHED
    pair = (draft.product_id, draft.branch_id)
    watch = await LatestWatch.start(session, runtime, team.id, [pair] if becomes_latest else [])
    if becomes_latest:
        await repo.demote_latest(session, draft.product_id, draft.branch_id)
    now = utcnow()
    session.add(
        Release(
            id=release_id,
            team_id=team.id,
            product_id=draft.product_id,
            branch_id=draft.branch_id,
            version=draft.version,
            version_sort_key=version_sort_key(draft.version),
            status=draft.status,
            latest=becomes_latest,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    await metadata.replace(session, team.id, "release_id", release_id, draft.metadata)
    await repo.replace_allowed_licenses(session, release_id, draft.license_ids)
    if staged is not None and facts is not None:
        await files.attach(session, team.id, quota_bytes(team), release_id, staged, facts)

    reply = await _answer(session, team.id, release_id, "Release created")
    request = _audit_request(draft, staged, facts)
    await _record(
        session, runtime, caller, "CREATE_RELEASE", EventType.RELEASE_CREATED, reply, request
    )
    await watch.emit_changes()
    return reply


# --- Update ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _UpdatePlan:
    release: Release
    becomes_latest: bool
    old_file: ReleaseFile | None


async def _check_update(
    session: AsyncSession,
    team: Team,
    release_id: uuid.UUID,
    draft: ReleaseDraft,
    staged: StagedFile | None,
    *,
    lock: bool = False,
) -> _UpdatePlan:
    """Rows 20–28, in order. Run once up front and again under the locks."""
    if await products.get(session, team.id, draft.product_id) is None:
        raise ProductNotFound()
    release = await repo.get(session, team.id, release_id, lock=lock)
    if release is None:
        raise ReleaseNotFound()
    moved = release.product_id != draft.product_id or release.branch_id != draft.branch_id
    limit = team.max_releases_per_product
    if (
        limit
        and release.product_id != draft.product_id
        and await repo.count_of_product(session, draft.product_id) >= limit
    ):
        raise MaxReleasesReached()
    if await repo.version_taken(
        session, team.id, draft.product_id, draft.branch_id, draft.version, excluding=release.id
    ):
        raise VersionTaken()
    await _check_branch(session, team, draft)
    await _check_licenses(session, team, draft.license_ids, lock=lock)
    published = draft.status == ReleaseStatus.PUBLISHED
    stays_latest = release.latest and published and not moved
    if draft.license_ids and (draft.set_as_latest or stays_latest):
        raise RestrictedCannotBeLatest()
    becomes_latest = (draft.set_as_latest and published) or stays_latest
    old_file = await files.file_of_release(session, release.id)
    if staged is not None:
        freeing = 0 if old_file is None else old_file.size
        await files.check_quota(session, team.id, quota_bytes(team), staged.size, freeing)
    return _UpdatePlan(release, becomes_latest, old_file)


async def update_release(
    runtime: Runtime,
    caller: Caller,
    release_id: uuid.UUID,
    draft: ReleaseDraft,
    staged: StagedFile | None,
) -> Reply[ReleaseView]:
    """A failure leaves release, file and bytes untouched."""
    team = caller.team
    try:
        files.check_declared(draft.sha256, staged, uploads_allowed=team.allow_file_uploads)
        async with runtime.database.read() as session:
            await _check_update(session, team, release_id, draft, staged)
        facts = None
        if staged is not None:
            facts = await inspect(runtime, staged, allow_plain_jars=team.allow_plain_jars)
        try:
            async with runtime.database.write() as session:
                reply, removed_keys = await _commit_update(
                    session, runtime, caller, release_id, draft, staged, facts
                )
        except IntegrityError as exc:
            raise conflict_from(exc) or exc from None
    except BaseException:
        if staged is not None:
            await files.discard(runtime, staged)
        raise
    await files.purge_after_commit(runtime, removed_keys)
    return reply


async def _commit_update(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    release_id: uuid.UUID,
    draft: ReleaseDraft,
    staged: StagedFile | None,
    facts: FileFacts | None,
) -> tuple[Reply[ReleaseView], list[str]]:
    team = caller.team
    current = await repo.get(session, team.id, release_id)
    locked = [draft.product_id] if current is None else [draft.product_id, current.product_id]
    await products.lock_in_order(session, team.id, locked)
    plan = await _check_update(session, team, release_id, draft, staged, lock=True)
    release = plan.release
    if release.product_id not in locked:  # moved by a concurrent PUT before our lock
        raise ConcurrentUpdate()

    watch = await LatestWatch.start(
        session,
        runtime,
        team.id,
        [(release.product_id, release.branch_id), (draft.product_id, draft.branch_id)],
    )
    if plan.becomes_latest:
        await repo.demote_latest(session, draft.product_id, draft.branch_id, keep=release.id)
    release.product_id = draft.product_id
    release.branch_id = draft.branch_id
    release.version = draft.version
    release.version_sort_key = version_sort_key(draft.version)
    release.status = draft.status
    release.latest = plan.becomes_latest
    release.updated_at = utcnow()
    await session.flush()
    await metadata.replace(session, team.id, "release_id", release.id, draft.metadata)
    await repo.replace_allowed_licenses(session, release.id, draft.license_ids)

    replaced = (staged is not None and facts is not None) or not draft.keep_existing_file
    removed_keys: list[str] = []
    if replaced and plan.old_file is not None:
        removed_keys = await files.detach(session, team.id, [plan.old_file])
    if staged is not None and facts is not None:
        await files.attach(session, team.id, quota_bytes(team), release.id, staged, facts)

    reply = await _answer(session, team.id, release.id, "Release updated")
    request = _audit_request(draft, staged, facts)
    await _record(
        session, runtime, caller, "UPDATE_RELEASE", EventType.RELEASE_UPDATED, reply, request
    )
    await watch.emit_changes()
    return reply, removed_keys
