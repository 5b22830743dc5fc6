"""List query parsing shared by every list endpoint (dev-api-releases.md §4).

Invalid values silently fall back to defaults; the first occurrence of a parameter wins.
"""

from __future__ import annotations

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


def parse_page(params: QueryParams, *, default_descending: bool = True) -> PageRequest:
    raw_page = first(params, "page")
    page = int(raw_page) if raw_page and raw_page.isdigit() and int(raw_page) > 0 else 1
    raw_size = first(params, "pageSize")
    size = int(raw_size) if raw_size and raw_size.isdigit() else 25
    size = size if size in PAGE_SIZES else 25
    direction = first(params, "sortDirection")
    descending = default_descending if direction not in ("asc", "desc") else direction == "desc"
    return PageRequest(page=min(page, 10**9), page_size=size, descending=descending)


def choice(params: QueryParams, name: str, allowed: Sequence[str], default: str) -> str:
    value = first(params, name)
    return value if value is not None and value in allowed else default


def split_page(rows: Sequence[T], page: PageRequest) -> tuple[list[T], bool]:
    """Rows fetched with `page_size + 1`: the page and whether another follows."""
    return list(rows[: page.page_size]), len(rows) > page.page_size
