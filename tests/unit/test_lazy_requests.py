"""requests (with urllib3) is imported by a process's first outgoing request, not while the app
and every bundled plugin are loaded: the API and the worker start and idle without it. What
plugins import from the runner keeps working the same."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from helpers import ROOT

_LOADED = "print(sorted(m for m in ('requests', 'urllib3') if m in sys.modules))\n"


def _run(code: str, tmp_path: Path, **env_extra: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QHANA_PLUGIN_RUNNER_", "SQLALCHEMY_", "BROKER_URL", "EVENT_BUS_URL", "PLUGIN_FOLDERS"))}
    env.update(QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(tmp_path), PLUGIN_FOLDERS=str(ROOT / "plugins"), DEFAULT_LOG_LEVEL="ERROR", **env_extra)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()


def test_the_api_with_every_bundled_plugin_starts_without_requests(tmp_path: Path) -> None:
    code = (
        "import sys, qhana_plugin_runner\n"
        "app = qhana_plugin_runner.create_app()\n"
        "print(len({r.rule.split('/')[2] for r in app.url_map.iter_rules() if r.rule.startswith('/plugins/') and r.rule.count('/') > 3}))\n"
        + _LOADED
        + "from qhana_plugin_runner.requests import open_url\n"
        "with app.app_context(), open_url('data:,hello') as response:\n"
        "    print(response.text)\n"
        + _LOADED
    )
    lines = _run(code, tmp_path)
    assert int(lines[0]) >= 7, lines  # every bundled plugin mounted (their modules import open_url, interop, ...)
    assert lines[1] == "[]", lines
    assert lines[2:] == ["hello", "['requests', 'urllib3']"], lines


def test_the_worker_app_starts_without_requests(tmp_path: Path, redis_url: str, postgres_url: str) -> None:
    code = "import sys, qhana_plugin_runner.celery_worker, celery.worker, celery.concurrency.thread\n" + _LOADED
    assert _run(code, tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url, BROKER_URL=redis_url) == ["[]"]


_HEAVY = "print(sorted(m for m in ('numpy', 'scipy', 'pandas', 'sklearn') if m in sys.modules))\n"


def test_heavy_plugin_libraries_load_only_where_they_compute(tmp_path: Path, redis_url: str, postgres_url: str) -> None:
    """The bundled plugins that compute with numpy and scipy import them in the function that
    computes (scipy-minimizer's task, ridge-loss's evaluation): neither the API with every
    plugin mounted nor the worker with every plugin's tasks registered loads them."""
    api = "import sys, qhana_plugin_runner\napp = qhana_plugin_runner.create_app()\nprint(sorted(r.rule for r in app.url_map.iter_rules() if 'ridge-loss' in r.rule)[:1])\n" + _HEAVY
    worker = "import sys, qhana_plugin_runner.celery_worker as w, celery.worker, celery.concurrency.thread\nprint(sorted(n for n in w.CELERY.tasks if n.startswith('scipy-minimizer@')))\n" + _HEAVY
    api_lines = _run(api, tmp_path)
    assert api_lines[0] != "[]" and api_lines[1] == "[]", api_lines  # ridge-loss mounted, nothing heavy loaded
    worker_lines = _run(worker, tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url, BROKER_URL=redis_url)
    assert worker_lines == ["['scipy-minimizer@v0-1-0.minimize']", "[]"], worker_lines


def test_what_plugins_import_is_what_it_was() -> None:
    import requests

    from qhana_plugin_runner import errors
    from qhana_plugin_runner import requests as runner_requests
    from qhana_plugin_runner.errors import DeniedTarget, RunnerError
    from qhana_plugin_runner.requests import REQUEST_SESSION
    from qhana_plugin_runner.util.net_guard import GuardedAdapter

    assert isinstance(REQUEST_SESSION, requests.Session) and runner_requests.REQUEST_SESSION is REQUEST_SESSION
    assert isinstance(REQUEST_SESSION.get_adapter("https://example.org/"), GuardedAdapter)
    assert issubclass(DeniedTarget, RunnerError) and issubclass(DeniedTarget, requests.RequestException)
    assert errors.DeniedTarget is DeniedTarget and DeniedTarget.__qualname__ == "DeniedTarget"
    assert "DeniedTarget" in errors.__all__ and "REQUEST_SESSION" in runner_requests.__all__


def test_a_session_put_in_place_of_request_session_is_used(monkeypatch: Any) -> None:
    """Plugin tests replace ``REQUEST_SESSION`` to answer without a server; ``open_url`` and
    the interop helpers use whatever is there, as when the session was made at import."""
    from qhana_plugin_runner import requests as runner_requests
    from qhana_plugin_runner.plugin_utils import interop

    asked: list[str] = []

    class FakeSession:
        def get(self, url: str, **kwargs: Any) -> Any:
            asked.append(url)
            return type("Answer", (), {"ok": True})()

    fake = FakeSession()
    monkeypatch.setattr(runner_requests, "REQUEST_SESSION", fake)
    runner_requests.open_url("http://example.org/data")
    assert asked == ["http://example.org/data"]
    assert interop._request_session() is fake


def test_denied_target_is_one_class_for_all_threads(monkeypatch: Any) -> None:
    """Threads asking for it first at the same moment get the same class, so ``except
    DeniedTarget`` in one module catches what another raised."""
    from qhana_plugin_runner import errors

    monkeypatch.delitem(errors.__dict__, "DeniedTarget", raising=False)
    barrier = threading.Barrier(8)
    seen: list[type] = []

    def ask() -> None:
        barrier.wait()
        seen.append(errors.DeniedTarget)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len(set(seen)) == 1
