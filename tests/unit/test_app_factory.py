"""The package's ``create_app``: the garbage collector is paused while an app is built, and
the objects of a process's own app (built from the environment) are frozen afterwards."""

from __future__ import annotations

import gc
from typing import Any

import pytest

import qhana_plugin_runner
import qhana_plugin_runner.app as app_module


@pytest.fixture
def recorded_builds(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the real factory with one that records what the collector did during the build."""
    builds: list[dict[str, Any]] = []

    def build(test_config: dict[str, Any] | None, silent_log: bool = False) -> object:
        builds.append({"collecting": gc.isenabled(), "config": test_config, "silent_log": silent_log})
        if test_config and test_config.get("FAIL"):
            raise RuntimeError("build failed")
        return object()

    monkeypatch.setattr(app_module, "create_app", build)
    return builds


@pytest.fixture
def collector_restored() -> Any:
    was_enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    yield
    if gc.get_freeze_count() != frozen:
        gc.unfreeze()
    (gc.enable if was_enabled else gc.disable)()


def test_a_test_app_is_built_without_the_collector_and_gets_it_back_unfrozen(recorded_builds, collector_restored) -> None:
    gc.enable()
    frozen = gc.get_freeze_count()
    qhana_plugin_runner.create_app({"TESTING": True}, silent_log=True)
    assert recorded_builds == [{"collecting": False, "config": {"TESTING": True}, "silent_log": True}]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_process_app_freezes_what_its_build_created(recorded_builds, collector_restored) -> None:
    gc.enable()
    gc.unfreeze()
    survivor = ["alive when the build ends"]
    assert any(o is survivor for o in gc.get_objects())  # in a generation the collector scans
    qhana_plugin_runner.create_app()
    assert recorded_builds[0]["collecting"] is False
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert all(o is not survivor for o in gc.get_objects())  # now in the permanent generation


def test_a_failed_build_gives_the_collector_back(recorded_builds, collector_restored) -> None:
    gc.enable()
    frozen = gc.get_freeze_count()
    with pytest.raises(RuntimeError, match="build failed"):
        qhana_plugin_runner.create_app({"FAIL": True})
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_caller_that_turned_the_collector_off_keeps_it_off(recorded_builds, collector_restored) -> None:
    gc.disable()
    frozen = gc.get_freeze_count()
    qhana_plugin_runner.create_app()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == frozen  # a host that manages the collector itself decides
