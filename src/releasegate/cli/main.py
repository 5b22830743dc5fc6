"""Entry point: `releasegate` and its command groups, assembled here."""

from __future__ import annotations

import typer

from releasegate.cli import admin, audit, fetch, server, storage, webhook

app = typer.Typer(no_args_is_help=True, add_completion=False, help="releasegate server and admin")
app.command()(server.serve)
app.command()(server.migrate)
app.command()(server.worker)
app.command("fetch")(fetch.fetch_command)
app.add_typer(admin.team_app, name="team")
app.add_typer(admin.apikey_app, name="apikey")
app.add_typer(admin.customer_app, name="customer")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(storage.storage_app, name="storage")
app.add_typer(webhook.webhook_app, name="webhook")


def main() -> None:
    app()
