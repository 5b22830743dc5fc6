"""Entry point: `releasegate serve | migrate | team | apikey | customer`."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from releasegate.db.migrate import upgrade_to_head
from releasegate.kit.errors import Refusal
from releasegate.kit.ids import parse_uuid
from releasegate.kit.keyring import SecretKeyError
from releasegate.runtime import Runtime, build_runtime, load_keyring
from releasegate.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="releasegate server and admin")
team_app = typer.Typer(no_args_is_help=True, help="Teams, their limits and settings")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys")
customer_app = typer.Typer(no_args_is_help=True, help="Customers")
app.add_typer(team_app, name="team")
app.add_typer(apikey_app, name="apikey")
app.add_typer(customer_app, name="customer")

T = TypeVar("T")


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def load_settings() -> Settings:
    try:
        settings = Settings()
        load_keyring(settings)  # production refuses to start without RELEASEGATE_SECRET_KEY
    except SecretKeyError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"invalid configuration: {exc}")
    return settings


def with_runtime(action: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run one async admin action against a migrated database."""
    settings = load_settings()
    upgrade_to_head(settings.resolved_database_url)

    async def run() -> T:
        runtime = build_runtime(settings)
        try:
            return await action(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except Refusal as exc:
        fail(exc.details)
    except LookupError as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


def team_id_option(value: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        fail("--team must be a UUID")
    assert parsed is not None
    return parsed


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")


@app.command()
def migrate() -> None:
    """Apply database migrations (idempotent)."""
    settings = load_settings()
    upgrade_to_head(settings.resolved_database_url)
    typer.echo("migrations applied")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    no_jobs: Annotated[bool, typer.Option("--no-jobs", help="Do not run background jobs")] = False,
) -> None:
    """Serve the HTTP API (and, unless --no-jobs, the background jobs)."""
    import os

    import uvicorn

    settings = load_settings()
    if settings.profile == "embedded":
        upgrade_to_head(settings.resolved_database_url)
    if no_jobs:
        os.environ["RELEASEGATE_RUN_JOBS"] = "false"
    uvicorn.run(
        "releasegate.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our own access log redacts secrets
        proxy_headers=False,  # forwarded headers are interpreted only by kit/client_ip
        server_header=False,
        log_config=None,
    )


from releasegate.cli import admin as _admin  # noqa: E402,F401  (registers subcommands)
from releasegate.cli import audit as _audit  # noqa: E402,F401  (registers subcommands)
from releasegate.cli import fetch as _fetch  # noqa: E402,F401  (registers subcommands)
from releasegate.cli import storage, worker  # noqa: E402,F401  (registers subcommands)
from releasegate.cli import webhook as _webhook  # noqa: E402,F401  (registers subcommands)


def main() -> None:
    app()
