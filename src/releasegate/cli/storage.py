"""`releasegate storage reconcile`: objects versus ReleaseFile rows (files-and-storage.md §9)."""

from __future__ import annotations

from typing import Annotated

import typer

from releasegate.cli.context import emit_json, with_runtime
from releasegate.files.reconcile import ReconcileReport, reconcile

storage_app = typer.Typer(no_args_is_help=True, help="Object storage maintenance")


@storage_app.command("reconcile")
def storage_reconcile(
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete the orphaned objects it reports")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Report orphaned objects (older than 24 h) and ReleaseFile rows whose object is missing."""
    report: ReconcileReport = with_runtime(lambda runtime: reconcile(runtime, delete=delete))
    if as_json:
        emit_json(report.to_json())
        return
    for key in report.orphans:
        typer.echo(f"orphan\t{key}")
    for key in report.missing:
        typer.echo(f"missing\t{key}")
    for key in report.deleted:
        typer.echo(f"deleted\t{key}")
    typer.echo(
        f"{len(report.orphans)} orphaned, {len(report.missing)} missing, "
        f"{len(report.deleted)} deleted"
    )
