"""Client API routes (client-api.md): verify, heartbeat, classloader. The license key is the
credential; every response, success or refusal, carries `result.code`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from releasegate.auth.guard import client_ip_of
from releasegate.client import request_log
from releasegate.client.classloader import deliver
from releasegate.client.errors import (
    ClientBodyTooLarge,
    InvalidJsonPayload,
    InvalidPayload,
    InvalidTeamUuid,
)
from releasegate.client.limits import Endpoint
from releasegate.client.request_log import Trace
from releasegate.client.responses import (
    RequestStatus,
    client_response,
    code_of,
    refusal_response,
)
from releasegate.client.schemas import HEARTBEAT_BODY, VERIFY_BODY, parse_body, parse_query
from releasegate.client.standing import Device
from releasegate.client.verification import verify
from releasegate.kit.client_ip import resolve_country
from releasegate.kit.errors import Refusal
from releasegate.kit.ids import parse_uuid
from releasegate.kit.json_body import BodyTooLarge, read_limited
from releasegate.kit.strict_json import InvalidJSON, parse_strict_json
from releasegate.runtime import Runtime, RuntimeDep

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1/client/teams/{teamId}/verification", tags=["client"])

BODY_LIMIT = 64 * 1024
_ENVELOPE = {"description": "The client envelope (`result.code` is a RequestStatus)"}
_JSON_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: _ENVELOPE for status in (200, 400, 403, 404, 413, 429, 503)
}
_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **{status: _ENVELOPE for status in (400, 403, 404, 429, 503)},
    200: {
        "description": "The encrypted file: frames `u32be length | IV | tag | ciphertext`",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
}


def _trace(runtime: Runtime, request: Request, kind: str) -> Trace:
    peer = request.client.host if request.client else None
    header = runtime.settings.country_header
    return Trace(
        type=kind,
        method=request.method,
        path=request.url.path,
        ip_address=client_ip_of(runtime, request),
        country=resolve_country(
            peer, request.headers.get(header) if header else None, runtime.trusted_proxies
        ),
        user_agent=request.headers.get("user-agent"),
    )


def _device(trace: Trace, hwid: str | None) -> Device:
    return Device(ip=trace.ip_address, country=trace.country, hwid=hwid)


async def _json_object(request: Request) -> dict[str, object]:
    """Rows 1–3: at most 64 KiB, valid JSON, an object. Content-Type is not required."""
    try:
        raw = await read_limited(request, BODY_LIMIT)
    except BodyTooLarge:
        raise ClientBodyTooLarge() from None
    except ClientDisconnect:
        raise InvalidJsonPayload() from None
    try:
        value = parse_strict_json(raw)
    except InvalidJSON:
        raise InvalidJsonPayload() from None
    if not isinstance(value, dict):
        raise InvalidPayload()
    return value


async def _answer(
    runtime: Runtime, trace: Trace, handle: Callable[[], Awaitable[Response]]
) -> Response:
    """Run a handler; refusals and failures become the envelope; the log row follows the reply."""
    try:
        response = await handle()
    except Refusal as refusal:
        trace.finish(refusal.status, code_of(refusal))
        response = refusal_response(refusal)
    except Exception as exc:
        log.error("client_request_failed", error=type(exc).__name__, exc_info=True)
        trace.finish(500, RequestStatus.INTERNAL_SERVER_ERROR)
        response = client_response(
            500, RequestStatus.INTERNAL_SERVER_ERROR, "Internal server error"
        )
    if not isinstance(response, StreamingResponse):  # a stream logs itself when it ends
        response.background = BackgroundTask(request_log.write, runtime, trace)
    return response


async def _verification(
    runtime: Runtime, request: Request, team_path: str, endpoint: Endpoint
) -> Response:
    trace = _trace(runtime, request, endpoint.upper())
    schema = VERIFY_BODY if endpoint == "verify" else HEARTBEAT_BODY

    async def handle() -> Response:
        body = await _json_object(request)
        team_id = parse_uuid(team_path)
        if team_id is None:
            raise InvalidTeamUuid()
        parsed = parse_body(body, schema)
        result = await verify(
            runtime, endpoint, team_id, parsed, _device(trace, parsed.hardware_identifier), trace
        )
        trace.finish(200, RequestStatus.VALID)
        return client_response(
            200,
            RequestStatus.VALID,
            result.details,
            data=result.data,
            challenge_response=result.challenge_response,
        )

    return await _answer(runtime, trace, handle)


@router.post("/verify", response_class=Response, responses=_JSON_RESPONSES)
async def verify_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """Check a license, optionally for a product, version or branch; sign a challenge."""
    return await _verification(runtime, request, teamId, "verify")


@router.post("/heartbeat", response_class=Response, responses=_JSON_RESPONSES)
async def heartbeat_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """The verify checks with the hardware identifier required; called periodically."""
    return await _verification(runtime, request, teamId, "heartbeat")


@router.head("/classloader", response_class=Response)
async def classloader_head_endpoint(teamId: str) -> Response:
    """Always 200 with no body and no checks (kept for compatibility, §4.1)."""
    return Response(status_code=200, media_type="application/octet-stream")


def _first_values(request: Request) -> dict[str, str]:
    """A repeated parameter counts with its first occurrence."""
    first: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        first.setdefault(name, value)
    return first


@router.get("/classloader", response_class=Response, responses=_STREAM_RESPONSES)
async def classloader_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """License-checked download of a release file, encrypted with the client's session key."""
    trace = _trace(runtime, request, "DOWNLOAD")

    async def handle() -> Response:
        team_id = parse_uuid(teamId)
        if team_id is None:
            raise InvalidTeamUuid()
        parsed = parse_query(_first_values(request))
        delivery = await deliver(
            runtime, team_id, parsed, _device(trace, parsed.hardware_identifier), trace
        )
        trace.finish(200, RequestStatus.VALID)
        return StreamingResponse(_logged(runtime, trace, delivery.body), 200, delivery.headers)

    return await _answer(runtime, trace, handle)


async def _logged(
    runtime: Runtime, trace: Trace, body: AsyncIterator[bytes | memoryview]
) -> AsyncIterator[bytes | memoryview]:
    """The stream, with its log row written when it ends, however it ends: a response's
    background task is skipped when the body fails after the headers were sent."""
    try:
        async for chunk in body:
            yield chunk
    finally:
        runtime.spawn(request_log.write(runtime, trace))
