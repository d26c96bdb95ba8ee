"""50 clients at once against the embedded runner on its default SQLite database (and the
filesystem broker): each submits a task and polls it to the end. SQLite allows one writer at a
time; the API and the worker must wait for the lock rather than fail with "database is locked".
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from fault_tools import HELLO, summary
from process_topology import free_port

from helpers import ROOT

pytestmark = pytest.mark.slow

CLIENTS = 50
LOCKED = "database is locked"


@pytest.fixture
def embedded(tmp_path: Path, pycache: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_URL", "RESULT_BACKEND", "SQLALCHEMY_DATABASE_URI", "FLASK_"))}
    env.update(
        QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(tmp_path / "instance"),
        PLUGIN_FOLDERS=str(ROOT / "plugins"),
        PYTHONPYCACHEPREFIX=str(pycache),
        PYTHONDONTWRITEBYTECODE="",
    )
    log_path = tmp_path / "runner.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "qhana_plugin_runner", "--port", str(port), "--log-level", "WARNING"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the embedded runner did not answer within 90 s"
            try:
                if requests.get(base + "/ready", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        yield base, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _client(base: str, number: int) -> tuple[str, list[str], float]:
    """Submit, poll to the end, download; returns the final status and every response body."""
    session = requests.Session()
    bodies: list[str] = []
    started = time.monotonic()
    text = f"client {number} input"
    response = session.post(base + HELLO, data={"inputStr": text}, allow_redirects=False, timeout=30)
    bodies.append(response.text)
    assert response.status_code == 303, (response.status_code, response.text[:500])
    task_url = urljoin(base, response.headers["Location"])
    deadline = time.monotonic() + 120
    while True:
        response = session.get(task_url, timeout=30)
        bodies.append(response.text)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        body = response.json()
        if body["status"] != "PENDING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if body["status"] == "SUCCESS":
        download = session.get(body["outputs"][0]["href"], timeout=30)
        bodies.append(download.text)
        assert download.text == text.replace("input", "output")
    return body["status"], bodies, time.monotonic() - started


def test_fifty_concurrent_clients_never_meet_a_locked_database(embedded: tuple[str, Path]) -> None:
    base, log_path = embedded
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda n: _client(base, n), range(CLIENTS)))
    elapsed = time.monotonic() - started
    statuses = [status for status, _, _ in results]
    locked_in_responses = sum(LOCKED in body for _, bodies, _ in results for body in bodies)
    log = log_path.read_text(errors="replace")
    summary(
        "sqlite-50-clients",
        statuses,
        requests=sum(len(bodies) for _, bodies, _ in results),
        locked_answers=locked_in_responses,
        locked_log_lines=log.count(LOCKED),
        seconds=round(elapsed, 1),
        slowest_client_seconds=round(max(t for _, _, t in results), 1),
    )
    assert statuses == ["SUCCESS"] * CLIENTS
    assert locked_in_responses == 0
    assert LOCKED not in log, log[log.find(LOCKED) - 2000 : log.find(LOCKED) + 500]
    assert "Traceback" not in log, log[-3000:]
