"""Shared fixtures: a migrated database per test, the app behind an in-process client, and
helpers that build state through the API (never through raw SQL)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from releasegate.app import create_app
from releasegate.db.migrate import upgrade_to_head
from releasegate.runtime import Runtime, build_runtime
from releasegate.settings import Settings
from releasegate.teams.service import create_team
from tests.fixtures.api import Api, TeamCredentials

pytest_plugins = ["tests.fixtures.profiles", "tests.fixtures.state"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test copies it (migrations run once)."""
    path = tmp_path_factory.mktemp("template") / "releasegate.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Tests override settings by redefining this fixture or via `configure` below."""
    return {}


@pytest.fixture
def settings(
    profile_settings: dict[str, object], settings_overrides: dict[str, object]
) -> Settings:
    return Settings(**{**profile_settings, **settings_overrides})  # type: ignore[arg-type]


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    built = build_runtime(settings)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def app_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


@pytest.fixture
async def team(runtime: Runtime) -> TeamCredentials:
    created = await create_team(runtime, "Acme")
    return TeamCredentials(team_id=str(created.team_id), api_key=created.api_key)


@pytest.fixture
async def other_team(runtime: Runtime) -> TeamCredentials:
    created = await create_team(runtime, "Other")
    return TeamCredentials(team_id=str(created.team_id), api_key=created.api_key)


@pytest.fixture
def api(app_client: httpx.AsyncClient, team: TeamCredentials) -> Api:
    return Api(app_client, team)


def copy_template(template: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return target
