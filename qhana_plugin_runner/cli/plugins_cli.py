# SPDX-License-Identifier: Apache-2.0
"""``flask plugins list``: what was loaded, what failed and why."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup, with_appcontext

from ..state import current_runner

__all__ = ["PLUGINS_CLI"]

PLUGINS_CLI = AppGroup("plugins", help="Inspect the plugins of this runner.")


@PLUGINS_CLI.command("list")
@click.option("--json", "as_json", is_flag=True, help="print the load report as JSON")
@click.option("--traceback", "show_traceback", is_flag=True, help="show tracebacks of failures")
@with_appcontext
def list_plugins(as_json: bool, show_traceback: bool) -> None:
    """List loaded plugins and the plugins that failed to load, with the reason."""
    report = current_runner.report
    registry = current_runner.plugins
    loaded = [
        {
            "identifier": p.identifier,
            "name": p.name,
            "version": p.version,
            "api": registry.has_api(p.identifier),
            "module": type(p).__module__,
        }
        for p in (report.plugins if report else [])
    ]
    failed = [
        {"source": f.source, "plugin": f.plugin, "stage": f.stage, "reason": f.reason, "traceback": f.detail}
        for f in (report.failures if report else [])
    ]
    if as_json:
        click.echo(json.dumps({"loaded": loaded, "failed": failed, "missingFolders": report.missing_folders if report else []}, indent=2))
        return
    click.echo(f"Loaded plugins ({len(loaded)}):")
    for entry in loaded:
        api = "" if entry["api"] else "  [no API]"
        click.echo(f"  {entry['identifier']:<45} {entry['module']}{api}")
    click.echo(f"Failed ({len(failed)}):")
    for entry in failed:
        click.echo(f"  {entry['plugin'] or entry['source']}: {entry['stage']}: {entry['reason']}")
        if show_traceback and entry["traceback"]:
            click.echo("    " + entry["traceback"].replace("\n", "\n    "))
    if report and report.missing_folders:
        click.echo("Plugin folders that do not exist: " + ", ".join(report.missing_folders))
