"""List query parsing shared by every list endpoint (dev-api-releases.md §4).

Invalid values silently fall back to defaults; the first occurrence of a parameter wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from starlette.datastructures import QueryParams

PAGE_SIZES = (10, 25, 50, 100)
T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int
    descending: bool

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


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


def split_page(rows: Sequence[T], page: PageRequest) -> tuple[list[T], bool]:
    """Rows fetched with `page_size + 1`: the page and whether another follows."""
    return list(rows[: page.page_size]), len(rows) > page.page_size
