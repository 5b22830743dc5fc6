"""create_app(settings) -> FastAPI. Routers are mounted here and nowhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from releasegate import __version__
from releasegate.audit.endpoints import router as audit_router
from releasegate.branches.endpoints import router as branches_router
from releasegate.client.endpoints import router as client_router
from releasegate.client.responses import CLIENT_PATH_PREFIX, RequestStatus, client_response
from releasegate.client.responses import refusal_response as client_refusal_response
from releasegate.health import router as health_router
from releasegate.jobs import JobRunner
from releasegate.kit.envelope import json_response, refusal_response
from releasegate.kit.errors import Refusal
from releasegate.kit.logging import configure_logging
from releasegate.kit.request_context import RequestContextMiddleware
from releasegate.licenses.device_endpoints import router as license_devices_router
from releasegate.licenses.endpoints import router as licenses_router
from releasegate.products.endpoints import router as products_router
from releasegate.releases.endpoints import router as releases_router
from releasegate.runtime import Runtime, build_runtime
from releasegate.settings import Settings
from releasegate.webhooks.endpoints import router as webhooks_router


async def _refusal(request: Request, exc: Exception) -> Response:
    """A refusal in its surface's envelope: the client API's (with `code`) or the dev API's."""
    assert isinstance(exc, Refusal)
    if request.url.path.startswith(CLIENT_PATH_PREFIX):
        return client_refusal_response(exc)
    return refusal_response(exc)


def _allowed_methods(request: Request) -> str:
    """Every method served at this path (Starlette reports only the first matching route's)."""
    methods = [
        method
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(methods)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(CLIENT_PATH_PREFIX):
        return _client_http_error(request, exc)
    if exc.status_code == 405:
        return json_response(405, None, "Method not allowed", {"Allow": _allowed_methods(request)})
    if exc.status_code == 404:
        return json_response(404, None, "Not found")
    return json_response(exc.status_code, None, str(exc.detail))


def _client_http_error(request: Request, exc: HTTPException) -> Response:
    """Unknown client paths and methods still answer the client envelope, with a code."""
    if exc.status_code == 405:
        return client_response(
            405,
            RequestStatus.BAD_REQUEST,
            "Method not allowed",
            headers={"Allow": _allowed_methods(request)},
        )
    details = "Not found" if exc.status_code == 404 else str(exc.detail)
    return client_response(exc.status_code, RequestStatus.BAD_REQUEST, details)


async def _validation_error(_request: Request, _exc: Exception) -> Response:
    return json_response(400, None, "Invalid request")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the ASGI app; `runtime` may be injected (tests), else it is built at start-up."""
    settings = settings or (runtime.settings if runtime else Settings())
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        app.state.runtime = runtime or build_runtime(settings)
        jobs = JobRunner(app.state.runtime) if app.state.runtime.settings.run_jobs else None
        if jobs is not None:
            jobs.start()
        try:
            yield
        finally:
            if jobs is not None:
                await jobs.stop()
            if owned:
                await app.state.runtime.close()

    app = FastAPI(
        title="releasegate",
        version=__version__,
        description="Release distribution server, wire-compatible with Lukittu's release API.",
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # unknown paths are 404, never redirects
    if runtime is not None:
        app.state.runtime = runtime
    app.add_exception_handler(Refusal, _refusal)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for router in (
        health_router,
        releases_router,
        products_router,
        branches_router,
        licenses_router,
        license_devices_router,
        audit_router,
        webhooks_router,
        client_router,
    ):
        app.include_router(router)
    app.add_middleware(RequestContextMiddleware)
    app.openapi = lambda: _openapi_without_422(app)  # type: ignore[method-assign]
    return app


def _openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """Path parameters are validated by our own checks (C1/C2), never FastAPI's 422."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        components = schema.get("components", {}).get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema
