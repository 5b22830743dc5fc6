"""Migrations: from empty to head on both backends, no drift, invariants' indexes present."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from releasegate.db.migrate import alembic_config, upgrade_to_head
from releasegate.db.session import Database
from releasegate.releases.version_order import version_sort_key

INVARIANT_INDEXES = {"uq_releases_version", "uq_releases_latest", "uq_products_team_id_name"}


async def _index_names(url: str) -> set[str]:
    database = Database(url)
    try:
        async with database.read() as session:
            if database.is_sqlite:
                rows = await session.execute(
                    sa.text("SELECT name FROM sqlite_master WHERE type = 'index'")
                )
            else:
                rows = await session.execute(sa.text("SELECT indexname FROM pg_indexes"))
            return {str(row[0]) for row in rows}
    finally:
        await database.dispose()


async def _execute(
    url: str, *statements: tuple[str, dict[str, object]]
) -> list[tuple[object, ...]]:
    database = Database(url)
    try:
        async with database.write() as session:
            result: list[tuple[object, ...]] = []
            for sql, params in statements:
                rows = await session.execute(sa.text(sql), params)
                if rows.returns_rows:
                    result = [tuple(row) for row in rows]
            return result
    finally:
        await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, profile_settings: dict[str, object]
) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    return str(profile_settings["database_url"]).replace("postgresql://", "postgresql+asyncpg://")


@pytest.fixture
def profile() -> str:
    return "production"


# SQLite cannot reflect expression indexes, so alembic check skips them (and says so); the
# index-name assertion below covers them instead.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_upgrade_from_empty_is_idempotent_and_has_no_drift(database_url: str) -> None:
    if "postgresql" in database_url:
        asyncio.run(
            _execute(database_url, ("DROP SCHEMA public CASCADE", {}), ("CREATE SCHEMA public", {}))
        )
    upgrade_to_head(database_url)
    upgrade_to_head(database_url)
    command.check(alembic_config(database_url))
    assert asyncio.run(_index_names(database_url)) >= INVARIANT_INDEXES


def test_version_sort_key_backfill(database_url: str) -> None:
    if "postgresql" in database_url:
        asyncio.run(
            _execute(database_url, ("DROP SCHEMA public CASCADE", {}), ("CREATE SCHEMA public", {}))
        )
    command.upgrade(alembic_config(database_url), "0001")
    team, product, release = (uuid.uuid4() for _ in range(3))
    as_id = (lambda u: u.hex) if "sqlite" in database_url else (lambda u: u)
    asyncio.run(
        _execute(
            database_url,
            (
                "INSERT INTO teams (id, name, max_storage_mb, max_releases_per_product,"
                " max_branches_per_product, max_products, max_licenses, max_api_keys,"
                " max_webhooks, allow_file_uploads, allow_classloader, allow_plain_jars,"
                " strict_customers, strict_products, strict_releases, returned_fields,"
                " created_at, updated_at) VALUES (:id, 't', 0, 100, 10, 0, 0, 10, 20, true,"
                " true, false, false, false, false, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                {"id": as_id(team)},
            ),
            (
                "INSERT INTO products (id, team_id, name, created_at, updated_at)"
                " VALUES (:id, :team, 'p', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                {"id": as_id(product), "team": as_id(team)},
            ),
            (
                "INSERT INTO releases (id, team_id, product_id, version, status, latest,"
                " created_at, updated_at) VALUES (:id, :team, :product, '1.10.0-rc.1',"
                " 'DRAFT', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                {"id": as_id(release), "team": as_id(team), "product": as_id(product)},
            ),
        )
    )
    upgrade_to_head(database_url)
    rows = asyncio.run(_execute(database_url, ("SELECT version_sort_key FROM releases", {})))
    assert rows == [(version_sort_key("1.10.0-rc.1"),)]
    assert asyncio.run(_index_names(database_url)) >= INVARIANT_INDEXES
