# SPDX-License-Identifier: Apache-2.0
"""``flask install``: collected requirements, conflicts, bad lines, and the installer call
(a fake ``uv`` on PATH records its arguments; nothing is really installed)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

from qhana_plugin_runner.cli.install_cli import parse_block, satisfiable
from qhana_plugin_runner.testing import build_app, dispose, make_test_config

from helpers import FIXTURE_PLUGINS

Invoke = Callable[..., Any]


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Invoke]:
    """Run ``flask install ARGS`` on an app loading the named ``install_*`` fixture folders."""
    apps = []

    def run(folders: list[str], *args: str) -> Any:
        paths = [str(FIXTURE_PLUGINS / f"install_{name}") for name in folders]
        app = build_app(
            make_test_config(tmp_path / f"instance{len(apps)}", PLUGIN_FOLDERS=paths),
            create_tables=False,
        )
        apps.append(app)
        return app.test_cli_runner().invoke(args=["install", *args])

    yield run
    for app in apps:
        dispose(app)


@pytest.fixture
def fake_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``uv`` first on PATH that writes its arguments and the requirements file to a JSON file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "uv-call.json"
    script = bin_dir / "uv"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "content = open(args[args.index('-r') + 1]).read()\n"
        f"json.dump({{'args': args, 'requirements': content}}, open({str(record)!r}, 'w'))\n"
        "sys.exit(int(__import__('os').environ.get('FAKE_UV_EXIT', '0')))\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return record


def test_dry_run_prints_requirements_file_and_command(install: Invoke) -> None:
    result = install(["ok"], "--dry-run", "--installer", "pip")
    assert result.exit_code == 0, result.output
    assert (
        '# fx-install-ok@1.0.0\nnumpy>=1.20\nrequests\ncolorama; sys_platform == "win32"\n'
        in result.stdout
    )
    assert "# qhana-plugin-runner@" in result.stdout and "\nflask<3.2,>=3.0\n" in result.stdout
    runner_part = result.stdout.split("# fx-install-ok")[0]
    assert "pytest" not in runner_part and "scipy" not in runner_part  # requirements of extras
    assert f"# command: {sys.executable} -m pip install -r" in result.stdout


def test_skip_runner_requirements_and_alias(install: Invoke) -> None:
    for flag in ("-s", "--skip-runner-requirements", "--skip-runner-dependencies"):
        result = install(["ok"], "-d", flag)
        assert result.exit_code == 0, result.output
        assert "qhana-plugin-runner@" not in result.stdout
        assert result.stdout.startswith("# fx-install-ok@1.0.0\n")


def test_only_with_tests_keeps_plugins_with_test_files(install: Invoke) -> None:
    result = install(["ok", "tested"], "-d", "-s", "--only-with-tests")
    assert result.exit_code == 0, result.output
    assert "# fx-install-tested@0.2.0\nnumpy>=1.26\n" in result.stdout
    assert "fx-install-ok" not in result.stdout


def test_conflicting_plugins_stop_before_installing(install: Invoke, fake_uv: Path) -> None:
    result = install(["conflict", "tested", "ok"], "-s")
    assert result.exit_code == 1
    assert (
        "conflict: numpy — fx-install-old@1.0 wants <1.20, fx-install-tested@0.2.0 wants >=1.26"
        in result.stderr
    )
    assert not fake_uv.exists()


def test_conflict_with_installed_runner_dependency(install: Invoke) -> None:
    skipped = install(["runner_conflict"], "-d", "-s")
    assert skipped.exit_code == 1
    assert (
        "conflict: flask — fx-install-old-flask@0.1.0 wants <3, the runner depends on <3.2,>=3.0 (installed "
        in skipped.stderr
    )
    with_runner = install(["runner_conflict"], "-d")
    assert with_runner.exit_code == 1
    assert with_runner.stderr.count("conflict: flask") == 1
    assert (
        "qhana-plugin-runner@" in with_runner.stderr
        and "fx-install-old-flask@0.1.0 wants <3" in with_runner.stderr
    )


def test_other_range_of_runner_dependency_is_a_warning(install: Invoke) -> None:
    result = install(["warn"], "-d", "-s")
    assert result.exit_code == 0, result.output
    assert (
        "warning: requests — fx-install-warn@0.1.0 wants >=2.0, the runner depends on <3,>=2.32"
        in result.stderr
    )


def test_unparsable_line_names_plugin_and_line(install: Invoke, fake_uv: Path) -> None:
    result = install(["bad", "ok"], "-s")
    assert result.exit_code == 1
    assert "fx-install-bad@0.1.0: unparsable requirement 'numpy >= = 1'" in result.stderr
    assert not fake_uv.exists()


def test_installs_with_uv_found_on_path(install: Invoke, fake_uv: Path) -> None:
    result = install(["ok", "tested"], "-s")
    assert result.exit_code == 0, result.output
    call = json.loads(fake_uv.read_text())
    assert call["args"][:4] == ["pip", "install", "--python", sys.executable]
    assert call["requirements"] == (
        '# fx-install-ok@1.0.0\nnumpy>=1.20\nrequests\ncolorama; sys_platform == "win32"\n'
        "# fx-install-tested@0.2.0\nnumpy>=1.26\n"
    )


def test_failing_installer_fails_the_command(
    install: Invoke, fake_uv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_UV_EXIT", "3")
    result = install(["ok"], "-s", "--installer", "uv")
    assert result.exit_code == 1
    assert "the installer exited with status 3" in result.output
    assert fake_uv.exists()


@pytest.mark.parametrize(
    ("specifiers", "expected"),
    [
        (["<1.20", ">=1.26"], False),
        (["==1.0", "!=1.0"], False),
        (["~=1.4", ">=2"], False),
        ([">2,<1"], False),
        ([">1.0", "<1.1"], True),
        (["<1.0"], True),
        (["==1.2.*", ">=1.2.5"], True),
        ([">=1.26", "<2"], True),
        (["", ">=1"], True),
    ],
)
def test_satisfiable_heuristic(specifiers: list[str], expected: bool) -> None:
    assert satisfiable([SpecifierSet(s) for s in specifiers]) is expected


def test_parse_block_handles_comments_continuations_and_pip_options() -> None:
    text = "# header\n--extra-index-url https://example.org/simple\nnumpy \\\n  >=1.0  # why\n\n"
    block, errors = parse_block("p@1", text)
    assert errors == []
    assert block.lines == ["--extra-index-url https://example.org/simple", "numpy >=1.0"]
    assert [str(r) for r in block.requirements] == ["numpy>=1.0"]
