"""`releasegate audit list` (webhooks-and-audit.md §6.1), against both profiles' databases."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from releasegate.audit import service as audit_service
from releasegate.cli import app
from releasegate.runtime import Runtime
from releasegate.settings import Settings
from tests.fixtures.api import Api, TeamCredentials

CLOCK_START = datetime(2040, 1, 1, tzinfo=UTC)


@pytest.fixture
def cli_env(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str | None]:
    """The test's database, storage and secret key, as the CLI reads them (environment only)."""
    for name in list(os.environ):
        if name.startswith("RELEASEGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    return {
        "RELEASEGATE_DATA_DIR": str(settings.data_dir),
        "RELEASEGATE_DATABASE_URL": settings.database_url,
        "RELEASEGATE_STORAGE_URL": settings.storage_url,
        "RELEASEGATE_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "RELEASEGATE_SECRET_KEY": settings.secret_key,
        "RELEASEGATE_REDIS_URL": settings.redis_url,
        "RELEASEGATE_LOG_LEVEL": "WARNING",
    }


async def settle(runtime: Runtime) -> None:
    """Finish the API's after-response writes (lastSeenAt): a sync test pauses the event loop,
    and a paused write transaction would keep SQLite locked against the CLI."""
    await runtime.drain()


@pytest.fixture
async def catalogue(api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Audit rows one second apart from CLOCK_START: product (+0 s), branch (+1 s), product."""
    issued: list[datetime] = []

    def tick() -> datetime:
        issued.append(CLOCK_START + timedelta(seconds=len(issued)))
        return issued[-1]

    monkeypatch.setattr(audit_service, "utcnow", tick)
    first = await api.create_product("First Product")
    branch = await api.create_branch(first, "beta")
    second = await api.create_product("Second Product")
    await settle(runtime)
    return {"first": first, "branch": branch, "second": second}


@pytest.fixture
async def api_page(api: Api, runtime: Runtime, catalogue: dict[str, str]) -> dict[str, Any]:
    """What GET /audit-logs answers for the catalogue (the CLI must print the same rows)."""
    response = await api.client.get(f"{api.base}/audit-logs", headers=api.team.headers)
    assert response.status_code == 200
    await settle(runtime)
    data: dict[str, Any] = response.json()["data"]
    return data


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, ["audit", "list", *args], env=env)


def run_json(env: dict[str, str | None], *args: str) -> Any:
    result = run(env, *args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert len(result.stdout.splitlines()) == 1
    return json.loads(result.stdout)


def assert_fails(result: Result, message: str) -> None:
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


def test_json_prints_the_same_page_as_the_api(
    cli_env: dict[str, str | None], team: TeamCredentials, api_page: dict[str, Any]
) -> None:
    data = run_json(cli_env, "--team", team.team_id)
    assert data == api_page
    assert data["totalResults"] == 4


def test_text_prints_one_tab_separated_line_per_row(
    cli_env: dict[str, str | None], team: TeamCredentials, api_page: dict[str, Any]
) -> None:
    result = run(cli_env, "--team", team.team_id)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "\t".join(
            (row["createdAt"], row["action"], row["targetType"], row["targetId"], row["source"])
        )
        for row in api_page["auditLogs"]
    ]
    assert result.stderr == ""


def test_action_option_filters_rows(
    cli_env: dict[str, str | None], team: TeamCredentials, catalogue: dict[str, str]
) -> None:
    data = run_json(cli_env, "--team", team.team_id, "--action", "CREATE_PRODUCT")
    assert [(row["action"], row["targetId"]) for row in data["auditLogs"]] == [
        ("CREATE_PRODUCT", catalogue["second"]),
        ("CREATE_PRODUCT", catalogue["first"]),
    ]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 2)


def test_since_option_keeps_rows_at_or_after_it(
    cli_env: dict[str, str | None], team: TeamCredentials, catalogue: dict[str, str]
) -> None:
    data = run_json(cli_env, "--team", team.team_id, "--since", "2040-01-01T00:00:01Z")
    assert [(row["action"], row["targetId"]) for row in data["auditLogs"]] == [
        ("CREATE_PRODUCT", catalogue["second"]),
        ("CREATE_BRANCH", catalogue["branch"]),
    ]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 2)


def test_page_options_page_through_rows(
    cli_env: dict[str, str | None], team: TeamCredentials, api_page: dict[str, Any]
) -> None:
    result = run(cli_env, "--team", team.team_id, "--page-size", "10", "--page", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    data = run_json(cli_env, "--team", team.team_id, "--page-size", "10")
    assert data == api_page


@pytest.fixture
async def eleven_rows(api: Api, runtime: Runtime) -> None:
    """Ten products after the team's CREATE_API_KEY row."""
    for i in range(10):
        await api.create_product(f"Product {i:02d}")
    await settle(runtime)


@pytest.mark.usefixtures("eleven_rows")
def test_text_mentions_the_next_page_on_stderr(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    result = run(cli_env, "--team", team.team_id, "--page-size", "10")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 10
    assert result.stderr == "more rows: --page 2\n"


def test_another_teams_rows_are_never_listed(
    cli_env: dict[str, str | None],
    other_team: TeamCredentials,
    catalogue: dict[str, str],
) -> None:
    data = run_json(cli_env, "--team", other_team.team_id)
    assert [row["action"] for row in data["auditLogs"]] == ["CREATE_API_KEY"]
    assert {row["teamId"] for row in data["auditLogs"]} == {other_team.team_id}
    assert data["totalResults"] == 1


def test_invalid_since_fails(cli_env: dict[str, str | None], team: TeamCredentials) -> None:
    result = run(cli_env, "--team", team.team_id, "--since", "yesterday")
    assert_fails(result, "--since must be an ISO-8601 date-time")


def test_unknown_action_fails(cli_env: dict[str, str | None], team: TeamCredentials) -> None:
    assert_fails(run(cli_env, "--team", team.team_id, "--action", "NOPE"), "unknown action: NOPE")


def test_unsupported_page_size_fails(cli_env: dict[str, str | None], team: TeamCredentials) -> None:
    result = run(cli_env, "--team", team.team_id, "--page-size", "7")
    assert_fails(result, "--page-size must be 10, 25, 50 or 100")


def test_unknown_team_fails(cli_env: dict[str, str | None], team: TeamCredentials) -> None:
    result = run(cli_env, "--team", "00000000-0000-4000-8000-000000000000")
    assert_fails(result, "Team not found")


def test_malformed_team_fails(cli_env: dict[str, str | None]) -> None:
    assert_fails(run(cli_env, "--team", "acme"), "--team must be a UUID")
