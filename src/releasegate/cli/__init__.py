"""The `releasegate` command."""

from releasegate.cli.main import app, main

__all__ = ["app", "main"]
