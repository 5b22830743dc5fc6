"""The OpenAPI document describes every operation (from the endpoint docstrings)."""

from __future__ import annotations

from pathlib import Path

from releasegate.app import create_app
from releasegate.settings import Settings


def test_every_operation_has_a_description(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    paths = app.openapi()["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if not str(operation.get("description", "")).strip()
    ]
    assert paths
    assert not missing, f"operations without a description: {missing}"
