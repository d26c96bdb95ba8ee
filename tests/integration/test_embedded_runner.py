"""`make run`'s command, as a user starts it: API and worker as real processes, SQLite and the
filesystem broker in the instance folder, no other service. Also the issue's acceptance walk."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from helpers import ROOT, poll

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    workdir = tmp_path_factory.mktemp("embedded")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_URL", "RESULT_BACKEND", "SQLALCHEMY_DATABASE_URI", "FLASK_"))}
    env.update(
        QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(workdir / "instance"),
        PLUGIN_FOLDERS=str(ROOT / "plugins"),
    )
    log = (workdir / "runner.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "qhana_plugin_runner", "--port", str(port), "--log-level", "WARNING"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while time.monotonic() - started < 60:
            if process.poll() is not None:
                pytest.fail(f"runner exited with {process.returncode}: {(workdir / 'runner.log').read_text()[-3000:]}")
            try:
                if requests.get(base + "/plugins/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still loading the app
                time.sleep(0.2)
        else:
            pytest.fail("the plugin list did not answer within 60 s")
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def test_plugin_list_shows_both_demo_plugins(embedded: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = embedded
    names = {p["name"] for p in requests.get(base + "/plugins/", timeout=5).json()["plugins"]}
    assert {"hello-world", "hello-world-multi-step"} <= names


def test_hello_world_end_to_end(embedded: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = embedded
    session = requests.Session()
    response = session.post(base + "/plugins/hello-world@v0-2-1/process/", data={"inputStr": "an input"}, allow_redirects=False, timeout=10)
    assert response.status_code == 303
    task_url = requests.compat.urljoin(base, response.headers["Location"])
    body = poll(lambda: session.get(task_url, timeout=5).json(), lambda b: b["status"] != "PENDING", timeout=60)
    assert body["status"] == "SUCCESS", body
    download = session.get(body["outputs"][0]["href"], timeout=5, allow_redirects=False)
    assert download.status_code == 200 and download.text == "an output"


def test_multi_step_end_to_end(embedded: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = embedded
    session = requests.Session()
    response = session.post(base + "/plugins/hello-world-multi-step@v0-2-1/process/", data={"inputStr": "input text"}, timeout=10)
    assert response.status_code == 200 and response.url.startswith(base + "/tasks/")
    body = poll(lambda: session.get(response.url, timeout=5).json(), lambda b: bool(b.get("steps")), timeout=60)
    step = body["steps"][0]
    page = session.get(step["uiHref"], timeout=5)
    assert page.status_code == 200 and 'name="inputStr"' in page.text
    session.post(step["href"], data={"inputStr": "Input from preprocessing: input text"}, timeout=10).raise_for_status()
    final = poll(lambda: session.get(response.url, timeout=5).json(), lambda b: b["status"] != "PENDING", timeout=60)
    assert final["status"] == "SUCCESS"
    assert sorted(o["name"] for o in final["outputs"]) == ["output1.txt", "output2.txt"]


def test_sigint_stops_api_and_worker(embedded: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, process = embedded
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 2, "the API server and the worker run as two child processes"
    os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    for child in children:
        assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text().lower()
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/plugins/", timeout=2)
