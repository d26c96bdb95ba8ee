"""``GUNICORN_WORKERS``: a number, or ``auto`` (half the usable CPUs, at least one), for gunicorn
and granian alike; a CPU quota of the container caps the CPUs counted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qhana_plugin_runner.deploy.entrypoint import command_for
from qhana_plugin_runner.deploy.processes import server_processes, usable_cpus


@pytest.mark.parametrize(("raw", "cpus", "expected"), [(None, 8, 2), ("", 8, 2), ("3", 8, 3), ("auto", 2, 1), ("AUTO", 8, 4), ("auto", 1, 1), ("auto", 5, 2)])
def test_server_processes(raw: str | None, cpus: int, expected: int) -> None:
    assert server_processes(raw, 2, cpus=cpus) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_bad_values_name_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match=f"GUNICORN_WORKERS={raw!r}: expected a positive integer or auto"):
        server_processes(raw, 2, cpus=4)


def test_a_cgroup_quota_caps_the_cpus(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    assert usable_cpus(cpu_max) == affinity
    cpu_max.write_text("150000 100000\n")  # one and a half CPUs: counted as 2
    assert usable_cpus(cpu_max) == min(affinity, 2)
    cpu_max.write_text("50000 100000\n")
    assert usable_cpus(cpu_max) == 1
    assert usable_cpus(tmp_path / "missing") == affinity


def test_granian_gets_the_resolved_number() -> None:
    command = command_for("server", {"HTTP_SERVER": "granian", "GUNICORN_WORKERS": "auto"})
    assert command is not None
    assert command[command.index("--workers") + 1] == str(max(1, usable_cpus() // 2))
    with pytest.raises(ValueError, match="GUNICORN_WORKERS='many'"):
        command_for("server", {"HTTP_SERVER": "granian", "GUNICORN_WORKERS": "many"})


def test_gunicorn_config_reads_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import qhana_plugin_runner.deploy.gunicorn_config as config

    monkeypatch.setenv("GUNICORN_WORKERS", "auto")
    assert importlib.reload(config).workers == max(1, usable_cpus() // 2)
    monkeypatch.setenv("GUNICORN_WORKERS", "none")
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS='none'"):
        importlib.reload(config)
    monkeypatch.delenv("GUNICORN_WORKERS")
    assert importlib.reload(config).workers == 2
