"""Background jobs: run inside `serve` (unless --no-jobs) and in `releasegate worker`.

Each job runs at start-up and then every `interval` seconds until the runner is stopped; a job
with a `wakeup` event also runs as soon as that event is set (webhook delivery, woken after a
commit that created events). A failing run is logged and retried on the next tick; it never ends
the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from releasegate.files.sweeper import sweep_once
from releasegate.runtime import Runtime
from releasegate.webhooks.delivery import delivery_pass

log = structlog.get_logger(__name__)

STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Job:
    name: str
    interval: float
    run: Callable[[Runtime], Awaitable[object]]
    wakeup: asyncio.Event | None = None


def default_jobs(runtime: Runtime) -> list[Job]:
    settings = runtime.settings
    return [
        Job("sweeper", settings.sweep_interval, sweep_once),
        Job(
            "webhook-delivery",
            settings.webhook_poll_interval,
            delivery_pass,
            wakeup=runtime.webhook_wakeup,
        ),
    ]


class JobRunner:
    """Owns one task per job; `stop()` lets a running pass finish (up to STOP_TIMEOUT)."""

    def __init__(self, runtime: Runtime, jobs: list[Job] | None = None) -> None:
        self._runtime = runtime
        self._jobs = default_jobs(runtime) if jobs is None else jobs
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._loop(job), name=job.name) for job in self._jobs]

    async def stop(self) -> None:
        self._stopping.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _loop(self, job: Job) -> None:
        while not self._stopping.is_set():
            if job.wakeup is not None:
                job.wakeup.clear()  # before the run: a wake-up during it is kept for the next
            try:
                await job.run(self._runtime)
            except Exception as exc:
                log.exception("job_failed", job=job.name, error=type(exc).__name__)
            await self._pause(job)

    async def _pause(self, job: Job) -> None:
        """Until the next tick, the runner's stop, or the job's wake-up, whichever is first."""
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if job.wakeup is not None:
            waits.append(asyncio.ensure_future(job.wakeup.wait()))
        try:
            await asyncio.wait(waits, timeout=job.interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
