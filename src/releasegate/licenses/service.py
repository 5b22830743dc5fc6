"""License rules: key storage (HMAC lookup + ciphertext), expiry, links within the team
(dev-api-releases.md §11)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.auth.guard import Caller
from releasegate.changes import Change, Event, record_change
from releasegate.db.constraints import is_violation
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import Reply
from releasegate.kit.keyring import Keyring
from releasegate.kit.pagination import Page, PageRequest
from releasegate.licenses import repository as repo
from releasegate.licenses.errors import (
    EmailDeliveryUnsupported,
    InvalidCustomerIds,
    InvalidProductIds,
    LastAllowedLicense,
    LicenseKeyExists,
    LicenseNotFound,
    MaxLicensesReached,
)
from releasegate.licenses.keys import ciphertext_aad, generate_license_key, key_hint
from releasegate.licenses.models import License
from releasegate.licenses.schemas import Expiry, LicenseDraft, LicenseFilters
from releasegate.licenses.views import LicenseView, load_views
from releasegate.metadata import repository as metadata
from releasegate.releases import repository as releases
from releasegate.runtime import Runtime
from releasegate.teams import repository as teams
from releasegate.webhooks.models import EventType


def _is_key_conflict(exc: IntegrityError) -> bool:
    return is_violation(exc, "uq_licenses_team_id_key_lookup")


def _expiry_terms(expiry: Expiry) -> tuple[object, ...]:
    # Only DATE takes its date as input; a DURATION's stored date is derived, not compared.
    return (expiry.type, expiry.start, expiry.days, expiry.date if expiry.type == "DATE" else None)


def _stored_terms(row: License) -> Expiry:
    return Expiry(
        row.expiration_type, row.expiration_start, row.expiration_days, row.expiration_date
    )


def _store_expiry(row: License, expiry: Expiry) -> None:
    row.expiration_type = expiry.type
    row.expiration_start = expiry.start
    row.expiration_days = expiry.days
    if expiry.type == "DATE":
        row.expiration_date = expiry.date
    elif expiry.type == "DURATION" and (expiry.start or "CREATION") == "CREATION":
        assert expiry.days is not None
        row.expiration_date = utcnow() + timedelta(days=expiry.days)
    else:
        row.expiration_date = None


async def _view(session: AsyncSession, keyring: Keyring, row: License) -> LicenseView:
    (view,) = await load_views(session, keyring, [row])
    return view


async def _record(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    action: str,
    event: EventType,
    reply: Reply[LicenseView],
    request: object,
) -> None:
    """License payloads include `licenseKey`, so their event bodies are stored encrypted."""
    assert isinstance(reply.data, dict)
    await record_change(
        session,
        runtime,
        Change(
            caller.team.id,
            caller.actor,
            action,
            "LICENSE",
            reply.value.license.id,
            request=request,
            response=reply.envelope(),
            events=[Event(event, reply.data, holds_license_key=True)],
        ),
    )


async def _check_links(session: AsyncSession, team_id: uuid.UUID, draft: LicenseDraft) -> None:
    if not await repo.all_team_products(session, team_id, draft.product_ids):
        raise InvalidProductIds()
    if not await repo.all_team_customers(session, team_id, draft.customer_ids):
        raise InvalidCustomerIds()


async def create_license(
    runtime: Runtime, caller: Caller, draft: LicenseDraft
) -> Reply[LicenseView]:
    """A new license with a generated (or imported) key, within the team's cap."""
    team, keyring = caller.team, runtime.keyring
    try:
        async with runtime.database.write() as session:
            cap = await teams.lock_team(session, team.id)
            if cap and cap.max_licenses and await repo.count(session, team.id) >= cap.max_licenses:
                raise MaxLicensesReached()
            await _check_links(session, team.id, draft)
            if draft.send_email_delivery:
                raise EmailDeliveryUnsupported()
            key = draft.key or generate_license_key()
            lookup = keyring.license_lookup(key, str(team.id))
            while await repo.by_lookup(session, team.id, lookup) is not None:
                if draft.key:
                    raise LicenseKeyExists()
                key = generate_license_key()
                lookup = keyring.license_lookup(key, str(team.id))
            now = utcnow()
            license_id = uuid.uuid4()
            row = License(
                id=license_id,
                team_id=team.id,
                key_lookup=lookup,
                key_ciphertext=keyring.encrypt(
                    key.encode(), ciphertext_aad(str(team.id), str(license_id))
                ),
                key_hint=key_hint(key),
                ip_limit=draft.ip_limit,
                hwid_limit=draft.hwid_limit,
                suspended=draft.suspended,
                last_active_at=now,
                created_at=now,
                updated_at=now,
            )
            _store_expiry(row, draft.expiry)
            await repo.add(session, row)
            await repo.replace_links(session, row.id, draft.product_ids, draft.customer_ids)
            await metadata.replace(session, team.id, "license_id", row.id, draft.metadata)
            view = await _view(session, keyring, row)
            reply = Reply(view, view.to_json(), "License created")
            await _record(
                session,
                runtime,
                caller,
                "CREATE_LICENSE",
                EventType.LICENSE_CREATED,
                reply,
                draft.request,
            )
    except IntegrityError as exc:
        if _is_key_conflict(exc):
            raise LicenseKeyExists() from None
        raise
    return reply


async def update_license(
    runtime: Runtime, caller: Caller, license_id: uuid.UUID, draft: LicenseDraft
) -> Reply[LicenseView]:
    """Replace every field; the stored expiry is re-applied only when its terms changed."""
    team, keyring = caller.team, runtime.keyring
    assert draft.key is not None
    lookup = keyring.license_lookup(draft.key, str(team.id))
    try:
        async with runtime.database.write() as session:
            row = await repo.by_id(session, team.id, license_id, lock=True)
            if row is None:
                raise LicenseNotFound()
            await _check_links(session, team.id, draft)
            if lookup != row.key_lookup:
                if await repo.by_lookup(session, team.id, lookup) is not None:
                    raise LicenseKeyExists()
                row.key_lookup = lookup
                row.key_ciphertext = keyring.encrypt(
                    draft.key.encode(), ciphertext_aad(str(team.id), str(row.id))
                )
                row.key_hint = key_hint(draft.key)
            if _expiry_terms(_stored_terms(row)) != _expiry_terms(draft.expiry):
                _store_expiry(row, draft.expiry)
            row.ip_limit = draft.ip_limit
            row.hwid_limit = draft.hwid_limit
            row.suspended = draft.suspended
            row.updated_at = utcnow()
            await session.flush()
            await repo.replace_links(session, row.id, draft.product_ids, draft.customer_ids)
            await metadata.replace(session, team.id, "license_id", row.id, draft.metadata)
            view = await _view(session, keyring, row)
            reply = Reply(view, view.to_json(), "License updated")
            await _record(
                session,
                runtime,
                caller,
                "UPDATE_LICENSE",
                EventType.LICENSE_UPDATED,
                reply,
                draft.request,
            )
    except IntegrityError as exc:
        if _is_key_conflict(exc):
            raise LicenseKeyExists() from None
        raise
    return reply


async def find_license(
    session: AsyncSession,
    keyring: Keyring,
    team_id: uuid.UUID,
    *,
    key: str | None = None,
    license_id: uuid.UUID | None = None,
    lock: bool = False,
) -> License | None:
    """By key (through its team-bound lookup hash, never the plaintext) or by id."""
    if key is not None:
        lookup = keyring.license_lookup(key, str(team_id))
        return await repo.by_lookup(session, team_id, lookup, lock=lock)
    assert license_id is not None
    return await repo.by_id(session, team_id, license_id, lock=lock)


async def get_license(
    runtime: Runtime,
    team_id: uuid.UUID,
    *,
    key: str | None = None,
    license_id: uuid.UUID | None = None,
) -> LicenseView:
    """By key or id; a missing or foreign license is LicenseNotFound."""
    async with runtime.database.read() as session:
        row = await find_license(session, runtime.keyring, team_id, key=key, license_id=license_id)
        if row is None:
            raise LicenseNotFound()
        return await _view(session, runtime.keyring, row)


async def list_licenses(
    runtime: Runtime,
    team_id: uuid.UUID,
    filters: LicenseFilters,
    sort_column: str,
    request: PageRequest,
) -> Page[LicenseView]:
    """One page of the team's licenses; `status` is filtered and shown against one `now`."""
    now = utcnow()
    async with runtime.database.read() as session:
        page = await repo.page(session, team_id, filters, sort_column, now, request)
        views = await load_views(session, runtime.keyring, page.rows, now)
    return Page(views, page.has_next, page.total)


async def set_suspended(
    runtime: Runtime, caller: Caller, license_id: uuid.UUID, suspended: bool
) -> Reply[LicenseView]:
    """Suspend or unsuspend (idempotent); audited only when the state changes.

    The row lock makes two concurrent suspends write one audit row, not two.
    """
    team = caller.team
    async with runtime.database.write() as session:
        row = await repo.by_id(session, team.id, license_id, lock=True)
        if row is None:
            raise LicenseNotFound()
        changed = row.suspended != suspended
        if changed:
            row.suspended = suspended
            row.updated_at = utcnow()
            await session.flush()
        view = await _view(session, runtime.keyring, row)
        details = "License suspended" if suspended else "License unsuspended"
        reply = Reply(view, view.to_json(), details)
        if changed:
            action = "SUSPEND_LICENSE" if suspended else "UNSUSPEND_LICENSE"
            await _record(session, runtime, caller, action, EventType.LICENSE_UPDATED, reply, None)
    return reply


async def delete_license(
    runtime: Runtime,
    caller: Caller,
    *,
    key: str | None = None,
    license_id: uuid.UUID | None = None,
) -> Reply[LicenseView]:
    """By key or id; refused (409) while it is the only license of a release's allow-list, so
    no restricted release silently becomes unrestricted. The answer is the license before.

    The releases naming it are locked first, then the license, and the guard is evaluated
    under those locks (§1.7), so concurrent deletes cannot together empty an allow-list.
    """
    team = caller.team
    async with runtime.database.write() as session:
        found = await find_license(
            session, runtime.keyring, team.id, key=key, license_id=license_id
        )
        if found is None:
            raise LicenseNotFound()
        await releases.lock_releases_allowing(session, team.id, found.id)
        row = await repo.by_id(session, team.id, found.id, lock=True)
        if row is None:
            raise LicenseNotFound()
        if await releases.is_sole_allowed_license(session, row.id):
            raise LastAllowedLicense()
        view = await _view(session, runtime.keyring, row)
        reply = Reply(view, view.to_json(), "License deleted successfully")
        await repo.delete_license(session, team.id, row.id)
        await _record(
            session, runtime, caller, "DELETE_LICENSE", EventType.LICENSE_DELETED, reply, None
        )
    return reply
