"""Production refuses to start with an empty, short or well-known ``SECRET_KEY`` (or
``JWT_SECRET_KEY``); debug and testing keep their fixed keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner import create_app
from qhana_plugin_runner.config import SETTINGS_ENV_VAR, load_config
from qhana_plugin_runner.config.defaults import DebugConfig, TestingConfig
from qhana_plugin_runner.config.env import ENV_OVERRIDES
from qhana_plugin_runner.errors import ConfigError

WEAK_KEYS = [
    "",
    "   ",
    "dev",
    "changeme",
    "CHANGEME",
    "secret",
    " secret ",
    "x7Gq2-9fJ2kQ8_z",  # 15 bytes
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    DebugConfig.SECRET_KEY,
    TestingConfig.SECRET_KEY,
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in {row.env for row in ENV_OVERRIDES} | {SETTINGS_ENV_VAR, "FLASK_DEBUG", "FLASK_ENV"}:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


@pytest.fixture
def load(instance: Path) -> Callable[..., Flask]:
    def _load(overrides: dict[str, Any] | None = None, debug: bool = False) -> Flask:
        app = Flask(__name__, instance_path=str(instance))
        app.debug = debug
        load_config(app, overrides)
        return app

    return _load


@pytest.mark.parametrize("variable", ["SECRET_KEY", "QHANA_SECRET_KEY"])
@pytest.mark.parametrize("value", WEAK_KEYS)
def test_production_refuses_a_weak_key_from_the_environment(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load()
    assert info.value.key == "SECRET_KEY"
    assert "SECRET_KEY" in str(info.value) and "16 bytes" in str(info.value)
    assert "<hidden>" in str(info.value) and repr(value) not in str(info.value)


def test_production_refuses_a_weak_key_in_the_instance_key_file(load: Callable[..., Flask], instance: Path) -> None:
    (instance / "secret_key").write_text("dev\n")
    with pytest.raises(ConfigError) as info:
        load()
    assert info.value.key == "SECRET_KEY"


def test_production_refuses_a_weak_key_in_a_config_file(load: Callable[..., Flask], instance: Path) -> None:
    (instance / "config.json").write_text(json.dumps({"SECRET_KEY": "secret"}))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load()


def test_production_refuses_a_weak_jwt_key(load: Callable[..., Flask], instance: Path) -> None:
    (instance / "config.json").write_text(json.dumps({"JWT_SECRET_KEY": "changeme"}))
    with pytest.raises(ConfigError) as info:
        load()
    assert info.value.key == "JWT_SECRET_KEY"


def test_production_start_through_create_app_refuses(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER", str(instance))
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("value", ["x7Gq2-9fJ2kQ8_zL", "9fJ2-kQ8_zLx3Vb7Rt5wYc1N"])
def test_production_accepts_a_random_key(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SECRET_KEY", value)
    assert load().config["SECRET_KEY"] == value


def test_production_without_a_key_generates_a_strong_one(load: Callable[..., Flask], instance: Path) -> None:
    key = load().config["SECRET_KEY"]
    assert len(key) >= 32 and (instance / "secret_key").read_text().strip() == key


def test_debug_keeps_working_with_a_weak_or_empty_key(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, instance: Path
) -> None:
    monkeypatch.setenv("SECRET_KEY", "dev")
    assert load(debug=True).config["SECRET_KEY"] == "dev"
    monkeypatch.setenv("SECRET_KEY", "")
    assert load(debug=True).config["SECRET_KEY"] == (instance / "secret_key").read_text().strip()


def test_debug_default_key_and_testing_keys_still_load(load: Callable[..., Flask]) -> None:
    assert load(debug=True).config["SECRET_KEY"] == DebugConfig.SECRET_KEY
    assert load({"SECRET_KEY": "dev"}).config["SECRET_KEY"] == "dev"
