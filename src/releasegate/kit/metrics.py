"""Prometheus metrics for one app: request counts and latencies, upload and download bytes.

Each `Metrics` owns its own `CollectorRegistry` (never the process-global one), so several apps in
one process, as in the tests, don't collide. Route labels are route templates, never raw paths:
license keys appear in dev API paths (security-and-limits.md §6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED_ROUTE = "<unmatched>"
# Any other method token is folded into one label value, so clients can't grow the series set.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

DownloadKind = Literal["raw", "classloader"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "releasegate_http_requests_total",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "releasegate_http_request_duration_seconds",
            "HTTP request duration by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self._upload_bytes = Counter(
            "releasegate_upload_bytes_total",
            "Bytes of release files accepted by create/update.",
            registry=self.registry,
        )
        self._handovers = Counter(
            "releasegate_download_handovers_total",
            "Downloads whose bytes S3 (presigned) or the proxy (accel, sendfile) sent.",
            ["mode"],
            registry=self.registry,
        )
        self._download_bytes = Counter(
            "releasegate_download_bytes_total",
            "Bytes of release files sent to clients.",
            ["kind"],
            registry=self.registry,
        )

    def observe_request(
        self, method: str | None, route: str | None, status: int, seconds: float
    ) -> None:
        """One finished HTTP request; `route` is the matched template or None if unmatched."""
        method_label = method if method in _METHODS else "OTHER"
        route_label = route or UNMATCHED_ROUTE
        self._requests.labels(method_label, route_label, str(status)).inc()
        self._duration.labels(method_label, route_label).observe(seconds)

    def count_upload(self, size: int) -> None:
        """Bytes of a release file that a create or update kept."""
        self._upload_bytes.inc(size)

    def count_download(self, kind: DownloadKind, size: int) -> None:
        self._download_bytes.labels(kind).inc(size)

    def count_handover(self, mode: str) -> None:
        self._handovers.labels(mode).inc()

    async def counted_download(
        self, kind: DownloadKind, chunks: AsyncIterator[bytes | memoryview]
    ) -> AsyncIterator[bytes | memoryview]:
        """`chunks` unchanged; a chunk counts once the server asks for the next (it was sent)."""
        async for chunk in chunks:
            yield chunk
            self.count_download(kind, len(chunk))

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
