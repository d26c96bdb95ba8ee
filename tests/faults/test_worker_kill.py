"""A Celery worker killed with SIGKILL five times while 100 tasks run (Redis broker, PostgreSQL,
two workers, each killed worker started again at once).

Late acknowledgement leaves a killed worker's messages unacknowledged in Redis; they must come
back to a live worker (after the broker's visibility timeout, 6 s here), and a task that runs
again must not leave a second output file.
"""

from __future__ import annotations

import concurrent.futures
import signal
import time
from collections import Counter, defaultdict

import pytest
import requests
from fault_tools import FAULTS, output_files, submit, summary, task_id, wait_final
from process_topology import Topology

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

TASKS = 100
KILLS = 5


def _runs(topology: Topology) -> dict[int, list[tuple[int, str]]]:
    """(process id, event) of every run of every fx-faults task, from the plugin's run log."""
    runs: dict[int, list[tuple[int, str]]] = defaultdict(list)
    log = topology.instance / "fx_faults_runs.log"
    for line in log.read_text().splitlines() if log.exists() else []:
        db_id, pid, event = line.split()
        runs[int(db_id)].append((int(pid), event))
    return runs


def _wait_answering(topology: Topology, number: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(name.startswith(f"w{number}@") for name in topology.ping_workers()):
        topology.check_alive()
        assert time.monotonic() < deadline, f"worker{number} did not answer within {timeout} s"


def _wait_running(topology: Topology, pid: int, timeout: float = 15) -> None:
    """Until the worker process ``pid`` is in the middle of a task (a kill then cuts it short;
    a worker that has just been started again may take a moment to get messages)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((pid, "start") in events and (pid, "done") not in events for events in _runs(topology).values()):
            return
        time.sleep(0.05)


def test_a_task_longer_than_the_visibility_timeout_runs_once(topology: Topology) -> None:
    """The workers renew the delivery time of what they hold, so a live worker's long task is
    not put back into the queue for a second worker after the 6 s visibility timeout."""
    session = requests.Session()
    urls = [submit(session, topology.url, FAULTS, {"text": f"long {n}", "before": 0, "after": 10}) for n in range(2)]
    bodies = wait_final(session, urls, timeout=60)
    runs = _runs(topology)
    summary("long-task", [body["status"] for body in bodies.values()], seconds_each=10, visibility_timeout_s=6, runs=sum(len([e for e in runs[task_id(url)] if e[1] == "start"]) for url in urls))
    assert [body["status"] for body in bodies.values()] == ["SUCCESS", "SUCCESS"]
    for url in urls:
        assert [event for _, event in runs[task_id(url)]] == ["start", "wrote", "done"]


def test_sigkilled_workers_lose_no_task_and_write_no_output_twice(topology: Topology) -> None:
    session = requests.Session()
    texts = {n: f"kill test input {n}" for n in range(TASKS)}
    # the write happens in the middle of each task, so kills land before and after it
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        urls = list(pool.map(lambda n: submit(requests.Session(), topology.url, FAULTS, {"text": texts[n], "before": 1.5, "after": 1.5}), range(TASKS)))
    by_url = dict(zip(urls, range(TASKS), strict=True))

    killed_pids: list[int] = []
    started = time.monotonic()
    for kill in range(KILLS):
        number = kill % 2 + 1
        _wait_answering(topology, 2 - kill % 2)  # the worker killed last time is back
        time.sleep(1)
        _wait_running(topology, topology.processes[f"worker{number}"].pid)
        killed_pids.append(topology.processes[f"worker{number}"].pid)
        assert topology.stop_process(f"worker{number}", signal.SIGKILL) == -signal.SIGKILL
        topology.start_worker(number)

    bodies = wait_final(session, urls, timeout=150)
    elapsed = time.monotonic() - started
    statuses = [body["status"] for body in bodies.values()]
    runs = {db_id: events for db_id, events in _runs(topology).items() if db_id in {task_id(url) for url in urls}}
    rerun = {db_id: events for db_id, events in runs.items() if sum(event == "start" for _, event in events) > 1}
    # killed after its output existed: the run that follows must replace it, not add a second
    written_before_kill = [db_id for db_id, events in rerun.items() if any(event == "wrote" and pid in killed_pids for pid, event in events)]
    interrupted = {pid: sum((pid, "start") in events and (pid, "done") not in events for events in runs.values()) for pid in killed_pids}
    summary("sigkill", statuses, kills=KILLS, runs_cut_by_kills=sum(interrupted.values()), tasks_run_again=len(rerun), of_them_killed_after_writing=len(written_before_kill), seconds_until_all_final=round(elapsed))

    assert Counter(statuses) == {"SUCCESS": TASKS}, {url: body["status"] for url, body in bodies.items() if body["status"] != "SUCCESS"}
    for url, body in bodies.items():
        db_id = task_id(url)
        files = output_files(topology.instance, db_id)
        assert [path.name for path in files] == ["out.txt"], (db_id, files, runs.get(db_id))
        assert files[0].read_text() == texts[by_url[url]]
        assert [output["name"] for output in body["outputs"]] == ["out.txt"], body
        download = session.get(body["outputs"][0]["href"], timeout=10)
        assert download.status_code == 200 and download.text == texts[by_url[url]]
    assert set(runs) == {task_id(url) for url in urls}
    # every kill cut running tasks short, and a task ran again only because of a kill
    assert all(interrupted.values()), interrupted
    for db_id, events in rerun.items():
        starts = [pid for pid, event in events if event == "start"]
        assert set(starts[:-1]) <= set(killed_pids), (db_id, events, killed_pids)
    cut = {db_id for db_id, events in runs.items() if any(pid in killed_pids and (pid, "done") not in events for pid, _ in events)}
    assert cut <= set(rerun), "every run a kill cut short ran again"
