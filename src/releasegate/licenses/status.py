"""A license's status, SUSPENDED | UPCOMING | EXPIRED | EXPIRING | ACTIVE | INACTIVE
(dev-api-releases.md §11.2): the rule, written once.

Each status is a condition over the license's columns. The same conditions are rendered as SQL
(the list's `status` filter, index-friendly column-versus-parameter comparisons) and evaluated
on a loaded row (the `status` field), both with SQL's three-valued logic, so a NULL expiry date
counts the same way in both and the conditions stay mutually exclusive.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, not_, or_

from releasegate.licenses.models import License

INACTIVE_AFTER = timedelta(days=30)
EXPIRING_WITHIN = timedelta(days=30)

Truth = bool | None  # None: SQL's UNKNOWN


class Condition(ABC):
    @abstractmethod
    def sql(self, now: datetime) -> ColumnElement[bool]: ...

    @abstractmethod
    def holds(self, row: License, now: datetime) -> Truth: ...


@dataclass(frozen=True)
class _Suspended(Condition):
    def sql(self, now: datetime) -> ColumnElement[bool]:
        return License.suspended.is_(True)

    def holds(self, row: License, now: datetime) -> Truth:
        return row.suspended


@dataclass(frozen=True)
class _Dated(Condition):
    """DATE or DURATION: the license can expire."""

    def sql(self, now: datetime) -> ColumnElement[bool]:
        return License.expiration_type != "NEVER"

    def holds(self, row: License, now: datetime) -> Truth:
        return row.expiration_type != "NEVER"


@dataclass(frozen=True)
class _NoExpiryDate(Condition):
    """A DURATION whose clock has not started."""

    def sql(self, now: datetime) -> ColumnElement[bool]:
        return License.expiration_date.is_(None)

    def holds(self, row: License, now: datetime) -> Truth:
        return row.expiration_date is None


@dataclass(frozen=True)
class _ExpiresBefore(Condition):
    """The expiry date is earlier than `now + within` (UNKNOWN without a date)."""

    within: timedelta = timedelta(0)

    def sql(self, now: datetime) -> ColumnElement[bool]:
        return License.expiration_date < now + self.within

    def holds(self, row: License, now: datetime) -> Truth:
        date = row.expiration_date
        return None if date is None else date < now + self.within


@dataclass(frozen=True)
class _ActiveSince(Condition):
    """Seen by a client within the last `within`."""

    within: timedelta

    def sql(self, now: datetime) -> ColumnElement[bool]:
        return License.last_active_at >= now - self.within

    def holds(self, row: License, now: datetime) -> Truth:
        return row.last_active_at >= now - self.within


@dataclass(frozen=True)
class _Not(Condition):
    inner: Condition

    def sql(self, now: datetime) -> ColumnElement[bool]:
        return not_(self.inner.sql(now))

    def holds(self, row: License, now: datetime) -> Truth:
        value = self.inner.holds(row, now)
        return None if value is None else not value


@dataclass(frozen=True)
class _All(Condition):
    parts: tuple[Condition, ...]

    def sql(self, now: datetime) -> ColumnElement[bool]:
        return and_(*(part.sql(now) for part in self.parts))

    def holds(self, row: License, now: datetime) -> Truth:
        values = [part.holds(row, now) for part in self.parts]
        if False in values:
            return False
        return None if None in values else True


@dataclass(frozen=True)
class _Any(Condition):
    parts: tuple[Condition, ...]

    def sql(self, now: datetime) -> ColumnElement[bool]:
        return or_(*(part.sql(now) for part in self.parts))

    def holds(self, row: License, now: datetime) -> Truth:
        values = [part.holds(row, now) for part in self.parts]
        if True in values:
            return True
        return None if None in values else False


def _all(*parts: Condition) -> _All:
    return _All(parts)


_LIVE = _Not(_Suspended())
# NEVER, or an expiry at least EXPIRING_WITHIN away: only activity decides.
_UNEXPIRING = _Any((_Not(_Dated()), _Not(_ExpiresBefore(EXPIRING_WITHIN))))
_RECENT = _ActiveSince(INACTIVE_AFTER)

STATUSES: dict[str, Condition] = {
    "SUSPENDED": _Suspended(),
    "EXPIRED": _all(_LIVE, _Dated(), _ExpiresBefore()),
    "EXPIRING": _all(_LIVE, _Dated(), _Not(_ExpiresBefore()), _ExpiresBefore(EXPIRING_WITHIN)),
    "UPCOMING": _all(_LIVE, _Dated(), _NoExpiryDate()),
    "INACTIVE": _all(_LIVE, _UNEXPIRING, _Not(_RECENT)),
    "ACTIVE": _all(_LIVE, _UNEXPIRING, _RECENT),
}


def license_status(row: License, now: datetime) -> str:
    """The one status whose condition holds for `row` at `now`."""
    return next(name for name, condition in STATUSES.items() if condition.holds(row, now))


def status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    """The SQL condition of one status, thresholds computed from `now` in Python."""
    return STATUSES[status].sql(now)
