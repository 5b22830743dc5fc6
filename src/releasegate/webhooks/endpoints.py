"""Webhooks (Extension, webhooks-and-audit.md §1): manage webhooks, list and redeliver events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from releasegate.auth.guard import authorize, parse_path_ids
from releasegate.kit.envelope import ok
from releasegate.kit.json_body import read_json_body
from releasegate.kit.openapi import envelope_responses
from releasegate.kit.pagination import page_data, parse_page
from releasegate.runtime import RuntimeDep
from releasegate.webhooks import service
from releasegate.webhooks.schemas import CREATE_WEBHOOK, UPDATE_WEBHOOK, WebhookChanges
from releasegate.webhooks.views import webhook_event_json, webhook_json

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["webhooks"])


@router.post("/webhooks", status_code=201, responses=envelope_responses(201, 403, 413))
async def create_webhook_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """Create a webhook for the listed event types; its signing secret is shown only here.

    201 `Webhook created`; 400 `Invalid webhook URL`, 403 `Max webhooks reached`
    (webhooks-and-audit.md §1).
    """
    (team_id,) = parse_path_ids(teamId, [])
    caller = await authorize(runtime, request, team_id, "dev.write")
    changes = WebhookChanges.from_body(await read_json_body(request, CREATE_WEBHOOK))
    return (await service.create_webhook(runtime, team_id, caller.actor, changes)).response(201)


@router.get("/webhooks", responses=envelope_responses(200))
async def list_webhooks_endpoint(teamId: str, request: Request, runtime: RuntimeDep) -> Response:
    """List the team's webhooks, without secrets.

    200 `Webhooks found`, `data = {webhooks, hasNextPage, totalResults}` (webhooks-and-audit.md §1).
    """
    (team_id,) = parse_path_ids(teamId, [])
    await authorize(runtime, request, team_id, "dev.read")
    page = await service.list_webhooks(runtime, team_id, parse_page(request.query_params))
    return ok(page_data("webhooks", page, webhook_json), "Webhooks found")


@router.get("/webhooks/{webhookId}", responses=envelope_responses(200, 404))
async def get_webhook_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Get one webhook. 200 `Webhook found`; 404 `Webhook not found` (webhooks-and-audit.md §1)."""
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    await authorize(runtime, request, team_id, "dev.read")
    webhook = await service.get_webhook(runtime, team_id, webhook_id)
    return ok(webhook_json(webhook), "Webhook found")


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
    changes = WebhookChanges.from_body(await read_json_body(request, UPDATE_WEBHOOK))
    reply = await service.update_webhook(runtime, team_id, caller.actor, webhook_id, changes)
    return reply.response()


@router.post("/webhooks/{webhookId}/rotate-secret", responses=envelope_responses(200, 404))
async def rotate_secret_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Replace a webhook's signing secret; the new one is shown only in this response.

    200 `Webhook secret rotated`; 404 `Webhook not found` (webhooks-and-audit.md §1).
    """
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await service.rotate_secret(runtime, team_id, caller.actor, webhook_id)).response()


@router.delete("/webhooks/{webhookId}", responses=envelope_responses(200, 404))
async def delete_webhook_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Delete a webhook; `data` is the webhook before deletion.

    200 `Webhook deleted`; 404 `Webhook not found` (webhooks-and-audit.md §1).
    """
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    caller = await authorize(runtime, request, team_id, "dev.write")
    return (await service.delete_webhook(runtime, team_id, caller.actor, webhook_id)).response()


@router.get("/webhooks/{webhookId}/events", responses=envelope_responses(200, 404))
async def list_events_endpoint(
    teamId: str, webhookId: str, request: Request, runtime: RuntimeDep
) -> Response:
    """List a webhook's events with their delivery status, attempts and response code.

    200 `Webhook events found`; 404 `Webhook not found` (webhooks-and-audit.md §1).
    """
    team_id, webhook_id = parse_path_ids(teamId, [("webhookId", webhookId)])
    await authorize(runtime, request, team_id, "dev.read")
    page = await service.list_events(runtime, team_id, webhook_id, parse_page(request.query_params))
    return ok(page_data("events", page, webhook_event_json), "Webhook events found")


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
    reply = await service.redeliver_event(runtime, team_id, caller.actor, webhook_id, event_id)
    return reply.response()
