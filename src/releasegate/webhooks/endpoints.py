"""Webhooks (Extension, webhooks-and-audit.md §1): manage webhooks, list and redeliver events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.apikeys.auth import authorize, parse_path_ids
from releasegate.kit.http import RuntimeDep, respond
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import parse_page
from releasegate.webhooks.schemas import CREATE_WEBHOOK, UPDATE_WEBHOOK
from releasegate.webhooks.service import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_events,
    list_webhooks,
    redeliver_event,
    rotate_secret,
    update_webhook,
)

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["webhooks"])


@router.post("/webhooks", status_code=201, responses=envelope_responses(201, 403, 413))
async def create_webhook_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """Create a webhook for the listed event types; its signing secret is shown only here.

    201 `Webhook created`; 400 `Invalid webhook URL`, 403 `Max webhooks reached`
    (webhooks-and-audit.md §1).
    """
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "dev.write")
    data = await read_json_body(request, CREATE_WEBHOOK)
    return respond(201, await create_webhook(runtime, team_id, caller.actor, data))


@router.get("/webhooks", responses=envelope_responses(200))
async def list_webhooks_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """List the team's webhooks, without secrets.

    200 `Webhooks found`, `data = {webhooks, hasNextPage, totalResults}` (webhooks-and-audit.md §1).
    """
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    return respond(200, await list_webhooks(runtime, team_id, parse_page(request.query_params)))


@router.get("/webhooks/{webhookId}", responses=envelope_responses(200, 404))
async def get_webhook_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get one webhook. 200 `Webhook found`; 404 `Webhook not found` (webhooks-and-audit.md §1)."""
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    await authorize(runtime, request, team_id, "dev.read")
    return respond(200, await get_webhook(runtime, team_id, webhook_id))


@router.put("/webhooks/{webhookId}", responses=envelope_responses(200, 404, 413))
async def update_webhook_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Replace a webhook's `url`, `enabledEvents` and `active`.

    200 `Webhook updated`; 400 `Invalid webhook URL`, 404 `Webhook not found`
    (webhooks-and-audit.md §1).
    """
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    data = await read_json_body(request, UPDATE_WEBHOOK)
    return respond(200, await update_webhook(runtime, team_id, caller.actor, webhook_id, data))


@router.post("/webhooks/{webhookId}/rotate-secret", responses=envelope_responses(200, 404))
async def rotate_secret_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Replace a webhook's signing secret; the new one is shown only in this response.

    200 `Webhook secret rotated`; 404 `Webhook not found` (webhooks-and-audit.md §1).
    """
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await rotate_secret(runtime, team_id, caller.actor, webhook_id))


@router.delete("/webhooks/{webhookId}", responses=envelope_responses(200, 404))
async def delete_webhook_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a webhook; `data` is the webhook before deletion.

    200 `Webhook deleted`; 404 `Webhook not found` (webhooks-and-audit.md §1).
    """
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return respond(200, await delete_webhook(runtime, team_id, caller.actor, webhook_id))


@router.get("/webhooks/{webhookId}/events", responses=envelope_responses(200, 404))
async def list_events_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """List a webhook's events with their delivery status, attempts and response code.

    200 `Webhook events found`; 404 `Webhook not found` (webhooks-and-audit.md §1).
    """
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    await authorize(runtime, request, team_id, "dev.read")
    page = parse_page(request.query_params)
    return respond(200, await list_events(runtime, team_id, webhook_id, page))


@router.post(
    "/webhooks/{webhookId}/events/{eventId}/redeliver", responses=envelope_responses(200, 404)
)
async def redeliver_event_endpoint(
    teamId: str, webhookId: str, eventId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Re-queue one event for delivery with its attempts reset; `data` is the event.

    200 `Webhook event requeued`; 404 `Webhook not found` or `Webhook event not found`
    (webhooks-and-audit.md §1, §5.3).
    """
    team_id, webhook_id, event_id = parse_path_ids(
        teamId, [("webhookId", webhookId), ("eventId", eventId)]
    )
    caller = await authorize(runtime, request, team_id, "dev.write")
    body = await redeliver_event(runtime, team_id, caller.actor, webhook_id, event_id)
    return respond(200, body)
