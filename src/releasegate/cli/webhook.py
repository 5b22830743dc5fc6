"""`releasegate webhook …`: manage a team's webhooks through the same service functions as the
dev API (webhooks-and-audit.md §1), audited with source CLI."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar, cast

import typer

from releasegate.auth.actors import CLI_ACTOR
from releasegate.cli.context import emit_json, fail, team_id_option, with_runtime
from releasegate.kit.ids import parse_uuid
from releasegate.kit.pagination import PAGE_SIZES, PageRequest, page_data
from releasegate.kit.validation import Object, validate
from releasegate.runtime import Runtime
from releasegate.teams.errors import TeamNotFound
from releasegate.teams.service import team_exists
from releasegate.webhooks import service
from releasegate.webhooks.schemas import CREATE_WEBHOOK, UPDATE_WEBHOOK, WebhookChanges
from releasegate.webhooks.views import webhook_event_json, webhook_json

webhook_app = typer.Typer(no_args_is_help=True, help="Webhooks and their events")

T = TypeVar("T")
TeamOption = Annotated[str, typer.Option("--team", help="Team id")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's `data` as JSON")]
PageOption = Annotated[int, typer.Option(min=1, max=10**9, help="Page number")]
PageSizeOption = Annotated[int, typer.Option(help="10, 25, 50 or 100")]
OPTION_NAMES = {"url": "--url", "enabledEvents": "--events", "active": "--active/--inactive"}


def _uuid_argument(name: str, value: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        fail(f"{name} must be a UUID")
    assert parsed is not None
    return parsed


def _page(page: int, page_size: int) -> PageRequest:
    if page_size not in PAGE_SIZES:
        fail("--page-size must be 10, 25, 50 or 100")
    return PageRequest(page=page, page_size=page_size, descending=True)


def _events(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _checked(schema: Object, body: Mapping[str, object]) -> WebhookChanges:
    """The body as the API would accept it; the first issue, named by its option, otherwise."""
    cleaned, issues = validate(schema, body)
    if cleaned is None:
        issue = issues[0]
        option = OPTION_NAMES.get(str(issue.path[0])) if issue.path else None
        fail(f"{option}: {issue.message}" if option else issue.message)
    assert cleaned is not None
    return WebhookChanges.from_body(cleaned)


def _data(data: object) -> dict[str, Any]:
    """A webhook answer's `data` (an object for every webhook response)."""
    return cast(dict[str, Any], data)


def _in_team(team_id: uuid.UUID, action: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run `action` after checking that the team exists (otherwise: `Team not found`)."""

    async def run(runtime: Runtime) -> T:
        if not await team_exists(runtime, team_id):
            raise TeamNotFound()
        return await action(runtime)

    return with_runtime(run)


def _webhook_line(webhook: dict[str, Any]) -> str:
    state = "active" if webhook["active"] else "inactive"
    return "\t".join((webhook["id"], state, webhook["url"], ",".join(webhook["enabledEvents"])))


def _show_with_secret(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    typer.echo(_webhook_line(data))
    typer.echo(f"secret: {data['secret']}   (shown once; store it now)")
    typer.echo(f"whsec:  {data['secretWhsec']}")


@webhook_app.command("create")
def webhook_create(
    team: TeamOption,
    url: Annotated[str, typer.Option("--url", help="Absolute https:// URL")],
    events: Annotated[str, typer.Option("--events", help="Event types, e.g. A,B")],
    inactive: Annotated[bool, typer.Option("--inactive", help="Create it inactive")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a webhook; its signing secret is shown this once."""
    team_id = team_id_option(team)
    body = {"url": url, "enabledEvents": _events(events), "active": not inactive}
    data = _checked(CREATE_WEBHOOK, body)
    created = with_runtime(
        lambda runtime: service.create_webhook(runtime, team_id, CLI_ACTOR, data)
    )
    _show_with_secret(_data(created.data), as_json)


@webhook_app.command("list")
def webhook_list(
    team: TeamOption,
    page: PageOption = 1,
    page_size: PageSizeOption = 25,
    as_json: JsonOption = False,
) -> None:
    """List a team's webhooks, newest first: id, state, URL, events (tab-separated)."""
    team_id = team_id_option(team)
    request = _page(page, page_size)
    found = _in_team(team_id, lambda runtime: service.list_webhooks(runtime, team_id, request))
    data = _data(page_data("webhooks", found, webhook_json))
    if as_json:
        emit_json(data)
        return
    for webhook in data["webhooks"]:
        typer.echo(_webhook_line(webhook))
    if data["hasNextPage"]:
        typer.echo(f"more rows: --page {page + 1}", err=True)


@webhook_app.command("update")
def webhook_update(
    team: TeamOption,
    webhook_id: Annotated[str, typer.Argument(metavar="WEBHOOK_ID")],
    url: Annotated[str | None, typer.Option("--url", help="New URL")] = None,
    events: Annotated[str | None, typer.Option("--events", help="New event types")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a webhook's URL, events or state; what is not given is kept."""
    team_id = team_id_option(team)
    webhook_uuid = _uuid_argument("WEBHOOK_ID", webhook_id)
    given = {
        name: value
        for name, value in (
            ("url", url),
            ("enabledEvents", None if events is None else _events(events)),
            ("active", active),
        )
        if value is not None
    }
    if not given:
        fail("nothing to change: give --url, --events, --active or --inactive")
    data = _checked(Object({name: UPDATE_WEBHOOK.fields[name] for name in given}), given)
    body = _in_team(
        team_id,
        lambda runtime: service.update_webhook(runtime, team_id, CLI_ACTOR, webhook_uuid, data),
    )
    if as_json:
        emit_json(_data(body.data))
    else:
        typer.echo(_webhook_line(_data(body.data)))


@webhook_app.command("delete")
def webhook_delete(
    team: TeamOption,
    webhook_id: Annotated[str, typer.Argument(metavar="WEBHOOK_ID")],
    as_json: JsonOption = False,
) -> None:
    """Delete a webhook and all its events."""
    team_id = team_id_option(team)
    webhook_uuid = _uuid_argument("WEBHOOK_ID", webhook_id)
    body = _in_team(
        team_id, lambda runtime: service.delete_webhook(runtime, team_id, CLI_ACTOR, webhook_uuid)
    )
    if as_json:
        emit_json(_data(body.data))
    else:
        typer.echo("deleted")


@webhook_app.command("rotate-secret")
def webhook_rotate_secret(
    team: TeamOption,
    webhook_id: Annotated[str, typer.Argument(metavar="WEBHOOK_ID")],
    as_json: JsonOption = False,
) -> None:
    """Replace a webhook's signing secret; the new one is shown this once."""
    team_id = team_id_option(team)
    webhook_uuid = _uuid_argument("WEBHOOK_ID", webhook_id)
    body = _in_team(
        team_id, lambda runtime: service.rotate_secret(runtime, team_id, CLI_ACTOR, webhook_uuid)
    )
    _show_with_secret(_data(body.data), as_json)


@webhook_app.command("events")
def webhook_events(
    team: TeamOption,
    webhook_id: Annotated[str, typer.Argument(metavar="WEBHOOK_ID")],
    page: PageOption = 1,
    page_size: PageSizeOption = 25,
    as_json: JsonOption = False,
) -> None:
    """List a webhook's events, newest first: createdAt, id, type, status, attempts, last code."""
    team_id = team_id_option(team)
    webhook_uuid = _uuid_argument("WEBHOOK_ID", webhook_id)
    request = _page(page, page_size)
    found = _in_team(
        team_id, lambda runtime: service.list_events(runtime, team_id, webhook_uuid, request)
    )
    data = _data(page_data("events", found, webhook_event_json))
    if as_json:
        emit_json(data)
        return
    for event in data["events"]:
        fields = (
            event["createdAt"],
            event["id"],
            event["eventType"],
            event["status"],
            event["attempts"],
            event["lastResponseCode"],
        )
        typer.echo("\t".join("-" if value is None else str(value) for value in fields))
    if data["hasNextPage"]:
        typer.echo(f"more rows: --page {page + 1}", err=True)


@webhook_app.command("redeliver")
def webhook_redeliver(
    team: TeamOption,
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID")],
    as_json: JsonOption = False,
) -> None:
    """Queue one event again, as new: PENDING, no attempts, due now."""
    team_id = team_id_option(team)
    event_uuid = _uuid_argument("EVENT_ID", event_id)

    async def redeliver(runtime: Runtime) -> object:
        webhook_uuid = await service.webhook_of_event(runtime, team_id, event_uuid)
        reply = await service.redeliver_event(runtime, team_id, CLI_ACTOR, webhook_uuid, event_uuid)
        return reply.data

    data = _in_team(team_id, redeliver)
    if as_json:
        emit_json(_data(data))
    else:
        typer.echo(f"requeued {event_uuid}")
