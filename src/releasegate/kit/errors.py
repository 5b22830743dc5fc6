"""The one error type of the dev API: carries its HTTP status and `details` string."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """Raised anywhere below an endpoint; rendered as the envelope with `valid: false`."""

    def __init__(
        self,
        status: int,
        details: str,
        *,
        data: object = None,
        headers: Mapping[str, str] | None = None,
        close_connection: bool = False,
    ) -> None:
        super().__init__(details)
        self.status = status
        self.details = details
        self.data = data
        self.headers = dict(headers or {})
        self.close_connection = close_connection

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.details!r})"
