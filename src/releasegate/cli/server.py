"""Server processes: `releasegate serve`, `migrate` and `worker` (operations.md)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Annotated

import typer

from releasegate.cli.context import load_settings
from releasegate.db.migrate import upgrade_to_head
from releasegate.jobs import JobRunner
from releasegate.kit.logging import configure_logging
from releasegate.runtime import build_runtime
from releasegate.settings import Settings


def migrate() -> None:
    """Apply database migrations (idempotent)."""
    settings = load_settings()
    upgrade_to_head(settings.resolved_database_url)
    typer.echo("migrations applied")


def serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    no_jobs: Annotated[bool, typer.Option("--no-jobs", help="Do not run background jobs")] = False,
) -> None:
    """Serve the HTTP API (and, unless --no-jobs, the background jobs)."""
    import uvicorn

    settings = load_settings()
    if settings.profile == "embedded":
        upgrade_to_head(settings.resolved_database_url)
    if no_jobs:
        os.environ["RELEASEGATE_RUN_JOBS"] = "false"
    # Each worker builds its runtime from the environment: several share rate limits and the
    # replay guard (Redis, or in the embedded profile a SQLite file beside the database).
    os.environ["RELEASEGATE_WORKERS"] = str(workers)
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


def worker() -> None:
    """Run the background jobs (sweeper, webhook delivery) without the HTTP API."""
    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.profile == "embedded":
        upgrade_to_head(settings.resolved_database_url)
    asyncio.run(_run_until_signalled(settings))
    typer.echo("worker stopped", err=True)


async def _run_until_signalled(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runtime = build_runtime(settings)
    jobs = JobRunner(runtime)
    jobs.start()
    try:
        await stop.wait()
    finally:
        await jobs.stop()
        await runtime.close()
