"""`releasegate worker`: only the background jobs, until SIGINT or SIGTERM (operations.md)."""

from __future__ import annotations

import asyncio
import signal

import typer

from releasegate.cli.main import app, load_settings
from releasegate.db.migrate import upgrade_to_head
from releasegate.jobs import JobRunner
from releasegate.kit.logging import configure_logging
from releasegate.runtime import build_runtime
from releasegate.settings import Settings


@app.command()
def worker() -> None:
    """Run the background jobs (sweeper) without the HTTP API."""
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
