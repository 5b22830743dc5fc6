"""Release business rules: Create Release and Update Release (dev-api-releases.md §2–§3).

Write order (files-and-storage.md §8): the file is already staged by the intake; every check
runs, then one transaction re-checks under the product lock and commits; only after the commit
is a replaced object deleted. Any failure discards the staged object and changes nothing.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.sizes import MIB
from releasegate.metadata.service import replace_metadata
from releasegate.releases import repository as repo
from releasegate.releases.events import LatestWatch, emit_release_event
from releasegate.releases.file_rules import (
    content_type_of,
    extension_of,
    is_valid_name,
    stored_name,
)
from releasegate.releases.intake import ReleaseForm, StagedFile
from releasegate.releases.jar import find_main_class
from releasegate.releases.models import Release, ReleaseFile, ReleaseStatus
from releasegate.releases.version_order import version_sort_key
from releasegate.releases.views import load_release_view
from releasegate.runtime import Runtime
from releasegate.storage.journal import JournalKind, StorageJournal
from releasegate.storage.range_reader import StorageRangeReader
from releasegate.storage.staging import StagingFailed, discard_object
from releasegate.teams import storage_usage
from releasegate.teams.models import Team
from releasegate.webhooks.models import EventType

VERSION_TAKEN = "A release with this version already exists for this product and branch"
LICENSES_AND_LATEST = "Cannot set as latest release when license IDs are provided"


@dataclass(frozen=True)
class FileFacts:
    name: str
    content_type: str
    main_class_name: str | None


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    return None if value is None else _uuid(value)


def _quota_bytes(team: Team) -> int:
    return team.max_storage_mb * MIB


def check_declared_file(team: Team, data: dict[str, Any], staged: StagedFile | None) -> None:
    """Rows 16–18: the declared digest, then whether uploads are allowed at all."""
    declared = data.get("sha256")
    if declared is not None:
        if staged is None:
            raise ApiError(400, "sha256 was provided but no file was uploaded")
        if not hmac.compare_digest(declared.lower().encode(), staged.sha256.encode()):
            raise ApiError(400, "File checksum mismatch")
    if staged is not None and not team.allow_file_uploads:
        raise ApiError(400, "File uploads require a paid subscription")


async def inspect_file(runtime: Runtime, team: Team, staged: StagedFile) -> FileFacts:
    """Rows 27–29 of create (29–31 of update): name, extension, JAR main class."""
    name = stored_name(staged.raw_name)
    if not is_valid_name(name):
        raise ApiError(400, "Invalid file name")
    extension = extension_of(name)
    if extension is None:
        raise ApiError(400, "File must have an extension")
    main_class = None
    if extension.lower() == "jar":
        reader = StorageRangeReader(runtime.storage, staged.key, staged.size)
        main_class = await find_main_class(reader)
        if main_class is None and not team.allow_plain_jars:
            raise ApiError(400, "Main class not found in JAR file")
    return FileFacts(name, content_type_of(staged.content_type_header), main_class)


def conflict_from(exc: IntegrityError) -> ApiError | None:
    """Map a unique-index violation at commit to its row (§1.7); None for anything else."""
    text = str(exc.orig)
    if "uq_releases_version" in text:
        return ApiError(409, VERSION_TAKEN)
    if "uq_releases_latest" in text:
        return ApiError(409, "Conflicting concurrent update, please retry")
    return None


async def _finish_upload_journal(session: AsyncSession, key: str) -> None:
    """Commit guard: the PENDING_UPLOAD entry must still exist (the sweeper did not take it)."""
    result = await session.execute(
        delete(StorageJournal).where(
            StorageJournal.key == key, StorageJournal.kind == JournalKind.PENDING_UPLOAD
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StagingFailed("staged upload was swept before commit")


def _file_row(release_id: uuid.UUID, staged: StagedFile, facts: FileFacts) -> ReleaseFile:
    return ReleaseFile(
        id=staged.file_id,
        release_id=release_id,
        key=staged.key,
        size=staged.size,
        name=facts.name,
        content_type=facts.content_type,
        checksum=staged.md5,
        sha256=staged.sha256,
        main_class_name=facts.main_class_name,
        created_at=utcnow(),
    )


def _audit_request(data: dict[str, Any], staged: StagedFile | None, facts: FileFacts | None) -> Any:
    body: dict[str, Any] = dict(data)
    if staged is not None and facts is not None:
        body["file"] = {"name": facts.name, "size": staged.size, "sha256": staged.sha256}
    return body


async def _response_body(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID, details: str
) -> dict[str, object]:
    view = await load_release_view(session, team_id, release_id)
    assert view is not None
    return envelope(view.to_json(), details, valid=True)


# --- Create ----------------------------------------------------------------------------------


async def _check_create(
    session: AsyncSession,
    team: Team,
    data: dict[str, Any],
    staged: StagedFile | None,
    *,
    lock: bool = False,
) -> None:
    """Rows 19–26, in order. Run once up front and again under the product lock."""
    product_id = _uuid(data["productId"])
    branch_id = _uuid_or_none(data["branchId"])
    license_ids = [_uuid(value) for value in data["licenseIds"]]
    product = await repo.get_product(session, team.id, product_id)
    if product is None:
        raise ApiError(404, "Product not found")
    limit = team.max_releases_per_product
    if limit and await repo.count_releases(session, product_id) >= limit:
        raise ApiError(403, "Max releases per product reached")
    if license_ids and await repo.count_team_licenses(
        session, team.id, license_ids, lock=lock
    ) != len(license_ids):
        raise ApiError(404, "One or more license IDs not found")
    if license_ids and data["setAsLatest"]:
        raise ApiError(400, LICENSES_AND_LATEST)
    if branch_id is not None and (
        await repo.branch_of_product(session, team.id, product_id, branch_id) is None
    ):
        raise ApiError(404, "Branch not found")
    if await repo.version_taken(session, team.id, product_id, branch_id, data["version"]):
        raise ApiError(409, VERSION_TAKEN)
    quota = _quota_bytes(team)
    if (
        staged is not None
        and quota
        and await storage_usage.current_usage(session, team.id) + staged.size > quota
    ):
        raise ApiError(400, "Storage limit reached")


async def create_release(
    runtime: Runtime, caller: Caller, form: ReleaseForm, release_id: uuid.UUID
) -> dict[str, object]:
    """Returns the response envelope (also recorded in the audit row)."""
    team, data, staged = caller.team, form.data, form.file
    try:
        check_declared_file(team, data, staged)
        async with runtime.database.read() as session:
            await _check_create(session, team, data, staged)
        facts = None if staged is None else await inspect_file(runtime, team, staged)
        try:
            async with runtime.database.write() as session:
                body = await _commit_create(
                    session, runtime, caller, data, staged, facts, release_id
                )
        except IntegrityError as exc:
            raise conflict_from(exc) or exc from None
        return body
    except BaseException:
        if staged is not None:
            await discard_object(runtime.database, runtime.storage, staged.key)
        raise


async def _commit_create(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    data: dict[str, Any],
    staged: StagedFile | None,
    facts: FileFacts | None,
    release_id: uuid.UUID,
) -> dict[str, object]:
    team = caller.team
    product_id = _uuid(data["productId"])
    branch_id = _uuid_or_none(data["branchId"])
    await repo.lock_products(session, team.id, [product_id])
    await _check_create(session, team, data, staged, lock=True)

    becomes_latest = bool(data["setAsLatest"]) and data["status"] == ReleaseStatus.PUBLISHED
    watch = await LatestWatch.start(
        session, runtime, team.id, [(product_id, branch_id)] if becomes_latest else []
    )
    if becomes_latest:
        await repo.demote_latest(session, product_id, branch_id)
    now = utcnow()
    session.add(
        Release(
            id=release_id,
            team_id=team.id,
            product_id=product_id,
            branch_id=branch_id,
            version=data["version"],
            version_sort_key=version_sort_key(data["version"]),
            status=data["status"],
            latest=becomes_latest,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    await replace_metadata(session, team.id, "release_id", release_id, data["metadata"])
    await repo.replace_allowed_licenses(
        session, release_id, [_uuid(value) for value in data["licenseIds"]]
    )
    if staged is not None and facts is not None:
        session.add(_file_row(release_id, staged, facts))
        await session.flush()
        if not await storage_usage.apply_delta(session, team.id, staged.size, _quota_bytes(team)):
            raise ApiError(400, "Storage limit reached")
        await _finish_upload_journal(session, staged.key)

    body = await _response_body(session, team.id, release_id, "Release created")
    await audit.record(
        session,
        team_id=team.id,
        actor=caller.actor,
        action="CREATE_RELEASE",
        target_type="RELEASE",
        target_id=release_id,
        request_body=_audit_request(data, staged, facts),
        response_body=body,
    )
    await emit_release_event(session, runtime, team.id, EventType.RELEASE_CREATED, body)
    await watch.emit_changes()
    return body


# --- Update ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _UpdatePlan:
    release: Release
    moved: bool
    becomes_latest: bool
    old_file: ReleaseFile | None


async def _check_update(
    session: AsyncSession,
    team: Team,
    release_id: uuid.UUID,
    data: dict[str, Any],
    staged: StagedFile | None,
    *,
    lock: bool = False,
) -> _UpdatePlan:
    """Rows 20–28, in order. Run once up front and again under the locks."""
    product_id = _uuid(data["productId"])
    branch_id = _uuid_or_none(data["branchId"])
    license_ids = [_uuid(value) for value in data["licenseIds"]]
    if await repo.get_product(session, team.id, product_id) is None:
        raise ApiError(404, "Product not found")
    release = await repo.get_release(session, team.id, release_id, lock=lock)
    if release is None:
        raise ApiError(404, "Release not found")
    moved = release.product_id != product_id or release.branch_id != branch_id
    limit = team.max_releases_per_product
    if (
        limit
        and release.product_id != product_id
        and await repo.count_releases(session, product_id) >= limit
    ):
        raise ApiError(403, "Max releases per product reached")
    if await repo.version_taken(
        session, team.id, product_id, branch_id, data["version"], excluding=release.id
    ):
        raise ApiError(409, VERSION_TAKEN)
    if branch_id is not None and (
        await repo.branch_of_product(session, team.id, product_id, branch_id) is None
    ):
        raise ApiError(404, "Branch not found")
    if license_ids and await repo.count_team_licenses(
        session, team.id, license_ids, lock=lock
    ) != len(license_ids):
        raise ApiError(404, "One or more license IDs not found")
    published = data["status"] == ReleaseStatus.PUBLISHED
    stays_latest = release.latest and published and not moved
    if license_ids and (data["setAsLatest"] or stays_latest):
        raise ApiError(400, LICENSES_AND_LATEST)
    becomes_latest = (bool(data["setAsLatest"]) and published) or stays_latest
    old_file = await repo.get_file(session, release.id)
    quota = _quota_bytes(team)
    if staged is not None and quota:
        old_size = 0 if old_file is None else old_file.size
        if await storage_usage.current_usage(session, team.id) - old_size + staged.size > quota:
            raise ApiError(400, "Storage limit reached")
    return _UpdatePlan(release, moved, becomes_latest, old_file)


async def update_release(
    runtime: Runtime, caller: Caller, release_id: uuid.UUID, form: ReleaseForm
) -> dict[str, object]:
    """Returns the response envelope; a failure leaves release, file and bytes untouched."""
    team, data, staged = caller.team, form.data, form.file
    try:
        check_declared_file(team, data, staged)
        async with runtime.database.read() as session:
            await _check_update(session, team, release_id, data, staged)
        facts = None if staged is None else await inspect_file(runtime, team, staged)
        try:
            async with runtime.database.write() as session:
                body, removed_key = await _commit_update(
                    session, runtime, caller, release_id, data, staged, facts
                )
        except IntegrityError as exc:
            raise conflict_from(exc) or exc from None
    except BaseException:
        if staged is not None:
            await discard_object(runtime.database, runtime.storage, staged.key)
        raise
    if removed_key is not None:
        await delete_unreferenced(runtime, removed_key)
    return body


async def _commit_update(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    release_id: uuid.UUID,
    data: dict[str, Any],
    staged: StagedFile | None,
    facts: FileFacts | None,
) -> tuple[dict[str, object], str | None]:
    team = caller.team
    product_id = _uuid(data["productId"])
    branch_id = _uuid_or_none(data["branchId"])
    current = await repo.get_release(session, team.id, release_id)
    locked = [product_id] if current is None else [product_id, current.product_id]
    await repo.lock_products(session, team.id, locked)
    plan = await _check_update(session, team, release_id, data, staged, lock=True)
    release = plan.release
    if release.product_id not in locked:  # moved by a concurrent PUT before our lock
        raise ApiError(409, "Conflicting concurrent update, please retry")

    watch = await LatestWatch.start(
        session,
        runtime,
        team.id,
        [(release.product_id, release.branch_id), (product_id, branch_id)],
    )
    if plan.becomes_latest:
        await repo.demote_latest(session, product_id, branch_id, keep=release.id)
    release.product_id = product_id
    release.branch_id = branch_id
    release.version = data["version"]
    release.version_sort_key = version_sort_key(data["version"])
    release.status = data["status"]
    release.latest = plan.becomes_latest
    release.updated_at = utcnow()
    await session.flush()
    await replace_metadata(session, team.id, "release_id", release.id, data["metadata"])
    await repo.replace_allowed_licenses(
        session, release.id, [_uuid(value) for value in data["licenseIds"]]
    )

    removed: ReleaseFile | None = None
    if (staged is not None and facts is not None) or not data["keepExistingFile"]:
        removed = plan.old_file
    delta = 0
    if removed is not None:
        await repo.delete_file_row(session, removed.id)
        session.add(
            StorageJournal(key=removed.key, team_id=team.id, kind=JournalKind.PENDING_DELETE)
        )
        delta -= removed.size
        await session.flush()
    if staged is not None and facts is not None:
        session.add(_file_row(release.id, staged, facts))
        delta += staged.size
        await session.flush()
        await _finish_upload_journal(session, staged.key)
    if not await storage_usage.apply_delta(session, team.id, delta, _quota_bytes(team)):
        raise ApiError(400, "Storage limit reached")

    body = await _response_body(session, team.id, release.id, "Release updated")
    await audit.record(
        session,
        team_id=team.id,
        actor=caller.actor,
        action="UPDATE_RELEASE",
        target_type="RELEASE",
        target_id=release.id,
        request_body=_audit_request(data, staged, facts),
        response_body=body,
    )
    await emit_release_event(session, runtime, team.id, EventType.RELEASE_UPDATED, body)
    await watch.emit_changes()
    return body, None if removed is None else removed.key


async def delete_unreferenced(runtime: Runtime, key: str) -> None:
    """After the commit that unreferenced `key`: delete the object, then its journal entry.

    With a non-zero RELEASEGATE_DELETED_OBJECT_GRACE the sweeper does it later instead.
    """
    if runtime.settings.deleted_object_grace > 0:
        return
    try:
        await runtime.storage.delete(key)
        async with runtime.database.write() as session:
            await session.execute(
                delete(StorageJournal).where(
                    StorageJournal.key == key, StorageJournal.kind == JournalKind.PENDING_DELETE
                )
            )
    except Exception:  # the PENDING_DELETE entry stays; the sweeper retries
        return
