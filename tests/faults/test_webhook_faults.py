"""Webhook receivers that fail, against the production topology: one refuses connections (not
listening yet) and comes up a few seconds later, one answers only after 3 s, longer than the
WEBHOOK_TIMEOUT of 1 s (``tests/faults/conftest.py``), for its first two calls.

Both must get the task's status event in the end (retried with back-off by the workers), the
retries must stop once a call succeeded, and the tasks themselves must not notice: SUCCESS, and
about as fast as tasks without webhooks.
"""

from __future__ import annotations

import http.server
import statistics
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fault_tools import HELLO, submit, summary
from process_topology import Topology, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SLOW_ANSWER = 3.0


class HookReceiver:
    """Records every webhook call; the first ``slow_calls`` are answered after SLOW_ANSWER s."""

    def __init__(self, port: int, slow_calls: int = 0) -> None:
        self.port = port
        self.slow_calls = slow_calls
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> HookReceiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                with receiver._lock:
                    slow = len(receiver.calls) < receiver.slow_calls
                    receiver.calls.append({"at": time.monotonic(), "event": query.get("event", [""])[0], "source": query.get("source", [""])[0], "slow": slow})
                if slow:
                    time.sleep(SLOW_ANSWER)
                try:
                    self.send_response(204)
                    self.end_headers()
                except OSError:
                    pass  # the caller gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def status_calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [call for call in self.calls if call["event"] == "status"]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _run_timed(session: requests.Session, base: str, text: str, headers: dict[str, str] | None = None) -> tuple[str, dict[str, Any], float]:
    """Submit a hello-world task; returns its URL, final body and seconds until it was final."""
    started = time.monotonic()
    url = submit(session, base, HELLO, {"inputStr": text}, headers=headers or {})
    while True:
        body = session.get(url, timeout=10).json()
        if body["status"] != "PENDING":
            return url, body, time.monotonic() - started
        assert time.monotonic() - started < 60, body
        time.sleep(0.05)


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_failing_webhook_receivers_get_the_event_and_tasks_do_not_notice(topology: Topology) -> None:
    session = requests.Session()
    _run_timed(session, topology.url, "warm-up input")
    plain = [_run_timed(session, topology.url, f"plain input {n}")[2] for n in range(5)]

    down = HookReceiver(free_port())  # nothing listens yet: connection refused
    slow = HookReceiver(free_port(), slow_calls=2).start()
    try:
        hooked = []
        for n, receiver in enumerate([down, slow, down, slow]):
            hooked.append(_run_timed(session, topology.url, f"hooked input {n}", {"X-QHAna-Webhook": receiver.url, "X-QHAna-Webhook-Events": "status"}))
        time.sleep(3)  # the down receiver's calls fail and are retried meanwhile
        down.start()
        came_up = time.monotonic()
        down_sources = {url for url, _, _ in hooked[0::2]}
        slow_sources = {url for url, _, _ in hooked[1::2]}
        assert _wait_for(lambda: {c["source"] for c in down.status_calls()} >= down_sources, 30), down.calls
        down_delay = time.monotonic() - came_up
        assert _wait_for(lambda: {c["source"] for c in slow.status_calls() if not c["slow"]} >= slow_sources, 30), slow.calls
        time.sleep(5)  # long enough for a further retry (back-off at most 2 s), if one came
        summary(
            "webhook-receivers",
            [body["status"] for _, body, _ in hooked],
            receiver_down_for="3+ s",
            delivered_after_it_came_up_s=round(down_delay, 1),
            slow_receiver_calls=f"{len(slow.status_calls())} ({sum(c['slow'] for c in slow.status_calls())} timed out)",
            median_task_seconds_without=round(statistics.median(plain), 2),
            median_task_seconds_with=round(statistics.median(t for _, _, t in hooked), 2),
        )
    finally:
        down.stop()
        slow.stop()

    assert [body["status"] for _, body, _ in hooked] == ["SUCCESS"] * 4
    assert statistics.median(t for _, _, t in hooked) < statistics.median(plain) + 0.5, (plain, [t for _, _, t in hooked])
    for receiver, sources in ((down, down_sources), (slow, slow_sources)):
        delivered = [c for c in receiver.status_calls() if not c["slow"]]
        assert sorted(c["source"] for c in delivered) == sorted(sources), "one successful call per task, then no more retries"
    assert len(slow.status_calls()) == 2 + 2, "the two slow calls timed out and were retried once each"
