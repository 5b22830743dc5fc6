"""Admin subcommands: team, apikey, customer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from releasegate.cli.context import emit_json, fail, load_settings, team_id_option, with_runtime
from releasegate.client.returned_fields import FLAGS, METADATA_KEY_LISTS
from releasegate.customers.service import create_customer, list_customers
from releasegate.kit.ids import parse_uuid
from releasegate.kit.rsa_keys import public_key_base64
from releasegate.kit.validation import parse_rfc3339
from releasegate.runtime import Runtime
from releasegate.teams import service as teams
from releasegate.teams.schemas import TeamLimits, TeamSettings
from releasegate.teams.service import team_exists

team_app = typer.Typer(no_args_is_help=True, help="Teams, their limits and settings")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys")
customer_app = typer.Typer(no_args_is_help=True, help="Customers")


@team_app.command("create")
def team_create(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Create a team with its RSA-2048 key pair and a first API key (shown once)."""
    created = with_runtime(lambda runtime: teams.create_team(runtime, name))
    if as_json:
        emit_json(created.as_json())
        return
    typer.echo(f"team id:  {created.team_id}")
    typer.echo(f"API key:  {created.api_key}   (shown once; store it now)")
    typer.echo("public key:")
    typer.echo(created.public_key)


@team_app.command("rotate-keys")
def team_rotate_keys(
    team: Annotated[str, typer.Option("--team", help="Team id")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: clients embedding the old key stop working")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Replace the team's RSA key pair at once; there is no overlap period."""
    team_id = team_id_option(team)
    if not yes:
        fail(
            "rotating the key pair makes every shipped client that embeds the old public key "
            "stop working at once; re-run with --yes to rotate"
        )
    public_pem = with_runtime(lambda runtime: teams.replace_key_pair(runtime, team_id))
    if as_json:
        emit_json(
            {
                "teamId": str(team_id),
                "publicKey": public_pem,
                "publicKeyBase64": public_key_base64(public_pem),
            }
        )
        return
    typer.echo("Key pair rotated. Clients embedding the old public key no longer work.")
    typer.echo("new public key:")
    typer.echo(public_pem)


def _show(values: dict[str, object], as_json: bool) -> None:
    if as_json:
        emit_json(values)
        return
    for name, value in values.items():
        typer.echo(f"{name}: {json.dumps(value)}")


def _non_negative(name: str, value: int | None) -> None:
    if value is not None and value < 0:
        fail(f"{name} must be 0 (unlimited) or a positive number")


@team_app.command("limits")
def team_limits(
    team: Annotated[str, typer.Option("--team", help="Team id")],
    max_file_size_mb: Annotated[int | None, typer.Option()] = None,
    max_storage_mb: Annotated[int | None, typer.Option()] = None,
    max_releases_per_product: Annotated[int | None, typer.Option()] = None,
    max_branches_per_product: Annotated[int | None, typer.Option()] = None,
    max_products: Annotated[int | None, typer.Option()] = None,
    max_licenses: Annotated[int | None, typer.Option()] = None,
    max_api_keys: Annotated[int | None, typer.Option()] = None,
    max_webhooks: Annotated[int | None, typer.Option()] = None,
    allow_file_uploads: Annotated[
        bool | None, typer.Option("--allow-file-uploads/--no-allow-file-uploads")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show or change a team's limits; 0 means unlimited on every numeric flag."""
    team_id = team_id_option(team)
    changes: dict[str, Any] = {
        name: value
        for name, value in {
            "max_file_size_mb": max_file_size_mb,
            "max_storage_mb": max_storage_mb,
            "max_releases_per_product": max_releases_per_product,
            "max_branches_per_product": max_branches_per_product,
            "max_products": max_products,
            "max_licenses": max_licenses,
            "max_api_keys": max_api_keys,
            "max_webhooks": max_webhooks,
            "allow_file_uploads": allow_file_uploads,
        }.items()
        if value is not None
    }
    for name, value in changes.items():
        if not isinstance(value, bool):
            _non_negative(name, value)
    limits = TeamLimits(**changes)
    values = with_runtime(lambda runtime: teams.update_limits(runtime, team_id, limits))
    _show(values, as_json)


def parse_returned_fields(text: str) -> dict[str, object]:
    """`a,b,licenseMetadataKeys=tier,licenseMetadataKeys=x` → the stored selection."""
    selection: dict[str, object] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, key = item.partition("=")
        if name in METADATA_KEY_LISTS and key:
            keys = selection.setdefault(name, [])
            assert isinstance(keys, list)
            keys.append(key)
        elif name in FLAGS and not key:
            selection[name] = True
        else:
            fail(f"unknown returned field: {item}")
    return selection


@team_app.command("settings")
def team_settings(
    team: Annotated[str, typer.Option("--team", help="Team id")],
    strict_customers: Annotated[
        bool | None, typer.Option("--strict-customers/--no-strict-customers")
    ] = None,
    strict_products: Annotated[
        bool | None, typer.Option("--strict-products/--no-strict-products")
    ] = None,
    strict_releases: Annotated[
        bool | None, typer.Option("--strict-releases/--no-strict-releases")
    ] = None,
    hwid_timeout: Annotated[int | None, typer.Option(help="Minutes; 0 clears")] = None,
    ip_timeout: Annotated[int | None, typer.Option(help="Minutes; 0 clears")] = None,
    returned_fields: Annotated[str | None, typer.Option(help="FIELD,... (empty clears)")] = None,
    allow_classloader: Annotated[
        bool | None, typer.Option("--allow-classloader/--no-allow-classloader")
    ] = None,
    allow_plain_jars: Annotated[
        bool | None, typer.Option("--allow-plain-jars/--no-allow-plain-jars")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show or change a team's client-API settings."""
    team_id = team_id_option(team)
    _non_negative("hwid-timeout", hwid_timeout)
    _non_negative("ip-timeout", ip_timeout)
    changes: dict[str, Any] = {
        name: value
        for name, value in {
            "strict_customers": strict_customers,
            "strict_products": strict_products,
            "strict_releases": strict_releases,
            "allow_classloader": allow_classloader,
            "allow_plain_jars": allow_plain_jars,
        }.items()
        if value is not None
    }
    if hwid_timeout is not None:
        changes["hwid_timeout"] = hwid_timeout or None
    if ip_timeout is not None:
        changes["ip_timeout"] = ip_timeout or None
    if returned_fields is not None:
        changes["returned_fields"] = json.dumps(parse_returned_fields(returned_fields))
    settings = TeamSettings(**changes)
    values = with_runtime(lambda runtime: teams.update_settings(runtime, team_id, settings))
    _show(values, as_json)


def _expiry(text: str | None) -> datetime | None:
    if text is None:
        return None
    parsed = parse_rfc3339(text)
    if parsed is None:
        fail("--expires must be an ISO-8601 date-time or date")
    return parsed


@apikey_app.command("create")
def apikey_create(
    team: Annotated[str, typer.Option("--team", help="Team id")],
    expires: Annotated[str | None, typer.Option("--expires", help="ISO-8601 expiry")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue a new API key (shown once)."""
    team_id = team_id_option(team)
    expires_at = _expiry(expires)
    created = with_runtime(lambda runtime: teams.create_api_key(runtime, team_id, expires_at))
    if as_json:
        emit_json(created.as_json())
        return
    typer.echo(f"key id:  {created.key_id}")
    typer.echo(f"API key: {created.api_key}   (shown once; store it now)")


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: str,
    team: Annotated[str, typer.Option("--team", help="Team id")],
) -> None:
    """Revoke (delete) an API key; effective on the next request."""
    team_id = team_id_option(team)
    key_uuid = team_id_option(key_id)
    with_runtime(lambda runtime: teams.revoke_api_key(runtime, team_id, key_uuid))
    typer.echo("revoked")


@customer_app.command("create")
def customer_create(
    team: Annotated[str, typer.Option("--team", help="Team id")],
    email: Annotated[str | None, typer.Option()] = None,
    full_name: Annotated[str | None, typer.Option()] = None,
    username: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a customer (referenced by licenses' customerIds)."""
    team_id = team_id_option(team)

    async def action(runtime: Runtime) -> str:
        return str(await create_customer(runtime, team_id, email, full_name, username))

    customer_id = with_runtime(action)
    if as_json:
        emit_json({"id": customer_id})
    else:
        typer.echo(customer_id)


@customer_app.command("list")
def customer_list(team: Annotated[str, typer.Option("--team", help="Team id")]) -> None:
    """List a team's customers."""
    team_id = team_id_option(team)
    for row in with_runtime(lambda runtime: list_customers(runtime, team_id)):
        typer.echo(f"{row.id}\t{row.email or ''}\t{row.full_name or ''}\t{row.username or ''}")


@team_app.command("ensure-demo", hidden=True)
def team_ensure_demo() -> None:
    """Used by `make run`: create the demo team once and print its credentials that one time."""
    marker = load_settings().data_dir / "demo-team.id"
    known = parse_uuid(marker.read_text().strip()) if marker.exists() else None
    if known is not None and with_runtime(lambda runtime: team_exists(runtime, known)):
        typer.echo(f"demo team: {known} (its API key was shown when it was created)")
        return
    created = with_runtime(lambda runtime: teams.create_team(runtime, "Demo"))
    marker.write_text(f"{created.team_id}\n")
    typer.echo("Created the demo team. The API key is shown this once; store it now.")
    typer.echo(f"  team id:  {created.team_id}")
    typer.echo(f"  API key:  {created.api_key}")
    typer.echo("  public key:")
    typer.echo(created.public_key)
