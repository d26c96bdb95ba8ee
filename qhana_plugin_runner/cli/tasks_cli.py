# SPDX-License-Identifier: Apache-2.0
"""``flask tasks cleanup``: the periodic cleanup, run by hand (``--dry-run`` only counts)."""

from __future__ import annotations

import json
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

__all__ = ["TASKS_CLI"]

TASKS_CLI = AppGroup("tasks", help="Maintenance of processing tasks.")


@TASKS_CLI.command("cleanup")
@click.option("--older-than-days", type=click.FloatRange(min=0, min_open=True), default=None, help="age of finished tasks to remove (default: TASK_RETENTION_DAYS)")
@click.option("--dry-run", is_flag=True, help="count what would be removed, remove nothing")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def cleanup(older_than_days: float | None, dry_run: bool, as_json: bool) -> None:
    """Remove finished tasks (rows and files) older than the retention period."""
    from ..tasks.cleanup import remove_old_tasks

    days = older_than_days if older_than_days is not None else float(current_app.config.get("TASK_RETENTION_DAYS") or 0)
    if days <= 0:
        raise click.UsageError("TASK_RETENTION_DAYS is 0 (keep everything); give --older-than-days")
    batch = int(current_app.config.get("TASK_CLEANUP_BATCH_SIZE") or 500)
    report = remove_old_tasks(timedelta(days=days), batch_size=batch, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "dryRun": dry_run}))
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {report.tasks} tasks and {report.files} files finished before {report.cutoff.isoformat()}")
    for error in report.file_errors:
        click.echo(f"could not remove {error}", err=True)
