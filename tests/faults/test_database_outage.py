"""PostgreSQL "restarts" under load: the TCP proxy in front of it drops every connection and
refuses new ones for 2 s, then lets them through again, while clients keep polling a pending
and a finished task and the plugin list, and tasks are running.

Every request has a time limit and none may reach it; an error during the outage is a JSON
503 ("try again"), never an HTML page; the API answers again within seconds of the database, with no
error after that (stale pooled connections are noticed before they are used).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa
from fault_tools import FAULTS, HELLO, TcpProxy, submit, summary, task_id, wait_final
from process_topology import Topology

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

OUTAGE = 2.0
REQUEST_TIMEOUT = 10.0


@dataclass
class Answer:
    at: float
    path: str
    status: int | None
    json: bool
    seconds: float
    error: str = ""


def _poll(base: str, paths: list[str], stop: threading.Event, answers: list[Answer]) -> None:
    session = requests.Session()
    while not stop.is_set():
        for path in paths:
            started = time.monotonic()
            try:
                response = session.get(base + path, timeout=REQUEST_TIMEOUT)
            except requests.RequestException as err:
                answers.append(Answer(started, path, None, False, time.monotonic() - started, f"{type(err).__name__}: {err}"))
                continue
            is_json = response.headers.get("Content-Type", "").startswith("application/json")
            if is_json:
                response.json()  # parses
            answers.append(Answer(started, path, response.status_code, is_json, time.monotonic() - started, response.text[:200] if response.status_code >= 400 else ""))
        time.sleep(0.02)


def _pending_task(database_url: str) -> int:
    """A task row that stays PENDING (no message belongs to it): its resource is read from the
    database on every request, unlike a finished task's, which the API keeps in memory."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            return int(conn.execute(sa.text('INSERT INTO "ProcessingTask" (task_name, started_at, parameters, multi_step, current_step, progress_start, progress_target, progress_unit, task_log, data) VALUES (\'never-sent\', now(), \'\', false, -1, 0, 100, \'%\', \'\', \'{}\') RETURNING id')).scalar_one())
    finally:
        engine.dispose()


def test_api_survives_a_database_restart(topology: Topology, database_proxy: tuple[TcpProxy, str], fault_database: str) -> None:
    proxy, _ = database_proxy
    session = requests.Session()
    done = submit(session, topology.url, HELLO, {"inputStr": "before the outage"})
    assert wait_final(session, [done], timeout=60)[done]["status"] == "SUCCESS"
    paths = [f"/tasks/{_pending_task(fault_database)}/", f"/tasks/{task_id(done)}/", "/plugins/"]

    answers: list[Answer] = []
    stop = threading.Event()
    pollers = [threading.Thread(target=_poll, args=(topology.url, paths, stop, answers)) for _ in range(4)]
    for poller in pollers:
        poller.start()
    time.sleep(1)
    # tasks that are running while the database goes away
    running = [submit(session, topology.url, FAULTS, {"text": f"during the outage {n}", "before": 0.5, "after": 0.5}) for n in range(6)]
    time.sleep(0.3)
    cut_at = time.monotonic()
    cut = proxy.cut()
    time.sleep(OUTAGE)
    proxy.restore()
    restored_at = time.monotonic()
    time.sleep(8)
    stop.set()
    for poller in pollers:
        poller.join(REQUEST_TIMEOUT + 5)
    tasks = wait_final(session, running, timeout=90)

    during = [a for a in answers if cut_at <= a.at < restored_at]
    after = [a for a in answers if a.at >= restored_at]
    failed = [a for a in answers if a.status is None or a.status >= 400]
    first_ok = {path: min((a.at + a.seconds for a in after if a.path == path and a.status == 200), default=None) for path in paths}
    recovery = max((at - restored_at for at in first_ok.values() if at is not None), default=float("inf"))
    errors_after_recovery = [a for a in after if a.status != 200 and a.at >= restored_at + recovery]
    by_path = {path: Counter(a.status for a in during if a.path == path) for path in paths}
    summary(
        "database-restart",
        [body["status"] for body in tasks.values()],
        connections_cut=cut,
        requests=len(answers),
        failed_requests=f"{len(failed)} (all JSON 503)" if all(a.json and a.status == 503 for a in failed) else len(failed),
        requests_during_outage=len(during),
        answers_during_outage="; ".join(f"{path}: {dict(counts)}" for path, counts in by_path.items()),
        seconds_until_answering_again=round(recovery, 2),
        slowest_request_seconds=round(max(a.seconds for a in answers), 2),
    )

    assert cut > 0, "the pools held connections that were cut"
    assert not [a for a in answers if a.status is None], [a.error for a in answers if a.status is None][:5]
    for answer in failed:
        assert answer.status == 503 and answer.json and "database is unavailable" in answer.error, answer
    assert max(a.seconds for a in answers) < REQUEST_TIMEOUT
    assert recovery < 5, first_ok
    assert not errors_after_recovery, errors_after_recovery[:5]
    assert len([a for a in after if a.status == 200]) > 20
    assert any(a.status and a.status >= 500 for a in during if a.path == paths[0]), "the pending task was read from the database"
    for url, body in tasks.items():
        assert body["status"] in {"SUCCESS", "FAILURE"}, (url, body)
