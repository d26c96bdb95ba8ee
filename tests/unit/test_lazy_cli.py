"""``flask install`` is registered lazily: listing the commands does not import its module
(packaging's requirement grammar), running it or asking for its help does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from qhana_plugin_runner.cli import LazyCommand


@click.command("demo")
@click.option("--times", type=int, default=1, help="how often")
def _demo(times: int) -> None:
    """Say hello."""
    click.echo("hello " * times)


def test_lazy_command_runs_and_helps_like_the_real_one() -> None:
    group = click.Group("root")
    lazy = LazyCommand("demo", f"{__name__}:_demo", "Say hello.")
    group.add_command(lazy)
    runner = CliRunner()
    listing = runner.invoke(group, ["--help"])
    assert "demo  Say hello." in listing.output
    assert lazy._command is None  # listing did not import it
    result = runner.invoke(group, ["demo", "--times", "2"])
    assert result.exit_code == 0 and result.output.strip() == "hello hello"
    assert "--times INTEGER  how often" in runner.invoke(group, ["demo", "--help"]).output
    assert runner.invoke(group, ["demo", "--times", "x"]).exit_code == 2


def test_building_the_app_does_not_import_the_install_module(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from qhana_plugin_runner.testing import make_test_config\n"
        "from qhana_plugin_runner import create_app\n"
        f"create_app(make_test_config(__import__('pathlib').Path({str(tmp_path)!r})), silent_log=True)\n"
        "print('qhana_plugin_runner.cli.install_cli' in sys.modules, 'packaging.requirements' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split()[-2:] == ["False", "False"]
