"""Rows 22 / 27: devices racing for a license's last slot cannot all get in.

The standing checks run in a read transaction; the success transaction locks the license row
and checks the limit again, so of many new devices arriving at once exactly the limit win.
"""

from __future__ import annotations

import asyncio

from tests.fixtures.api import Api
from tests.fixtures.client_api import ClientApi, create_license, hwids

PARALLEL = 8


async def test_parallel_new_devices_fill_the_hwid_limit_exactly(
    client_api: ClientApi, api: Api
) -> None:
    license_ = await create_license(api, hwidLimit=2)
    bodies = [
        {"licenseKey": license_["licenseKey"], "hardwareIdentifier": f"racing-device-{n:04d}"}
        for n in range(PARALLEL)
    ]
    responses = await asyncio.gather(*(client_api.heartbeat(body) for body in bodies))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 2 + [403] * (PARALLEL - 2), [r.text for r in responses]
    refused = [r.json()["result"] for r in responses if r.status_code == 403]
    assert {(result["code"], result["details"]) for result in refused} == {
        ("HWID_LIMIT_REACHED", "HWID limit reached")
    }
    assert len(await hwids(api, license_["id"])) == 2
