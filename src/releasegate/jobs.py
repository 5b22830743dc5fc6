"""Background jobs: run inside `serve` (unless --no-jobs) and in `releasegate worker`.

Each job runs at start-up and then every `interval` seconds until the runner is stopped. A
failing run is logged and retried on the next tick; it never ends the loop. Later jobs (webhook
delivery) plug in through `default_jobs`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from releasegate.runtime import Runtime
from releasegate.storage.sweeper import sweep_once

log = structlog.get_logger(__name__)

STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Job:
    name: str
    interval: float
    run: Callable[[Runtime], Awaitable[object]]


def default_jobs(runtime: Runtime) -> list[Job]:
    return [Job("sweeper", runtime.settings.sweep_interval, sweep_once)]


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
            try:
                await job.run(self._runtime)
            except Exception as exc:
                log.exception("job_failed", job=job.name, error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=job.interval)
