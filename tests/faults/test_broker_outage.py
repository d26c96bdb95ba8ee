"""The broker (a Redis server of this test, no persistence) is stopped while tasks run and while
a task is submitted, then started again on the same port.

A submission meets a JSON 503 at once and its task is FAILURE; a task that finishes while the
broker is away cannot send its bookkeeping message and must not stay PENDING either; once the
broker is back, new tasks run without restarting the API or a worker.
"""

from __future__ import annotations

import time

import pytest
import requests
import sqlalchemy as sa
from fault_tools import FAULTS, HELLO, RedisServer, submit, summary, task_id, wait_final
from process_topology import Topology

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def _newest_task_id(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text('SELECT max(id) FROM "ProcessingTask"')).scalar_one())
    finally:
        engine.dispose()


def test_stopped_broker_fails_submissions_cleanly_and_recovers(topology: Topology, broker: RedisServer, fault_database: str) -> None:
    session = requests.Session()
    running = [submit(session, topology.url, FAULTS, {"text": f"in flight {n}", "before": 0.2, "after": 0.3}) for n in range(4)]
    time.sleep(0.3)  # they have started (8 free threads), and finish while the broker is away
    broker.stop()

    refused = []
    for n in range(3):
        before = _newest_task_id(fault_database)
        started = time.monotonic()
        response = session.post(topology.url + HELLO, data={"inputStr": f"while away {n}"}, allow_redirects=False, timeout=30)
        took = time.monotonic() - started
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["code"] == 503 and "task queue is unavailable" in body["message"], body
        assert took < 10, f"the 503 took {took:.1f} s"
        refused.append(_newest_task_id(fault_database))
        assert refused[-1] == before + 1, "the refused submission left its task row"
    refused_bodies = [session.get(f"{topology.url}/tasks/{db_id}/", timeout=10).json() for db_id in refused]
    for body in refused_bodies:
        assert body["status"] == "FAILURE" and "Could not send task" in body["log"], body

    time.sleep(1)
    broker.start()
    back = time.monotonic()
    after = [submit(session, topology.url, HELLO, {"inputStr": f"input after {n}"}) for n in range(10)]
    finals = wait_final(session, after, timeout=60)
    recovered = time.monotonic() - back
    in_flight = wait_final(session, running, timeout=30)
    summary(
        "broker-down",
        [b["status"] for b in refused_bodies] + [b["status"] for b in in_flight.values()] + [b["status"] for b in finals.values()],
        submitted_while_down=f"{len(refused)} (503, FAILURE)",
        in_flight=" / ".join(f"{b['status']}" for b in in_flight.values()),
        submitted_after=f"{len(after)} ({sum(b['status'] == 'SUCCESS' for b in finals.values())} SUCCESS)",
        seconds_until_all_after_done=round(recovered, 1),
    )

    assert [finals[url]["status"] for url in after] == ["SUCCESS"] * len(after)
    assert [finals[url]["outputs"][0]["name"] for url in after] == ["out.txt"] * len(after)
    for url, body in in_flight.items():
        # finished before the broker went away, or could not report its end: never PENDING
        assert body["status"] == "SUCCESS" or (body["status"] == "FAILURE" and "Could not send task qhana-plugin-runner.save-result" in body["log"]), (task_id(url), body)
    assert recovered < 60
