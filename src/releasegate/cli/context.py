"""What every `releasegate` command shares: settings, an async runtime, output, failure."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer

from releasegate.db.migrate import upgrade_to_head
from releasegate.kit.errors import Refusal
from releasegate.kit.ids import parse_uuid
from releasegate.kit.keyring import SecretKeyError
from releasegate.runtime import Runtime, build_runtime, load_keyring
from releasegate.settings import Settings

T = TypeVar("T")


def fail(message: str) -> NoReturn:
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


def team_id_option(value: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        fail("--team must be a UUID")
    return parsed


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
