"""Configuration layers, environment rows, derived values and the errors of ``load_config``.

Every test loads into a bare ``Flask`` app whose instance folder is a fresh temporary folder,
with every variable the loader reads removed from the environment first.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.config import SETTINGS_ENV_VAR, load_config
from qhana_plugin_runner.config.defaults import DEFAULT_QUEUE, DebugConfig, ProductionConfig
from qhana_plugin_runner.config.env import ENV_OVERRIDES
from qhana_plugin_runner.errors import ConfigError

READ_BY_LOADER = {row.env for row in ENV_OVERRIDES} | {SETTINGS_ENV_VAR, "FLASK_DEBUG", "FLASK_ENV"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in READ_BY_LOADER:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


@pytest.fixture
def load(instance: Path) -> Callable[..., Flask]:
    """Load the configuration of a new app on ``instance`` (what one runner process does)."""

    def _load(overrides: dict[str, Any] | None = None) -> Flask:
        app = Flask(__name__, instance_path=str(instance))
        load_config(app, overrides)
        return app

    return _load


# --- layers ---------------------------------------------------------------------------------


def test_production_defaults_without_any_file_or_variable(
    load: Callable[..., Flask], instance: Path
) -> None:
    config = load().config
    assert config["ENV"] == "production"
    assert config["DEBUG"] is False and config["TESTING"] is False
    assert config["DEFAULT_FILE_STORE"] == "local_filesystem"
    assert config["FILE_STORE_ROOT_PATH"] == str(instance / "files")
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'qhana_plugin_runner.db'}"
    assert config["PLUGIN_FOLDERS"] == []
    assert config["URL_REWRITE_RULES"] == []
    assert config["REVERSE_PROXY_COUNT"] == 0
    assert config["OPENAPI_VERSION"] == "3.0.2"
    assert config["CELERY"]["task_default_queue"] == DEFAULT_QUEUE == "qhana_plugin_runner"


def test_every_layer_overrides_the_ones_before_it(
    load: Callable[..., Flask], instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text(
        "LAYER_PY = 'py'\nLAYER_JSON = 'py'\nLAYER_TOML = 'py'\nLAYER_SETTINGS = 'py'\n"
        "DEFAULT_FILE_STORE = 'py'\nREVERSE_PROXY_COUNT = 3\n"
    )
    (instance / "config.json").write_text(
        json.dumps(
            {
                "LAYER_JSON": "json",
                "LAYER_TOML": "json",
                "LAYER_SETTINGS": "json",
                "DEFAULT_FILE_STORE": "json",
            }
        )
    )
    (instance / "config.toml").write_text(
        'LAYER_TOML = "toml"\nLAYER_SETTINGS = "toml"\nDEFAULT_FILE_STORE = "toml"\n'
    )
    settings = tmp_path / "settings.py"
    settings.write_text("LAYER_SETTINGS = 'settings'\nDEFAULT_FILE_STORE = 'settings'\n")
    monkeypatch.setenv(SETTINGS_ENV_VAR, str(settings))
    monkeypatch.setenv("DEFAULT_FILE_STORE", "env")

    config = load().config

    assert config["LAYER_PY"] == "py"
    assert config["LAYER_JSON"] == "json"
    assert config["LAYER_TOML"] == "toml"
    assert config["LAYER_SETTINGS"] == "settings"
    assert config["DEFAULT_FILE_STORE"] == "env"
    assert config["REVERSE_PROXY_COUNT"] == 3  # a default replaced by the first layer
    assert config["OPENAPI_JSON_PATH"] == "api-spec.json"  # a default no layer touched


@pytest.mark.parametrize("file_name", ["config.py", "config.json", "config.toml"])
def test_each_instance_file_is_read_on_its_own(
    load: Callable[..., Flask], instance: Path, file_name: str
) -> None:
    content = {
        "config.py": "PLUGIN_REGISTRY_URL = 'http://registry:5006/api/'\n",
        "config.json": '{"PLUGIN_REGISTRY_URL": "http://registry:5006/api/"}',
        "config.toml": 'PLUGIN_REGISTRY_URL = "http://registry:5006/api/"\n',
    }[file_name]
    (instance / file_name).write_text(content)
    assert load().config["PLUGIN_REGISTRY_URL"] == "http://registry:5006/api/"


@pytest.mark.parametrize(
    ("variable", "value"), [("FLASK_DEBUG", "1"), ("FLASK_ENV", "development")]
)
def test_debug_flag_selects_the_debug_defaults(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    config = load().config
    assert config["DEBUG"] is True
    assert config["ENV"] == "development"
    assert config["SECRET_KEY"] == DebugConfig.SECRET_KEY
    assert config["DEFAULT_LOG_SEVERITY"] == "INFO"
    assert config["PLUGIN_FOLDERS"] == ["./plugins", "./local_plugins"]


def test_overrides_skip_instance_files_and_environment(
    load: Callable[..., Flask], instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text("DEFAULT_FILE_STORE = 'from-file'\n")
    monkeypatch.setenv("DEFAULT_FILE_STORE", "from-env")
    monkeypatch.setenv("BROKER_URL", "redis://broker:6379/0")
    config = load({"PLUGIN_REGISTRY_URL": "http://given"}).config
    assert config["TESTING"] is True
    assert config["PLUGIN_REGISTRY_URL"] == "http://given"
    assert config["DEFAULT_FILE_STORE"] == "local_filesystem"
    assert config["CELERY"]["broker_url"].startswith("filesystem://")


def test_relative_settings_path_is_relative_to_the_working_directory(
    load: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "workdir"
    (workdir / "conf").mkdir(parents=True)
    (workdir / "conf" / "settings.py").write_text("PLUGIN_REGISTRY_URL = 'http://relative/'\n")
    monkeypatch.chdir(workdir)  # not the app's root_path, against which Flask resolves pyfiles
    monkeypatch.setenv(SETTINGS_ENV_VAR, "conf/settings.py")
    assert load().config["PLUGIN_REGISTRY_URL"] == "http://relative/"


def test_missing_settings_file_is_an_error_naming_it(
    load: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "settings.py"
    monkeypatch.setenv(SETTINGS_ENV_VAR, str(missing))
    with pytest.raises(ConfigError) as info:
        load()
    assert SETTINGS_ENV_VAR in str(info.value)
    assert str(missing) in str(info.value)


@pytest.mark.parametrize(
    ("file_name", "content"),
    [("config.json", '{"DEBUG": tru'), ("config.toml", "DEBUG = = true\n")],
)
def test_unreadable_instance_file_is_an_error_naming_it(
    load: Callable[..., Flask], instance: Path, file_name: str, content: str
) -> None:
    (instance / file_name).write_text(content)
    with pytest.raises(ConfigError) as info:
        load()
    assert file_name in str(info.value)


# --- environment rows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "raw", "key", "expected"),
    [
        ("DEFAULT_FILE_STORE", "url_file_store", "DEFAULT_FILE_STORE", "url_file_store"),
        ("SERVER_NAME", "runner.example:8080", "SERVER_NAME", "runner.example:8080"),
        (
            "PLUGIN_REGISTRY_URL",
            "http://registry/api/",
            "PLUGIN_REGISTRY_URL",
            "http://registry/api/",
        ),
        ("REVERSE_PROXY_COUNT", " 2 ", "REVERSE_PROXY_COUNT", 2),
        ("MAX_CONTENT_LENGTH", "1024", "MAX_CONTENT_LENGTH", 1024),
        ("DATABASE_POOL_SIZE", "32", "DATABASE_POOL_SIZE", 32),
        ("SQLALCHEMY_ECHO", "yes", "SQLALCHEMY_ECHO", True),
        ("SQLALCHEMY_ECHO", "off", "SQLALCHEMY_ECHO", False),
        ("BROKER_POLLING_INTERVAL", "0.5", "BROKER_POLLING_INTERVAL", 0.5),
        ("CORS_ORIGINS", "*", "CORS_ORIGINS", "*"),
        ("CORS_ORIGINS", "http://a, http://b,", "CORS_ORIGINS", ["http://a", "http://b"]),
        ("LOG_LEVEL", "DEBUG", "DEFAULT_LOG_SEVERITY", "DEBUG"),
        ("PLUGIN_FOLDERS", "./a::/opt/b:", "PLUGIN_FOLDERS", ["./a", "/opt/b"]),
        ("PLUGIN_FOLDERS", "", "PLUGIN_FOLDERS", []),
    ],
)
def test_environment_rows_parse_their_values(
    load: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    raw: str,
    key: str,
    expected: Any,
) -> None:
    monkeypatch.setenv(variable, raw)
    value = load().config[key]
    assert value == expected
    assert type(value) is type(expected)


def test_plugin_folders_from_a_file_are_split_on_colons(
    load: Callable[..., Flask], instance: Path
) -> None:
    (instance / "config.py").write_text("PLUGIN_FOLDERS = 'plugins:local_plugins:'\n")
    assert load().config["PLUGIN_FOLDERS"] == ["plugins", "local_plugins"]


def test_url_map_is_compiled_into_rewrite_rules(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "URL_MAP", json.dumps({r"^http://localhost:(\d+)": r"http://host.docker.internal:\1"})
    )
    rules = load().config["URL_REWRITE_RULES"]
    assert len(rules) == 1
    pattern, replacement = rules[0]
    assert isinstance(pattern, re.Pattern)
    assert (
        pattern.sub(replacement, "http://localhost:5005/x") == "http://host.docker.internal:5005/x"
    )


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("REVERSE_PROXY_COUNT", "abc"),
        ("REVERSE_PROXY_COUNT", "-1"),
        ("MAX_CONTENT_LENGTH", "1.5"),
        ("DATABASE_POOL_SIZE", "-4"),
        ("DATABASE_POOL_SIZE", "many"),
        ("URL_MAP", "[1]"),
        ("URL_MAP", "not json"),
        ("URL_MAP", '{"(unclosed": "x"}'),
        ("SQLALCHEMY_ECHO", "maybe"),
        ("BROKER_POLLING_INTERVAL", "fast"),
    ],
)
def test_bad_environment_value_names_variable_and_value(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, variable: str, raw: str
) -> None:
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ConfigError) as info:
        load()
    message = str(info.value)
    assert variable in message
    assert raw in message


def test_invalid_rewrite_rule_from_a_file_names_the_pattern(
    load: Callable[..., Flask], instance: Path
) -> None:
    (instance / "config.py").write_text("URL_REWRITE_RULES = {'[a-': 'x'}\n")
    with pytest.raises(ConfigError) as info:
        load()
    assert "URL_REWRITE_RULES" in str(info.value)
    assert "[a-" in str(info.value)


# --- secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["SECRET_KEY", "DB_PASSWORD", "MINIO_SECRET"])
def test_config_error_hides_secret_values(key: str) -> None:
    error = ConfigError(key, "hunter2-very-secret", "too short")
    assert "hunter2-very-secret" not in str(error)
    assert key in str(error) and "too short" in str(error)
    assert error.key == key


def test_config_error_shows_ordinary_values() -> None:
    assert "'abc'" in str(ConfigError("REVERSE_PROXY_COUNT", "abc", "expected an integer"))


def test_production_secret_key_is_generated_once_and_reused(
    load: Callable[..., Flask], instance: Path
) -> None:
    first = load().config["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert len(first) >= 32
    if os.name == "posix":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load().config["SECRET_KEY"] == first


def test_another_process_reads_the_same_secret_key(
    load: Callable[..., Flask], instance: Path
) -> None:
    script = (
        "import sys; from flask import Flask; from qhana_plugin_runner.config import load_config;"
        "app = Flask('other', instance_path=sys.argv[1]); load_config(app);"
        "print(app.config['SECRET_KEY'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in READ_BY_LOADER}
    other = subprocess.run(
        [sys.executable, "-c", script, str(instance)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert other
    assert load().config["SECRET_KEY"] == other


def test_process_starting_while_the_key_is_written_gets_the_same_key(
    load: Callable[..., Flask], instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes of a fresh install start together (gunicorn workers, web and worker).

    The second process is run at the moment the first one draws its random key; it must not
    find an empty key file, and both must end up with one key.
    """
    draw = secrets.token_urlsafe
    second: list[str] = []

    def draw_while_another_process_starts(size: int | None = None) -> str:
        if not second:
            second.append("")  # only the first draw starts the other process
            second[0] = load().config["SECRET_KEY"]
        return draw(size)

    monkeypatch.setattr(secrets, "token_urlsafe", draw_while_another_process_starts)
    first = load().config["SECRET_KEY"]
    assert second and second[0], "the other process did not run"
    assert first == second[0] == (instance / "secret_key").read_text().strip()
    assert [p.name for p in instance.iterdir() if "secret" in p.name] == ["secret_key"]


@pytest.mark.parametrize("variable", ["SECRET_KEY", "QHANA_SECRET_KEY"])
def test_secret_key_from_environment_needs_no_key_file(
    load: Callable[..., Flask], instance: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "from-the-environment")
    assert load().config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / "secret_key").exists()


def test_empty_secret_key_file_is_an_error_that_hides_the_value(
    load: Callable[..., Flask], instance: Path
) -> None:
    (instance / "secret_key").write_text("")
    with pytest.raises(ConfigError) as info:
        load()
    assert info.value.key == "SECRET_KEY"
    assert "empty" in str(info.value)
    assert str(instance) not in str(info.value)


# --- database -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/runner", "postgresql+psycopg://u:p@db:5432/runner"),
        ("postgresql+psycopg2://u:p@db/runner", "postgresql+psycopg://u:p@db/runner"),
        ("postgres://u@db/runner", "postgresql+psycopg://u@db/runner"),
        ("postgresql+psycopg://u@db/runner", "postgresql+psycopg://u@db/runner"),
        ("sqlite:////data/runner.db", "sqlite:////data/runner.db"),
    ],
)
def test_postgresql_uris_use_psycopg3(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", given)
    assert load().config["SQLALCHEMY_DATABASE_URI"] == expected


def test_psycopg2_uri_from_an_instance_file_is_rewritten(
    load: Callable[..., Flask], instance: Path
) -> None:
    (instance / "config.py").write_text("SQLALCHEMY_DATABASE_URI = 'postgresql+psycopg2://db/x'\n")
    assert load().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/x"


def test_file_store_root_is_relative_to_instance_unless_absolute(
    load: Callable[..., Flask], instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILE_STORE_ROOT_PATH", "stored/files")
    assert load().config["FILE_STORE_ROOT_PATH"] == str(instance / "stored" / "files")
    monkeypatch.setenv("FILE_STORE_ROOT_PATH", str(tmp_path / "elsewhere"))
    assert load().config["FILE_STORE_ROOT_PATH"] == str(tmp_path / "elsewhere")


# --- celery ---------------------------------------------------------------------------------


def test_embedded_broker_and_file_results_without_a_broker(
    load: Callable[..., Flask], instance: Path
) -> None:
    celery = load().config["CELERY"]
    assert celery["broker_url"].startswith("filesystem://")
    options = celery["broker_transport_options"]
    queue = instance / "celery-broker" / "queue"
    assert options["data_folder_in"] == options["data_folder_out"] == str(queue)
    assert queue.is_dir()
    assert Path(options["control_folder"]).is_dir()
    results = instance / "celery-results"
    assert celery["result_backend"] == f"file://{results}"
    assert results.is_dir()


def test_redis_broker_from_environment(
    load: Callable[..., Flask], instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_URL", "redis://broker:6379/0")
    monkeypatch.setenv("RESULT_BACKEND", "redis://broker:6379/1")
    celery = load().config["CELERY"]
    assert celery["broker_url"] == "redis://broker:6379/0"
    assert celery["result_backend"] == "redis://broker:6379/1"
    # a killed worker's tasks come back after two minutes, looked for every 10 s
    assert celery["broker_transport_options"] == {"visibility_timeout": 120.0, "unacked_restore_interval": 10, "unacked_restore_throttle": 1, "unacked_mutex_expire": 30}
    assert not (instance / "celery-broker").exists()


def test_redis_visibility_timeout_from_environment(load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKER_URL", "redis://broker:6379/0")
    monkeypatch.setenv("BROKER_VISIBILITY_TIMEOUT", "6")
    options = load().config["CELERY"]["broker_transport_options"]
    assert (options["visibility_timeout"], options["unacked_restore_interval"], options["unacked_mutex_expire"]) == (6.0, 1, 1)


def test_explicit_redis_transport_options_win(load: Callable[..., Flask], instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (instance / "config.py").write_text('CELERY = {"broker_url": "redis://broker:6379/0", "broker_transport_options": {"visibility_timeout": 7200, "global_keyprefix": "x"}}\n')
    options = load().config["CELERY"]["broker_transport_options"]
    assert options == {"visibility_timeout": 7200, "global_keyprefix": "x", "unacked_restore_interval": 10, "unacked_restore_throttle": 1, "unacked_mutex_expire": 300}


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_unusable_visibility_timeout_stops_start_up(load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BROKER_VISIBILITY_TIMEOUT", value)
    with pytest.raises(ConfigError, match="BROKER_VISIBILITY_TIMEOUT"):
        load()


def test_redis_broker_without_result_backend_gets_no_file_backend(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_URL", "redis://broker:6379/0")
    celery = load().config["CELERY"]
    assert not str(celery.get("result_backend") or "").startswith("file://")


def test_celery_queue_sets_the_default_queue(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELERY_QUEUE", "gpu-workers")
    assert load().config["CELERY"]["task_default_queue"] == "gpu-workers"


def test_environment_merges_into_celery_from_a_file(
    load: Callable[..., Flask], instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text(
        "CELERY = {'broker_url': 'redis://file:6379/0', 'task_time_limit': 60}\n"
    )
    monkeypatch.setenv("CELERY_QUEUE", "q2")
    celery = load().config["CELERY"]
    assert celery["broker_url"] == "redis://file:6379/0"
    assert celery["task_time_limit"] == 60
    assert celery["task_default_queue"] == "q2"


def test_environment_overrides_leave_the_default_classes_untouched(
    load: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_URL", "redis://broker:6379/0")
    monkeypatch.setenv("CELERY_QUEUE", "other")
    monkeypatch.setenv("PLUGIN_FOLDERS", "x")
    load()
    assert ProductionConfig.CELERY == {"task_default_queue": DEFAULT_QUEUE}
    assert ProductionConfig.PLUGIN_FOLDERS == []
    monkeypatch.delenv("BROKER_URL")
    monkeypatch.delenv("CELERY_QUEUE")
    assert load().config["CELERY"]["task_default_queue"] == DEFAULT_QUEUE
