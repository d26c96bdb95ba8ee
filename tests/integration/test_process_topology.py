"""The production topology without Docker: gunicorn with 2 processes, 2 Celery worker processes
and beat, all started through the container entry point, on the local Redis and PostgreSQL.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from process_topology import Topology

from qhana_plugin_runner.db.models.tasks import utc_now

from helpers import poll

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory, postgres_database: str) -> Iterator[Topology]:
    from conftest import REDIS_URL, require_service

    require_service("Redis", REDIS_URL)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    workdir = tmp_path_factory.mktemp("topology")
    # beat checks for old tasks every second here, so the cleanup test need not wait an hour
    running = Topology(workdir, database_url=postgres_database, broker_url=REDIS_URL, extra_env={"TASK_RETENTION_DAYS": "1", "TASK_CLEANUP_INTERVAL": "1"})
    try:
        running.start()
        yield running
    finally:
        codes = running.stop()
        print(codes)


def _submit(session: requests.Session, base: str, text: str) -> str:
    response = session.post(base + "/plugins/hello-world@v0-2-1/process/", data={"inputStr": text}, allow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    return requests.compat.urljoin(base, response.headers["Location"])


def _final(session: requests.Session, task_url: str, timeout: float = 60) -> dict:
    return poll(lambda: session.get(task_url, timeout=5).json(), lambda body: body["status"] != "PENDING", timeout=timeout)


def test_every_process_is_up(topology: Topology) -> None:
    assert set(topology.processes) == {"api", "worker1", "worker2", "beat"}
    assert len(topology.ping_workers()) == 2
    ready = requests.get(topology.url + "/ready", timeout=5).json()
    assert ready["status"] == "ok" and ready["checks"]["broker"]["ok"] and ready["checks"]["database"]["ok"]
    gunicorn_children = Path(f"/proc/{topology.processes['api'].pid}/task/{topology.processes['api'].pid}/children").read_text().split()
    assert len(gunicorn_children) == 2, "gunicorn runs two worker processes"


def test_hello_world_through_the_topology(topology: Topology) -> None:
    session = requests.Session()
    task_url = _submit(session, topology.url, "through redis and postgres")
    body = _final(session, task_url)
    assert body["status"] == "SUCCESS", body
    output = body["outputs"][0]
    assert output["href"].startswith(topology.url + "/files/")
    download = session.get(output["href"], timeout=5)
    assert download.status_code == 200 and download.text == "through redis and postgres"


def test_a_burst_is_shared_by_both_workers(topology: Topology) -> None:
    before = {name: sum(stats.get("total", {}).values()) for name, stats in topology.worker_stats().items()}
    session = requests.Session()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        urls = list(pool.map(lambda n: _submit(requests.Session(), topology.url, f"burst {n}"), range(40)))
    finals = [_final(session, url) for url in urls]
    assert [body["status"] for body in finals] == ["SUCCESS"] * 40
    after = {name: sum(stats.get("total", {}).values()) for name, stats in topology.worker_stats().items()}
    worked = {name: after[name] - before.get(name, 0) for name in after}
    assert len(worked) == 2 and sum(worked.values()) >= 40, worked
    assert all(count > 0 for count in worked.values()), worked


def test_multi_step_through_the_topology(topology: Topology) -> None:
    session = requests.Session()
    response = session.post(topology.url + "/plugins/hello-world-multi-step@v0-2-1/process/", data={"inputStr": "steps"}, timeout=10)
    assert response.status_code == 200 and response.url.startswith(topology.url + "/tasks/")
    body = poll(lambda: session.get(response.url, timeout=5).json(), lambda b: bool(b.get("steps")), timeout=60)
    session.post(body["steps"][0]["href"], data={"inputStr": "second step"}, timeout=10).raise_for_status()
    final = _final(session, response.url)
    assert final["status"] == "SUCCESS", final
    assert sorted(output["name"] for output in final["outputs"]) == ["output1.txt", "output2.txt"]


def test_beat_removes_an_old_task_and_keeps_a_new_one(topology: Topology) -> None:
    engine = sa.create_engine(topology.database_url)
    task = sa.table("ProcessingTask", sa.column("id"), sa.column("task_name"), sa.column("started_at"), sa.column("finished_at"), sa.column("task_status"), sa.column("parameters"), sa.column("multi_step"), sa.column("current_step"), sa.column("progress_start"), sa.column("progress_target"), sa.column("progress_unit"), sa.column("task_log"), sa.column("data"))
    common = {"parameters": "", "multi_step": False, "current_step": -1, "progress_start": 0, "progress_target": 100, "progress_unit": "%", "task_log": "", "task_status": "SUCCESS", "data": "{}"}
    try:
        with engine.begin() as conn:
            old_id = conn.execute(sa.insert(task).values(task_name="old", started_at=utc_now() - timedelta(days=3), finished_at=utc_now() - timedelta(days=2), **common).returning(task.c.id)).scalar_one()
            new_id = conn.execute(sa.insert(task).values(task_name="new", started_at=utc_now(), finished_at=utc_now(), **common).returning(task.c.id)).scalar_one()

        def remaining() -> dict:
            with engine.connect() as conn:
                return {"ids": set(conn.execute(sa.select(task.c.id).where(task.c.id.in_([old_id, new_id]))).scalars())}

        poll(remaining, lambda found: old_id not in found["ids"], timeout=30)
        assert remaining()["ids"] == {new_id}
    finally:
        engine.dispose()
    assert requests.get(f"{topology.url}/tasks/{old_id}/", timeout=5).status_code == 404
    assert requests.get(f"{topology.url}/tasks/{new_id}/", timeout=5).status_code == 200


def test_container_health_checks_answer(topology: Topology) -> None:
    import subprocess
    import sys

    def healthcheck(mode: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qhana_plugin_runner.deploy.healthcheck"], env=topology.env(mode, **extra), capture_output=True, text=True, timeout=60)

    assert healthcheck("server").returncode == 0
    assert healthcheck("worker", CELERY_WORKER_NAME="w1@%h").returncode == 0
    missing = healthcheck("worker", CELERY_WORKER_NAME="nobody@%h")
    assert missing.returncode == 1 and "did not answer" in missing.stderr


def test_sigterm_stops_everything_cleanly(topology: Topology) -> None:
    codes = topology.stop()
    assert codes == {"api": 0, "worker1": 0, "worker2": 0, "beat": 0}, topology.log_tail()
    with pytest.raises(requests.ConnectionError):
        requests.get(topology.url + "/health", timeout=2)

