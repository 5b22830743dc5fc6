"""Outermost ASGI layer: request ids, the access log, request metrics and a last-resort 500.

Pure ASGI (no BaseHTTPMiddleware) so streamed request and response bodies pass untouched.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from releasegate.kit.envelope import dumps, envelope
from releasegate.kit.metrics import UNMATCHED_ROUTE, Metrics

log = structlog.get_logger("releasegate.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Query parameters whose values are secrets (security-and-limits.md §6).
SECRET_PARAMS = frozenset(
    {"licenseKey", "sessionKey", "challenge", "hardwareIdentifier", "deviceIdentifier"}
)


def request_id_for(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return str(uuid.uuid4())


_LICENSE_KEY_LIKE = re.compile(r"[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){4}")


def _loggable(name: str, value: str) -> tuple[str, str]:
    if _LICENSE_KEY_LIKE.search(name):
        return "[redacted]", "[redacted]"
    if name in SECRET_PARAMS or _LICENSE_KEY_LIKE.search(value):
        return name, "[redacted]"
    return name, value


def redacted_query(query: bytes) -> str:
    """Parameter names with non-secret values; secrets (and anything key-shaped) redacted."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([_loggable(name, value) for name, value in pairs], safe="[]")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(scope.get("headers", []))
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        structlog.contextvars.bind_contextvars(requestId=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log.error("unhandled_exception", error=type(exc).__name__, exc_info=True)
            if response_started:
                raise
            await _send_internal_error(send_with_id, str(scope.get("path", "")))
        finally:
            seconds = time.perf_counter() - started
            route: Any = scope.get("route")
            template: str | None = getattr(route, "path", None)
            log.info(
                "request",
                method=scope.get("method"),
                route=template or UNMATCHED_ROUTE,
                query=redacted_query(scope.get("query_string", b"")),
                status=status,
                durationMs=round(seconds * 1000, 1),
                teamId=scope.get("path_params", {}).get("teamId"),
            )
            metrics = _metrics_for(scope)
            if metrics is not None:
                metrics.observe_request(scope.get("method"), template, status, seconds)
            structlog.contextvars.unbind_contextvars("requestId")


def _metrics_for(scope: Scope) -> Metrics | None:
    """The app's metrics (on its Runtime); None before start-up or outside a releasegate app."""
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    metrics = getattr(runtime, "metrics", None)
    return metrics if isinstance(metrics, Metrics) else None


async def _send_internal_error(send: Send, path: str) -> None:
    # Client API responses always carry `code` (client-api.md §1).
    extra = {"code": "INTERNAL_SERVER_ERROR"} if path.startswith("/api/v1/client/") else None
    body = dumps(envelope(None, "Internal server error", valid=False, extra=extra))
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
