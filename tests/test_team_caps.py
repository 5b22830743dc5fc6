"""Per-team caps hold under concurrency: the count-then-insert runs under the team row lock."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from releasegate.db.base import Base
from releasegate.licenses.models import License
from releasegate.products.models import Product
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.teams import set_limits

PARALLEL = 10
CAP = 3


async def set_limit(runtime: Runtime, team: TeamCredentials, name: str) -> None:
    await set_limits(runtime, team.team_id, **{name: CAP})


async def rows(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.database.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_parallel_product_creates_never_pass_max_products(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_limit(runtime, team, "max_products")
    responses = await asyncio.gather(
        *(api.post_json("/products", {"name": f"Product {n}"}) for n in range(PARALLEL))
    )
    assert sorted(r.status_code for r in responses) == [201] * CAP + [403] * (PARALLEL - CAP)
    assert {r.json()["result"]["details"] for r in responses if r.status_code == 403} == {
        "Max products reached"
    }
    assert await rows(runtime, Product) == CAP


async def test_parallel_license_creates_never_pass_max_licenses(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_limit(runtime, team, "max_licenses")
    product_id = await api.create_product()
    body = {
        "expirationType": "NEVER",
        "expirationStart": None,
        "expirationDate": None,
        "expirationDays": None,
        "suspended": False,
        "productIds": [product_id],
        "customerIds": [],
        "hwidLimit": None,
        "ipLimit": None,
        "metadata": [],
    }
    responses = await asyncio.gather(*(api.post_json("/licenses", body) for _ in range(PARALLEL)))
    assert sorted(r.status_code for r in responses) == [200] * CAP + [403] * (PARALLEL - CAP)
    assert await rows(runtime, License) == CAP
