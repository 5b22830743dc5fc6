"""GET /metrics (operations.md): request counts and latencies by route template, bytes moved."""

from __future__ import annotations

import httpx

from releasegate.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.multipart import data_part, file_part

TEAM_ROUTE = "/api/v1/dev/teams/{teamId}"


def sample(runtime: Runtime, name: str, **labels: str) -> float | None:
    return runtime.metrics.registry.get_sample_value(name, labels)


def requests_total(runtime: Runtime, method: str, route: str, status: str) -> float | None:
    return sample(
        runtime,
        "releasegate_http_requests_total",
        method=method,
        route=route,
        status=status,
    )


async def create_release_with_file(api: Api, content: bytes) -> str:
    product_id = await api.create_product()
    data = {"version": "1.0.0", "productId": product_id, "status": "PUBLISHED"}
    response = await api.send_form(
        "POST", "/releases", [data_part(data), file_part(content, "app.bin", "text/plain")]
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def test_metrics_is_prometheus_text_without_envelope(
    app_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await app_client.get("/healthz")
    response = await app_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = response.text.splitlines()
    assert (
        'releasegate_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in lines
    )
    assert "releasegate_upload_bytes_total 0.0" in lines
    assert (
        'releasegate_http_request_duration_seconds_count{method="GET",route="/healthz"} 1.0'
        in lines
    )


async def test_successful_create_counts_the_uploaded_bytes(api: Api, runtime: Runtime) -> None:
    assert sample(runtime, "releasegate_upload_bytes_total") == 0.0
    await create_release_with_file(api, b"x" * 1234)
    assert sample(runtime, "releasegate_upload_bytes_total") == 1234.0


async def test_rejected_create_counts_no_upload_bytes(api: Api, runtime: Runtime) -> None:
    data = {"version": "1.0.0", "productId": "not-a-uuid", "status": "PUBLISHED"}
    response = await api.send_form(
        "POST", "/releases", [data_part(data), file_part(b"x" * 1234, "app.bin", "text/plain")]
    )
    assert response.status_code == 400
    assert sample(runtime, "releasegate_upload_bytes_total") == 0.0


async def test_license_key_path_is_labelled_by_template_and_never_exposed(
    api: Api, runtime: Runtime
) -> None:
    license_key = str((await api.create_license())["licenseKey"])
    response = await api.client.get(f"{api.base}/licenses/{license_key}", headers=api.team.headers)
    assert response.status_code == 200
    route = TEAM_ROUTE + "/licenses/{licenseKey}"
    assert requests_total(runtime, "GET", route, "200") == 1.0
    body = (await api.client.get("/metrics")).text
    assert license_key not in body
    assert license_key.split("-")[-1] not in body
    assert api.team.team_id not in body


async def test_unmatched_path_is_labelled_unmatched(api: Api, runtime: Runtime) -> None:
    license_key = str((await api.create_license())["licenseKey"])
    response = await api.client.get(f"/nowhere/{license_key}")
    assert response.status_code == 404
    assert requests_total(runtime, "GET", "<unmatched>", "404") == 1.0
    assert license_key not in (await api.client.get("/metrics")).text


async def test_requests_are_counted_by_status(api: Api, runtime: Runtime) -> None:
    unauthorized = await api.client.post(f"{api.base}/products", content=b"{}")
    assert unauthorized.status_code == 401
    await api.create_product()
    route = TEAM_ROUTE + "/products"
    assert requests_total(runtime, "POST", route, "401") == 1.0
    assert requests_total(runtime, "POST", route, "201") == 1.0
    assert (
        sample(
            runtime,
            "releasegate_http_request_duration_seconds_count",
            method="POST",
            route=route,
        )
        == 2.0
    )


async def test_ranged_download_counts_only_the_bytes_sent(api: Api, runtime: Runtime) -> None:
    release_id = await create_release_with_file(api, b"0123456789abcdefghij")
    response = await api.client.get(
        f"{api.base}/releases/{release_id}/file", headers={**api.team.headers, "Range": "bytes=2-5"}
    )
    assert response.status_code == 206
    assert response.content == b"2345"
    assert sample(runtime, "releasegate_download_bytes_total", kind="raw") == 4.0


async def test_whole_download_counts_the_file_size(api: Api, runtime: Runtime) -> None:
    release_id = await create_release_with_file(api, b"x" * 1234)
    response = await api.client.get(
        f"{api.base}/releases/{release_id}/file", headers=api.team.headers
    )
    assert response.status_code == 200
    assert sample(runtime, "releasegate_download_bytes_total", kind="raw") == 1234.0
