"""Secrets never reach the logs (security-and-limits.md §6)."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.api import Api


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"log_level": "INFO"}


async def test_logs_hold_no_api_key_license_key_or_bodies(
    api: Api, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    product_id = await api.create_product()
    license_ = await api.create_license([product_id])
    await api.client.get(
        f"{api.base}/licenses/{license_['licenseKey']}?search={license_['licenseKey']}",
        headers=api.team.headers,
    )

    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("releasegate.changes.record", explode)
    response = await api.create_release(
        {"version": "1.0.0", "productId": product_id, "status": "PUBLISHED"},
        b"SECRET-FILE-BYTES",
    )
    assert response.status_code == 500
    assert response.json()["result"]["details"] == "Internal server error"

    logged = capfd.readouterr().err
    assert "unhandled_exception" in logged
    assert api.team.api_key not in logged
    assert api.team.api_key[3:20] not in logged
    assert license_["licenseKey"] not in logged
    assert "SECRET-FILE-BYTES" not in logged
    entries = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    routes = [entry.get("route") for entry in entries if entry.get("event") == "request"]
    assert "/api/v1/dev/teams/{teamId}/licenses/{licenseKey}" in routes
