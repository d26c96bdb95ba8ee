"""GIT_PLUGINS: parsing lines, cloning real (local) repositories, placing plugins, not twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from qhana_plugin_runner.deploy.git_plugins import (
    GitPluginSource,
    fetch_git_plugins,
    main,
    parse_git_plugins,
)


def test_parse_lines() -> None:
    text = """
    # plugins of the lab
    git+https://github.com/org/repo.git@v1.2#subdirectory=plugins/x
    git+ssh://git@github.com/org/repo.git
    git+ssh://git@github.com/org/repo.git@feature/x
    """
    assert parse_git_plugins(text) == [
        GitPluginSource("https://github.com/org/repo.git", "v1.2", "plugins/x"),
        GitPluginSource("ssh://git@github.com/org/repo.git", None, None),
        GitPluginSource("ssh://git@github.com/org/repo.git", "feature/x", None),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("https://h/r", "expected git\\+<url>"),
        ("git+h/r", "with a scheme"),
        ("git+https://h/r@", "invalid ref"),
        ("git+https://h/r@--upload-pack=evil", "invalid ref"),
        ("git+https://h/r#subdirectory=../../etc", "inside the repository"),
        ("git+https://h/r#subdirectory=/etc", "inside the repository"),
    ],
)
def test_bad_lines_are_refused(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_git_plugins(line)


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    (repo / "plugins" / "pkg_plugin").mkdir(parents=True)
    (repo / "plugins" / "pkg_plugin" / "__init__.py").write_text("VERSION = 'one'\n")
    (repo / "plugins" / "single_plugin.py").write_text("VERSION = 'one'\n")
    (repo / "README.md").write_text("not a plugin\n")
    _git("init", "--quiet", "--initial-branch=main", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "--quiet", "-m", "one", cwd=repo)
    _git("tag", "v1", cwd=repo)
    (repo / "plugins" / "pkg_plugin" / "__init__.py").write_text("VERSION = 'two'\n")
    _git("commit", "--quiet", "-am", "two", cwd=repo)
    return repo


def test_a_folder_of_plugins_at_a_tag(repository: Path, tmp_path: Path) -> None:
    target = tmp_path / "git-plugins"
    sources = parse_git_plugins(f"git+file://{repository}@v1#subdirectory=plugins")
    placed = fetch_git_plugins(sources, target, log=lambda _m: None)
    assert sorted(path.name for path in placed) == ["pkg_plugin", "single_plugin.py"]
    assert (target / "pkg_plugin" / "__init__.py").read_text() == "VERSION = 'one'\n"
    assert not (target / "README.md").exists()


def test_a_package_at_a_commit_and_a_single_file(repository: Path, tmp_path: Path) -> None:
    first = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repository, capture_output=True, text=True, check=True).stdout.strip()
    target = tmp_path / "git-plugins"
    sources = parse_git_plugins(
        f"git+file://{repository}@{first}#subdirectory=plugins/pkg_plugin\n"
        f"git+file://{repository}#subdirectory=plugins/single_plugin.py"
    )
    fetch_git_plugins(sources, target, log=lambda _m: None)
    assert (target / "pkg_plugin" / "__init__.py").read_text() == "VERSION = 'one'\n"
    assert (target / "single_plugin.py").is_file()
    assert sorted(p.name for p in target.iterdir()) == [".repositories", "pkg_plugin", "single_plugin.py"]


def test_a_second_start_fetches_nothing(repository: Path, tmp_path: Path) -> None:
    target = tmp_path / "git-plugins"
    sources = parse_git_plugins(f"git+file://{repository}#subdirectory=plugins")
    assert fetch_git_plugins(sources, target, log=lambda _m: None)
    messages: list[str] = []
    assert fetch_git_plugins(sources, target, log=messages.append) == []
    assert not any(message.startswith("cloning") for message in messages)


def test_an_unreachable_repository_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GIT_PLUGINS", f"git+file://{tmp_path}/missing.git")
    assert main(["--plugins-path", str(tmp_path / "target")]) == 1
    assert "git could not fetch" in capsys.readouterr().err
    assert not any((tmp_path / "target" / ".repositories").iterdir())
