"""`releasegate audit list`: a team's audit log, newest first (webhooks-and-audit.md §6.1)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from releasegate.audit.views import AUDIT_ACTIONS, audit_filter, audit_log_json, audit_log_page
from releasegate.cli.context import emit_json, fail, team_id_option, with_runtime
from releasegate.kit.pagination import PAGE_SIZES, PageRequest, page_data
from releasegate.kit.validation import parse_rfc3339
from releasegate.runtime import Runtime
from releasegate.teams.errors import TeamNotFound
from releasegate.teams.service import team_exists

audit_app = typer.Typer(no_args_is_help=True, help="The audit log")


def _row_line(row: dict[str, Any]) -> str:
    fields = (row["createdAt"], row["action"], row["targetType"], row["targetId"], row["source"])
    return "\t".join("-" if value is None else str(value) for value in fields)


@audit_app.command("list")
def audit_list(
    team: Annotated[str, typer.Option("--team", help="Team id")],
    since: Annotated[str | None, typer.Option(help="ISO-8601 date-time")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. DELETE_RELEASE")] = None,
    page: Annotated[int, typer.Option(min=1, max=10**9, help="Page number")] = 1,
    page_size: Annotated[int, typer.Option(help="10, 25, 50 or 100")] = 25,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """List a team's audit rows, newest first, one page at a time."""
    team_id = team_id_option(team)
    if since is not None and parse_rfc3339(since) is None:
        fail("--since must be an ISO-8601 date-time")
    if action is not None and action not in AUDIT_ACTIONS:
        fail(f"unknown action: {action}")
    if page_size not in PAGE_SIZES:
        fail("--page-size must be 10, 25, 50 or 100")
    where = audit_filter(None, None, action, since)
    request = PageRequest(page=page, page_size=page_size, descending=True)

    async def read(runtime: Runtime) -> dict[str, Any]:
        if not await team_exists(runtime, team_id):
            raise TeamNotFound()
        page = await audit_log_page(runtime, team_id, where, request)
        return page_data("auditLogs", page, audit_log_json)

    data = with_runtime(read)
    if as_json:
        emit_json(data)
        return
    for row in data["auditLogs"]:
        typer.echo(_row_line(row))
    if data["hasNextPage"]:
        typer.echo(f"more rows: --page {page + 1}", err=True)
