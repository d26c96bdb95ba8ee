"""Plugin discovery, loading and validation: every failure mode is recorded and never stops
the other plugins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qhana_plugin_runner.state import get_state
from qhana_plugin_runner.testing import build_app, dispose, make_test_config

from helpers import FIXTURE_PLUGINS, ROOT

ALL_FIXTURE_FOLDERS = [str(FIXTURE_PLUGINS / name) for name in ("good", "broken_import", "missing_dependency", "duplicate_id", "bad_version", "file_store", "legacy")]


@pytest.fixture
def loaded(tmp_path: Path) -> Any:
    app = build_app(make_test_config(tmp_path / "instance", PLUGIN_FOLDERS=ALL_FIXTURE_FOLDERS + [str(tmp_path / "does-not-exist")]))
    yield app
    dispose(app)


def _failures(app: Any) -> dict[str, Any]:
    report = get_state(app).report
    return {(f.plugin or f.source): f for f in report.failures}


def test_good_plugins_load_despite_broken_ones(loaded: Any) -> None:
    identifiers = {p.identifier for p in get_state(loaded).report.plugins}
    assert {"fx-good@1-0-0", "fx-legacy@v0-1-0", "fx-store@0-1-0", "fx-dup@1-0-0"} <= identifiers
    assert not identifiers & {"fx-broken@1-0-0", "fx-missing@1-0-0", "fx-bad-version@latest"}


def test_each_failure_is_recorded_with_its_reason(loaded: Any) -> None:
    failures = list(get_state(loaded).report.failures)
    by_reason = {f.stage + ": " + f.reason for f in failures}
    assert any("fixture: broken at import time" in r and r.startswith("import") for r in by_reason)
    assert any("missing dependency 'fx_not_installed_anywhere'" in r for r in by_reason)
    assert any("duplicate identifier" in r and r.startswith("validate") for r in by_reason)
    assert any("'latest' is not a PEP 440 version" in r for r in by_reason)
    assert any("missing name" in r for r in by_reason)
    broken = next(f for f in failures if "broken at import" in f.reason)
    assert broken.detail and "Traceback" in broken.detail


def test_missing_folder_is_reported(loaded: Any, tmp_path: Path) -> None:
    assert str((tmp_path / "does-not-exist").resolve()) in get_state(loaded).report.missing_folders


def test_failures_are_logged_as_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="qhana_plugin_runner.plugin_host.loader")
    app = build_app(make_test_config(tmp_path / "i", PLUGIN_FOLDERS=[str(FIXTURE_PLUGINS / "bad_version")]))
    dispose(app)
    messages = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("fx-bad-version" in m or "FxBadVersion" in m for m in messages)


def test_only_mounted_plugins_are_listed(loaded: Any) -> None:
    plugins = loaded.test_client().get("/plugins/").get_json()["plugins"]
    listed = {p["identifier"] for p in plugins}
    assert listed == {"fx-good@1-0-0", "fx-legacy@v0-1-0"}  # fx-store and fx-dup have no API
    for entry in plugins:
        assert entry["apiRoot"].startswith("http://")


def test_legacy_style_plugin_serves_metadata_and_got_init_app(loaded: Any) -> None:
    import fx_legacy_pkg

    body = loaded.test_client().get("/plugins/fx-legacy@v0-1-0/").get_json()
    assert body["name"] == "fx-legacy" and body["version"] == "v0.1.0"
    assert set(body) >= {"name", "version", "title", "description", "type", "tags", "entryPoint"}
    assert loaded in fx_legacy_pkg.FxLegacy.init_app_calls
    assert fx_legacy_pkg.FxLegacy.instance.get_requirements() == "six"


def test_second_app_in_same_process_loads_the_same_plugins(tmp_path: Path) -> None:
    config = make_test_config(tmp_path / "a", PLUGIN_FOLDERS=[str(FIXTURE_PLUGINS / "good"), str(ROOT / "plugins")])
    first = build_app(config)
    second = build_app({**config, "INSTANCE_PATH": str(tmp_path / "b")})
    try:
        listed = [[p["identifier"] for p in app.test_client().get("/plugins/").get_json()["plugins"]] for app in (first, second)]
        assert listed[0] == listed[1]
        assert {"fx-good@1-0-0", "hello-world@v0-2-1", "hello-world-multi-step@v0-2-1"} <= set(listed[0])
        assert get_state(first).plugins is not get_state(second).plugins
    finally:
        dispose(first)
        dispose(second)


def test_plugin_named_like_a_stdlib_module_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "json.py").write_text("raise AssertionError('must never be imported')\n")
    app = build_app(make_test_config(tmp_path / "i", PLUGIN_FOLDERS=[str(folder)]))
    try:
        [failure] = get_state(app).report.failures
        assert failure.stage == "import" and "standard library" in failure.reason
    finally:
        dispose(app)


def test_same_module_name_in_two_folders_is_refused(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "fx_twice_named.py").write_text(
            "from qhana_plugin_runner.util.plugins import QHAnaPluginBase\n"
            f"class P(QHAnaPluginBase):\n    name = 'fx-twice-{folder}'\n    version = '1.0'\n"
        )
    app = build_app(make_test_config(tmp_path / "i", PLUGIN_FOLDERS=[str(tmp_path / "one"), str(tmp_path / "two")]))
    try:
        report = get_state(app).report
        assert [p.name for p in report.plugins] == ["fx-twice-one"]
        [failure] = report.failures
        assert "already taken" in failure.reason and "fx_twice_named" in failure.reason
    finally:
        dispose(app)


def test_folder_that_is_a_package_is_one_source(tmp_path: Path) -> None:
    package = tmp_path / "fx_folder_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from qhana_plugin_runner.util.plugins import QHAnaPluginBase\n"
        "class P(QHAnaPluginBase):\n    name = 'fx-folder-pkg'\n    version = '2.0.0'\n"
    )
    app = build_app(make_test_config(tmp_path / "i", PLUGIN_FOLDERS=[str(package)]))
    try:
        assert [p.identifier for p in get_state(app).report.plugins] == ["fx-folder-pkg@2-0-0"]
    finally:
        dispose(app)


def test_entry_point_plugins_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    from qhana_plugin_runner.plugin_host import discovery

    (tmp_path / "fx_entry_point_plugin.py").write_text(
        "from qhana_plugin_runner.util.plugins import QHAnaPluginBase\n"
        "class P(QHAnaPluginBase):\n    name = 'fx-entry'\n    version = '0.0.1'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint(name="fx-entry", value="fx_entry_point_plugin:P", group="qhana_plugin_runner.plugins")
    monkeypatch.setattr(discovery, "entry_points", lambda group: [point] if group == "qhana_plugin_runner.plugins" else [])
    app = build_app(make_test_config(tmp_path / "i", PLUGIN_ENTRY_POINT_GROUP="qhana_plugin_runner.plugins"))
    try:
        assert [p.identifier for p in get_state(app).report.plugins] == ["fx-entry@0-0-1"]
    finally:
        dispose(app)


def test_plugins_list_command_shows_loaded_and_failed(loaded: Any) -> None:
    runner = loaded.test_cli_runner()
    result = runner.invoke(args=["plugins", "list"])
    assert result.exit_code == 0, result.output
    assert "fx-good@1-0-0" in result.output
    assert "fx-store@0-1-0" in result.output and "[no API]" in result.output
    assert "missing dependency 'fx_not_installed_anywhere'" in result.output
    as_json = json.loads(runner.invoke(args=["plugins", "list", "--json"]).output)
    assert {"loaded", "failed", "missingFolders"} <= set(as_json)
    assert any(f["stage"] == "validate" for f in as_json["failed"])


def test_plugin_file_store_is_available(loaded: Any) -> None:
    from qhana_plugin_runner.storage import STORE

    with loaded.app_context():
        assert "fixture-memory" in STORE.names
        assert STORE["fixture-memory"].get_file_url("x") == "memory://x"


def test_get_plugins_reads_the_current_app(loaded: Any) -> None:
    from qhana_plugin_runner.util.plugins import QHAnaPluginBase

    with loaded.app_context():
        assert set(QHAnaPluginBase.get_plugins()) == {p.identifier for p in get_state(loaded).report.plugins}


def test_name_redirect_picks_newest_version(tmp_path: Path) -> None:
    folder = tmp_path / "versions"
    folder.mkdir()
    for module, version in (("fx_ver_old", "v0.9.0"), ("fx_ver_new", "v0.10.0")):
        (folder / f"{module}.py").write_text(
            "from flask.views import MethodView\n"
            "from qhana_plugin_runner.api.util import SecurityBlueprint\n"
            "from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier\n"
            f"BLP = SecurityBlueprint(plugin_identifier('fx-ver', '{version}'), __name__)\n"
            "@BLP.route('/')\nclass V(MethodView):\n    def get(self):\n        return {'v': '" + version + "'}\n"
            f"class P(QHAnaPluginBase):\n    name = 'fx-ver'\n    version = '{version}'\n"
            "    def get_api_blueprint(self):\n        return BLP\n"
        )
    app = build_app(make_test_config(tmp_path / "i", PLUGIN_FOLDERS=[str(folder)]))
    try:
        client = app.test_client()
        response = client.get("/plugins/fx-ver/")
        assert response.status_code == 302
        assert response.headers["Location"] == "/plugins/fx-ver@v0-10-0/"  # 0.10 > 0.9 (not lexical)
        missing = client.get("/plugins/no-such-plugin/")
        assert missing.status_code == 404 and missing.get_json()["message"] == "No plugin registered with that name."
    finally:
        dispose(app)
