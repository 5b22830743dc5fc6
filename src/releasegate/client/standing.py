"""A license's standing: the checks every client endpoint runs before any release question.

Rows 9–18 of client-api.md §3.2 / §4.3, in that order, and the success transaction that records
the device and re-checks the limits under the license row lock (rows 22 / 27).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.client.errors import (
    CustomerNotFound,
    HwidLimitReached,
    IpLimitReached,
    LicenseExpired,
    LicenseSuspended,
)
from releasegate.client.request_log import Trace
from releasegate.client.schemas import ClientRequest
from releasegate.licenses import device_repository as devices
from releasegate.licenses import repository as licenses
from releasegate.licenses.device_kinds import HWID, IP_ADDRESS, DeviceKind
from releasegate.licenses.errors import LicenseNotFound
from releasegate.licenses.models import License
from releasegate.products.errors import ProductNotFound
from releasegate.releases import repository as releases
from releasegate.teams.models import Team

LAST_ACTIVE_THROTTLE = timedelta(minutes=3)


@dataclass(frozen=True)
class Holder:
    """The team and license a request is about, with the license's links."""

    team: Team
    license: License
    customer_ids: frozenset[uuid.UUID]
    product_ids: frozenset[uuid.UUID]


@dataclass(frozen=True)
class Device:
    """Where the request comes from: the canonical IP, its country and the HWID if sent."""

    ip: str
    country: str | None
    hwid: str | None


def check_customer(holder: Holder, request: ClientRequest, trace: Trace) -> None:
    """Row 13: strictCustomers needs a customerId; a sent one must be the license's."""
    linked = holder.customer_ids
    missing = holder.team.strict_customers and linked and request.customer_id is None
    foreign = request.customer_id is not None and linked and request.customer_id not in linked
    if missing or foreign:
        raise CustomerNotFound()
    if request.customer_id in linked:
        trace.customer_id = request.customer_id


def check_product(holder: Holder, request: ClientRequest, trace: Trace) -> uuid.UUID | None:
    """Row 14 of verify/heartbeat; returns the matched product (the linked one sent), if any."""
    linked = holder.product_ids
    missing = holder.team.strict_products and linked and request.product_id is None
    foreign = request.product_id is not None and linked and request.product_id not in linked
    if missing or foreign:
        raise ProductNotFound()
    if request.product_id in linked:
        trace.product_id = request.product_id
        return request.product_id
    return None


def check_linked_product(holder: Holder, product_id: uuid.UUID, trace: Trace) -> None:
    """Row 14 of the classloader: the license must be linked to the product."""
    if product_id not in holder.product_ids:
        raise ProductNotFound()
    trace.product_id = product_id


def check_term(license: License, now: datetime) -> None:
    """Rows 15–16: suspension, then expiry (a DURATION not yet started is not expired)."""
    if license.suspended:
        raise LicenseSuspended()
    expires = license.expiration_date
    if license.expiration_type in ("DATE", "DURATION") and expires is not None and now > expires:
        raise LicenseExpired()


def _active_since(minutes: int | None, now: datetime) -> datetime | None:
    return None if minutes is None else now - timedelta(minutes=minutes)


async def _check_limit(
    session: AsyncSession,
    kind: DeviceKind,
    team: Team,
    license: License,
    value: str,
    limit: int | None,
    now: datetime,
) -> uuid.UUID | None:
    """Fail when `value` is not an active record and the active ones fill the limit.

    Returns the id of the existing record for `value`, if any (for the request log).
    """
    since = _active_since(kind.timeout_minutes(team), now)
    count, record = await devices.standing(session, kind, license.id, value, since)
    if limit is not None:
        active = (
            record is not None
            and not record.forgotten
            and (since is None or record.last_seen_at >= since)
        )
        if not active and count >= limit:
            if kind is IP_ADDRESS:
                raise IpLimitReached()
            raise HwidLimitReached()
    return None if record is None else record.id


async def check_limits(
    session: AsyncSession, holder: Holder, device: Device, now: datetime, trace: Trace
) -> None:
    """Rows 17–18: the IP limit, then the HWID limit when a HWID was sent."""
    team, license = holder.team, holder.license
    await _check_limit(session, IP_ADDRESS, team, license, device.ip, license.ip_limit, now)
    if device.hwid is not None:
        trace.hardware_identifier_id = await _check_limit(
            session, HWID, team, license, device.hwid, license.hwid_limit, now
        )


async def commit_success(
    session: AsyncSession,
    holder: Holder,
    device: Device,
    release_id: uuid.UUID | None,
    now: datetime,
    trace: Trace,
) -> License:
    """§3.4 / §4.7 side effects, in the caller's write transaction.

    Returns the locked license. The license row lock serialises successes of one license, so
    the limit re-check (rows 22 / 27) cannot be raced past by a concurrent new device.
    """
    # Release before license: the dev API's release and license writers lock in that order.
    if release_id is not None:
        await releases.touch_last_seen(session, release_id, now)
    license = await licenses.lock_for_success(session, holder.license.id)
    if license is None:  # deleted since the checks ran
        raise LicenseNotFound()
    locked = Holder(holder.team, license, holder.customer_ids, holder.product_ids)
    await check_limits(session, locked, device, now, trace)
    if device.hwid is not None:
        trace.hardware_identifier_id = await devices.record_seen(
            session, license, HWID, device.hwid, now
        )
    await devices.record_seen(session, license, IP_ADDRESS, device.ip, now, device.country)
    if now - license.last_active_at > LAST_ACTIVE_THROTTLE:
        license.last_active_at = now
    if (
        license.expiration_type == "DURATION"
        and license.expiration_date is None
        and license.expiration_days is not None
    ):
        license.expiration_date = now + timedelta(days=license.expiration_days)
    await session.flush()
    return license
