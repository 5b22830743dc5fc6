"""FastAPI glue shared by every router: the runtime dependency and JSON responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from releasegate.kit.envelope import dumps
from releasegate.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def respond(status: int, body: dict[str, object]) -> Response:
    """Send a prebuilt envelope (the same bytes the audit row records)."""
    response = Response(dumps(body), status_code=status, media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
