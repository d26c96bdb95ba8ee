# SPDX-License-Identifier: Apache-2.0
"""``flask install``: install the requirements of the runner and of its loaded plugins.

The command collects requirement lines (the runner's from its installed metadata, each
plugin's from ``get_requirements()``), parses every line with ``packaging``, refuses to go on
when two of them cannot both be satisfied or when a plugin would replace a dependency of the
runner, and then runs one installer (uv or pip) on a temporary requirements file.

Conflict check (a heuristic, not a resolver): for each project, every version named in any
specifier is a candidate, plus one version just above and one just below each of them and
``0``. If no candidate satisfies all specifiers, the requirements conflict. This finds every
plain contradiction (``<1.20`` against ``>=1.26``, ``==1.0`` against ``!=1.0``) and never
reports a conflict where one of the candidates would do; it cannot know which versions exist.
"""

from __future__ import annotations

import importlib.metadata as metadata
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import click
from flask.cli import with_appcontext
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..plugin_host.base import QHAnaPluginBase
from ..state import current_runner

__all__ = ["INSTALL_CLI", "RequirementBlock", "find_conflicts", "parse_block"]

RUNNER_DISTRIBUTION = "qhana-plugin-runner"
# pip options that may appear in a requirements file and are passed on unchecked
PASSED_OPTIONS = ("--index-url", "--extra-index-url", "--find-links", "--pre", "-i ", "-f ")


@dataclass
class RequirementBlock:
    """The requirement lines of the runner or of one plugin, under a ``# label`` header."""

    label: str
    lines: list[str]
    requirements: list[Requirement] = field(default_factory=list)
    is_runner: bool = False

    def render(self) -> str:
        return "\n".join([f"# {self.label}", *self.lines]) + "\n"


def _logical_lines(text: str) -> list[str]:
    """Lines without comments and blanks; a trailing backslash continues a line."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.split(" #", 1)[0].strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1].strip() + " "
            continue
        if line and not line.startswith("#"):
            lines.append(line)
    if pending.strip():
        lines.append(pending.strip())
    return lines


def parse_block(
    label: str, text: str, *, is_runner: bool = False
) -> tuple[RequirementBlock, list[str]]:
    """Parse requirement ``text``; return the block and one error message per bad line."""
    block = RequirementBlock(label, _logical_lines(text), is_runner=is_runner)
    errors = []
    for line in block.lines:
        if line.startswith(PASSED_OPTIONS):
            continue
        try:
            block.requirements.append(Requirement(line))
        except InvalidRequirement as err:
            errors.append(f"{label}: unparsable requirement {line!r}: {str(err).splitlines()[0]}")
    return block, errors


def _applies(req: Requirement) -> bool:
    """Whether ``req`` applies to this interpreter (requirements behind an extra do not)."""
    return req.marker is None or req.marker.evaluate({"extra": ""})


def runner_block() -> RequirementBlock | None:
    """The runner's own requirements from its installed metadata (None if it is not installed)."""
    try:
        version = metadata.version(RUNNER_DISTRIBUTION)
        lines = [
            r for r in metadata.requires(RUNNER_DISTRIBUTION) or [] if _applies(Requirement(r))
        ]
    except metadata.PackageNotFoundError:
        return None
    block, _ = parse_block(f"{RUNNER_DISTRIBUTION}@{version}", "\n".join(lines), is_runner=True)
    return block


def _candidates(specifiers: list[SpecifierSet]) -> set[Version]:
    """Boundary versions named by ``specifiers``, plus their neighbours and ``0``."""
    found = {Version("0")}
    for spec in (s for spec_set in specifiers for s in spec_set):
        try:
            bound = Version(spec.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        release = bound.release
        found |= {bound, Version(".".join(map(str, (*release, 1))))}
        nonzero = [i for i, part in enumerate(release) if part > 0]
        if nonzero:
            i = nonzero[-1]
            found.add(Version(".".join(map(str, (*release[:i], release[i] - 1, 999999)))))
    return found


def satisfiable(specifiers: list[SpecifierSet]) -> bool:
    """Whether some candidate version satisfies every specifier set (see the module docstring)."""
    if any(s.operator == "===" for spec_set in specifiers for s in spec_set):
        return True  # arbitrary equality is a string match: nothing to compare
    return any(
        all(s.contains(v, prereleases=True) for s in specifiers) for v in _candidates(specifiers)
    )


def _wants(block: RequirementBlock, spec: SpecifierSet) -> str:
    return f"{block.label} wants {spec or 'any version'}"


def find_conflicts(blocks: list[RequirementBlock]) -> dict[str, str]:
    """Project name → message, for each project whose requirements cannot all be satisfied."""
    by_name: dict[str, list[tuple[RequirementBlock, SpecifierSet]]] = {}
    for block in blocks:
        for req in filter(_applies, block.requirements):
            by_name.setdefault(canonicalize_name(req.name), []).append((block, req.specifier))
    messages = {}
    for name, wanted in by_name.items():
        if satisfiable([spec for _, spec in wanted]):
            continue
        culprits = next(
            (
                list(pair)
                for pair in combinations(wanted, 2)
                if not satisfiable([pair[0][1], pair[1][1]])
            ),
            wanted,
        )
        messages[name] = f"conflict: {name} — " + ", ".join(_wants(b, s) for b, s in culprits)
    return messages


def check_runner_dependencies(blocks: list[RequirementBlock]) -> tuple[dict[str, str], list[str]]:
    """Conflicts and warnings of plugin requirements against the runner's installed dependencies.

    A conflict is a plugin requirement that the installed version of a runner dependency does
    not satisfy (installing it would replace a package the runner needs); a warning is a plugin
    asking for a different version range than the runner does.
    """
    runner = runner_block()
    needed = {
        canonicalize_name(r.name): r.specifier for r in (runner.requirements if runner else [])
    }
    conflicts: dict[str, str] = {}
    warnings: list[str] = []
    for block in (b for b in blocks if not b.is_runner):
        for req in filter(_applies, block.requirements):
            name = canonicalize_name(req.name)
            if name not in needed or not req.specifier:
                continue
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
            detail = (
                f"the runner depends on {needed[name] or 'any version'} (installed {installed})"
            )
            if not req.specifier.contains(installed, prereleases=True):
                conflicts.setdefault(
                    name, f"conflict: {name} — {_wants(block, req.specifier)}, {detail}"
                )
            elif str(req.specifier) != str(needed[name]):
                warnings.append(f"warning: {name} — {_wants(block, req.specifier)}, {detail}")
    return conflicts, warnings


def _has_tests(plugin: QHAnaPluginBase) -> bool:
    """A package plugin with a ``test_*.py`` anywhere in its folder, or a module plugin with a
    ``test_<module>*.py`` beside it."""
    top = type(plugin).__module__.split(".")[0]
    origin = getattr(sys.modules.get(top), "__file__", None)
    if not origin:
        return False
    path = Path(origin)
    if path.name == "__init__.py":
        return any(path.parent.rglob("test_*.py"))
    return any(path.parent.glob(f"test_{path.stem}*.py"))


def plugin_blocks(only_with_tests: bool) -> tuple[list[RequirementBlock], list[str]]:
    """One block per loaded plugin (plugins without ``get_requirements`` give an empty one)."""
    blocks, errors = [], []
    for plugin in current_runner.plugins:
        if only_with_tests and not _has_tests(plugin):
            continue
        label = f"{plugin.name}@{plugin.version}"
        try:
            text = plugin.get_requirements() or ""
        except NotImplementedError:
            text = ""
        except Exception as err:  # plugin code
            errors.append(f"{label}: get_requirements() failed: {err!r}")
            continue
        block, block_errors = parse_block(label, text)
        blocks.append(block)
        errors += block_errors
    return blocks, errors


def installer_command(installer: str, requirements_file: str) -> list[str]:
    """The install command for ``installer`` (auto, uv or pip)."""
    uv = shutil.which("uv")
    bundled = Path(sys.prefix).parent / ".tools" / "bin" / "uv"
    if uv is None and bundled.is_file():
        uv = str(bundled)
    if installer == "uv" and uv is None:
        raise click.ClickException("uv was not found on PATH nor in .tools/bin/")
    if installer == "uv" or (installer == "auto" and uv is not None):
        return [str(uv), "pip", "install", "--python", sys.executable, "-r", requirements_file]
    return [sys.executable, "-m", "pip", "install", "-r", requirements_file]


@click.command("install")
@click.option(
    "--dry-run",
    "-d",
    is_flag=True,
    help="print the requirements file and the command instead of installing",
)
@click.option(
    "--skip-runner-requirements",
    "--skip-runner-dependencies",
    "-s",
    "skip_runner",
    is_flag=True,
    help="only install the plugins' requirements",
)
@click.option(
    "--only-with-tests",
    is_flag=True,
    help="only plugins whose source folder contains test_*.py files",
)
@click.option(
    "--installer",
    type=click.Choice(["auto", "uv", "pip"]),
    default="auto",
    show_default=True,
    help="auto: uv if found, else pip",
)
@with_appcontext
def install(dry_run: bool, skip_runner: bool, only_with_tests: bool, installer: str) -> None:
    """Install the requirements of the runner and of every loaded plugin."""
    blocks, errors = plugin_blocks(only_with_tests)
    if not skip_runner:
        runner = runner_block()
        if runner is None:
            click.echo(
                f"warning: {RUNNER_DISTRIBUTION} is not installed; its requirements are skipped",
                err=True,
            )
        else:
            blocks.insert(0, runner)
    conflicts, warnings = check_runner_dependencies(blocks)
    for message in warnings:
        click.echo(message, err=True)
    problems = errors + list({**conflicts, **find_conflicts(blocks)}.values())
    content = "".join(block.render() for block in blocks if block.lines)
    if dry_run:
        click.echo(content, nl=False)
        click.echo("# command: " + " ".join(installer_command(installer, "<requirements file>")))
    for message in problems:
        click.echo(message, err=True)
    if problems:
        click.get_current_context().exit(1)
    if dry_run:
        return
    if not content:
        click.echo("nothing to install")
        return
    _run_installer(installer, content)


def _run_installer(installer: str, content: str) -> None:
    with tempfile.TemporaryDirectory(prefix="qhana-install-") as folder:
        path = Path(folder) / "requirements.txt"
        path.write_text(content)
        command = installer_command(installer, str(path))
        click.echo(" ".join(command))
        code = subprocess.run(command, check=False).returncode
    if code:
        raise click.ClickException(f"the installer exited with status {code}")


INSTALL_CLI = install
