"""`releasegate worker` and `storage reconcile` (operations.md, files-and-storage.md §9)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pytest
import structlog.testing
from typer.testing import CliRunner, Result

from releasegate.cli import app
from releasegate.jobs import Job, JobRunner
from releasegate.runtime import Runtime

PRODUCTION_URL = "postgresql://postgres@127.0.0.1:5432/test"
ORPHAN = "releases/00000000-0000-4000-8000-000000000001/00000000-0000-4000-8000-000000000002/f"
TWO_DAYS = 2 * 24 * 3600


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded-profile environment: only RELEASEGATE_DATA_DIR is set."""
    for name in list(os.environ):
        if name.startswith("RELEASEGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    data = tmp_path / "data"
    monkeypatch.setenv("RELEASEGATE_DATA_DIR", str(data))
    return data


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def old_file(path: Path, seconds_ago: int = TWO_DAYS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"bytes")
    stamp = time.time() - seconds_ago
    os.utime(path, (stamp, stamp))
    return path


def wait_until_gone(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not path.exists():
            return True
        time.sleep(0.1)
    return False


def test_worker_runs_the_sweeper_and_stops_on_sigterm(data_dir: Path) -> None:
    part = old_file(data_dir / "files" / "releases" / "t" / "r" / ".f.part-0123456789abcdef")
    env = {**os.environ, "RELEASEGATE_SWEEP_INTERVAL": "1", "RELEASEGATE_UPLOAD_GRACE": "60"}
    process = subprocess.Popen(
        [sys.executable, "-m", "releasegate", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_until_gone(part, 20), "the sweeper did not remove the stale .part- file"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert b"worker stopped" in stderr


def test_worker_in_production_without_secret_key_refuses_to_start(data_dir: Path) -> None:
    result = run("worker", env={"RELEASEGATE_DATABASE_URL": PRODUCTION_URL})
    assert result.exit_code == 1
    assert "RELEASEGATE_SECRET_KEY" in result.stderr


def test_reconcile_json_reports_an_old_orphan_and_keeps_it(data_dir: Path) -> None:
    orphan = old_file(data_dir / "files" / ORPHAN)
    result = run("storage", "reconcile", "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert json.loads(result.stdout) == {"orphans": [ORPHAN], "missing": [], "deleted": []}
    assert orphan.exists()


def test_reconcile_delete_json_removes_the_orphan(data_dir: Path) -> None:
    orphan = old_file(data_dir / "files" / ORPHAN)
    result = run("storage", "reconcile", "--delete", "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert json.loads(result.stdout) == {"orphans": [ORPHAN], "missing": [], "deleted": [ORPHAN]}
    assert not orphan.exists()


def test_reconcile_ignores_a_recent_object(data_dir: Path) -> None:
    old_file(data_dir / "files" / ORPHAN, seconds_ago=60)
    result = run("storage", "reconcile", "--json")
    assert json.loads(result.stdout) == {"orphans": [], "missing": [], "deleted": []}


def test_reconcile_text_output_summarises(data_dir: Path) -> None:
    old_file(data_dir / "files" / ORPHAN)
    result = run("storage", "reconcile")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stdout.splitlines() == [
        f"orphan\t{ORPHAN}",
        "1 orphaned, 0 missing, 0 deleted",
    ]


async def test_job_runner_keeps_running_after_a_failing_pass() -> None:
    """The runner behind `worker` and `serve`: a failure is logged and the next tick runs."""
    passes: list[int] = []

    async def flaky(_runtime: Runtime) -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("first pass fails")

    runner = JobRunner(cast(Runtime, object()), [Job("flaky", 0.01, flaky)])
    with structlog.testing.capture_logs() as logs:
        runner.start()
        for _ in range(200):
            if len(passes) >= 3:
                break
            await asyncio.sleep(0.01)
        await runner.stop()
    assert passes[:3] == [0, 1, 2]
    failures = [entry for entry in logs if entry["event"] == "job_failed"]
    assert [(entry["job"], entry["error"], entry["log_level"]) for entry in failures] == [
        ("flaky", "RuntimeError", "error")
    ]


async def test_job_runner_stop_returns_while_a_job_is_sleeping() -> None:
    async def quick(_runtime: Runtime) -> None:
        return None

    runner = JobRunner(cast(Runtime, object()), [Job("quick", 3600, quick)])
    runner.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(runner.stop(), timeout=1)
