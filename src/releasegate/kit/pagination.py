"""Lists: query parsing shared by every list endpoint (dev-api-releases.md §4), and the one
paginator every repository pages with.

Invalid query values silently fall back to defaults; the first occurrence of a parameter wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from starlette.datastructures import QueryParams

PAGE_SIZES = (10, 25, 50, 100)
T = TypeVar("T")


class Identified(Protocol):
    """A mapped row with an `id` primary key."""

    id: Any


RowT = TypeVar("RowT", bound=Identified)


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int
    descending: bool

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, whether another page follows, and how many rows match in all."""

    rows: list[T]
    has_next: bool
    total: int


def first(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    return values[0] if values else None


_SMALL_INT = re.compile(r"[0-9]{1,9}")


def _small_int(raw: str | None) -> int:
    """ASCII digits only (`str.isdigit` accepts `²`), bounded; 0 when absent or invalid."""
    return int(raw) if raw is not None and _SMALL_INT.fullmatch(raw) else 0


def parse_page(params: QueryParams, *, default_descending: bool = True) -> PageRequest:
    page = _small_int(first(params, "page")) or 1
    size = _small_int(first(params, "pageSize"))
    size = size if size in PAGE_SIZES else 25
    direction = first(params, "sortDirection")
    descending = default_descending if direction not in ("asc", "desc") else direction == "desc"
    return PageRequest(page=page, page_size=size, descending=descending)


def choice(params: QueryParams, name: str, allowed: Sequence[str], default: str) -> str:
    value = first(params, name)
    return value if value is not None and value in allowed else default


async def fetch_page(
    session: AsyncSession,
    model: type[RowT],
    conditions: Sequence[ColumnElement[bool]],
    ordering: Sequence[Any],
    request: PageRequest,
) -> Page[RowT]:
    """One page of `model` rows matching `conditions`, in `ordering` (which must end with a
    unique column, so pages never overlap), and the number of matching rows.

    A deferred join: the OFFSET/LIMIT walk selects ids only, along an index that starts with
    the list's scope; full rows are then read for the page alone.
    """
    model_id: InstrumentedAttribute[Any] = model.id
    total = await session.scalar(select(func.count()).select_from(model).where(*conditions))
    page_ids = (
        select(model_id)
        .where(*conditions)
        .order_by(*ordering)
        .offset(request.offset)
        .limit(request.page_size + 1)
        .subquery()
    )
    rows = list(
        await session.scalars(
            select(model).join(page_ids, model_id == page_ids.c.id).order_by(*ordering)
        )
    )
    return Page(rows[: request.page_size], len(rows) > request.page_size, int(total or 0))


def page_data(name: str, page: Page[T], render: Callable[[T], object]) -> dict[str, object]:
    """A list response's `data`: `{<name>: [...], hasNextPage, totalResults}`."""
    return {
        name: [render(row) for row in page.rows],
        "hasNextPage": page.has_next,
        "totalResults": page.total,
    }
