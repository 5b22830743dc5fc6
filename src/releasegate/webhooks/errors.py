"""Refusals of the webhook endpoints (webhooks-and-audit.md §1)."""

from __future__ import annotations

from releasegate.kit.errors import Forbidden, Invalid, NotFound


class WebhookNotFound(NotFound):
    text = "Webhook not found"


class WebhookEventNotFound(NotFound):
    text = "Webhook event not found"


class InvalidWebhookUrl(Invalid):
    text = "Invalid webhook URL"


class MaxWebhooksReached(Forbidden):
    text = "Max webhooks reached"
