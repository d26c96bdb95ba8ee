"""Dockerfile and docker-compose.yml checked for structure (no Docker engine runs here).

The compose file must describe the topology tests/integration/test_process_topology.py runs as
plain processes, with every variable one the runner or its entry point reads.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from qhana_plugin_runner.config.env import ENV_OVERRIDES
from qhana_plugin_runner.deploy.entrypoint import command_for
from qhana_plugin_runner.deploy.processes import GRANIAN_MODULE
from qhana_plugin_runner.deploy.wait import parse_hosts

from helpers import ROOT

# read by the entry point, gunicorn config, wait and git helpers (not config keys)
DEPLOY_VARIABLES = {
    "CONTAINER_MODE", "WAIT_HOSTS", "WAIT_TIMEOUT", "WAIT_SLEEP_INTERVAL", "WAIT_BEFORE", "WAIT_AFTER",
    "GIT_PLUGINS", "GIT_PLUGINS_PATH", "HTTP_SERVER", "SERVER_HOST", "SERVER_PORT", "GUNICORN_WORKERS",
    "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_ACCESS_LOG", "FORWARDED_ALLOW_IPS",
    "CONCURRENCY", "CELERY_WORKER_POOL", "CELERY_WORKER_NAME", "PERIODIC_SCHEDULER",
    "QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER", "FLASK_APP", "PATH", "PYTHONUNBUFFERED",
}
RUNNER_VARIABLES = {row.env for row in ENV_OVERRIDES} | DEPLOY_VARIABLES


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    assert isinstance(environment, dict), "environment is written as a mapping"
    return {key: str(value) for key, value in environment.items()}


def test_services_of_the_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"qhana-plugin-runner", "worker", "redis", "postgres"}
    runner, worker = services["qhana-plugin-runner"], services["worker"]
    assert _env(runner)["CONTAINER_MODE"] == "server" and _env(worker)["CONTAINER_MODE"] == "worker"
    assert _env(worker)["PERIODIC_SCHEDULER"] == "true"
    assert runner["image"] == worker["image"], "server and worker must run the same plugins"
    assert re.fullmatch(r"\$\{RUNNER_PORT:-5005\}:8080", runner["ports"][0])
    # the compose set-up serves the API with granian (docs/adr/0007), gunicorn on request
    assert _env(runner)["HTTP_SERVER"] == "${HTTP_SERVER:-granian}"
    assert command_for("server", {"HTTP_SERVER": "granian"})[1:3] == ["-m", GRANIAN_MODULE]


def test_runner_and_worker_share_services_and_the_instance_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    runner, worker = _env(services["qhana-plugin-runner"]), _env(services["worker"])
    for key in ("SQLALCHEMY_DATABASE_URI", "BROKER_URL", "CELERY_QUEUE", "SERVER_NAME"):
        assert runner[key] == worker[key], key
    assert runner["BROKER_URL"].startswith("redis://redis:6379/")
    assert "@postgres:5432/" in runner["SQLALCHEMY_DATABASE_URI"]
    for name in ("qhana-plugin-runner", "worker"):
        assert "instance:/app/instance" in services[name]["volumes"]
        assert {"postgres", "redis"} <= set(services[name]["depends_on"])
    assert set(compose["volumes"]) == {"instance", "postgres"}


def test_wait_hosts_name_services_and_their_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    ports = {"postgres": 5432, "redis": 6379}
    for name in ("qhana-plugin-runner", "worker"):
        hosts = parse_hosts(_env(services[name])["WAIT_HOSTS"])
        assert hosts and all(host in services and ports[host] == port for host, port in hosts)


def test_every_runner_variable_is_one_the_runner_reads(compose: dict[str, Any]) -> None:
    for name in ("qhana-plugin-runner", "worker"):
        unknown = set(_env(compose["services"][name])) - RUNNER_VARIABLES
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"
        command_for(_env(compose["services"][name])["CONTAINER_MODE"], {k: v for k, v in _env(compose["services"][name]).items() if "$" not in v})


def test_interpolations_have_defaults(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for match in re.finditer(r"\$\{([^}]*)\}", text):
        assert ":-" in match.group(1), f"${{{match.group(1)}}} has no default"


def test_dependencies_have_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in services.values():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, dependency
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], dependency


def test_dockerfile_runs_as_a_user_with_a_health_check(dockerfile: str) -> None:
    final_stage = dockerfile.split("\nFROM ")[-1]
    users = re.findall(r"^USER (\S+)", final_stage, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert 'HEALTHCHECK' in final_stage and "qhana_plugin_runner.deploy.healthcheck" in final_stage
    assert re.search(r'^ENTRYPOINT \["python", "-m", "qhana_plugin_runner.deploy"\]', final_stage, re.M)
    assert "PLUGIN_FOLDERS=/app/plugins:/app/extra-plugins:/app/git-plugins" in final_stage
    for module in ("qhana_plugin_runner/deploy/__main__.py", "qhana_plugin_runner/deploy/healthcheck.py", "qhana_plugin_runner/deploy/git_plugins.py"):
        assert (ROOT / module).is_file()


def test_dockerfile_copies_what_exists_and_pins_the_makefile_uv(dockerfile: str) -> None:
    for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert f"ARG UV_VERSION={makefile_uv}" in dockerfile
    assert "--frozen" in dockerfile, "the image installs from uv.lock"
    assert "install --skip-runner-requirements" in dockerfile, "plugin requirements at build time"


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "instance", ".git", ".env"} <= ignored
