"""Faults on demand for the fault tests: a Redis server of their own that can be stopped and
started again on the same port, and a TCP proxy that can cut every connection and refuse new
ones for a while (a database "restart" without touching the real server).

    with RedisServer(workdir) as broker:
        broker.stop(); broker.start()

    with TcpProxy("127.0.0.1", 5432) as proxy:
        proxy.cut(); time.sleep(2); proxy.restore()
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urljoin

import requests
from process_topology import free_port

FAULTS = "/plugins/fx-faults@1-0-0/process/"
HELLO = "/plugins/hello-world@v0-2-1/process/"


class RedisServer:
    """A throw-away ``redis-server`` (no persistence) on a port of its own."""

    def __init__(self, workdir: Path, port: int = 0) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not on PATH")
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with {self.process.returncode}")
            if self.ping():
                return self
            time.sleep(0.05)
        raise TimeoutError(f"redis-server on port {self.port} did not answer within {timeout} s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server (SIGKILL: it is gone at once, as if its host failed)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(signal.SIGTERM)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; :meth:`cut` drops every connection and refuses
    new ones until :meth:`restore`, as a restarting server would."""

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self.accepted = 0
        self._listener: socket.socket | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)

    def start(self) -> TcpProxy:
        self._listen()
        self._thread.start()
        return self

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        with self._lock:
            self._listener = listener
        os.write(self._wake_w, b"x")

    def cut(self) -> int:
        """Close the listener and every open connection; returns how many were cut."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, set()
        if listener is not None:
            listener.close()
        for pair in pairs:
            for sock in pair:
                _close(sock)
        os.write(self._wake_w, b"x")
        return len(pairs)

    def restore(self) -> None:
        self._listen()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _loop(self) -> None:
        while not self._stopped:
            with self._lock:
                listener = self._listener
                pairs = list(self._pairs)
            readable: list[socket.socket | int] = [self._wake_r]
            if listener is not None:
                readable.append(listener)
            peer: dict[socket.socket, tuple[socket.socket, tuple[socket.socket, socket.socket]]] = {}
            for pair in pairs:
                peer[pair[0]] = (pair[1], pair)
                peer[pair[1]] = (pair[0], pair)
                readable.extend(pair)
            try:
                ready, _, _ = select.select(readable, [], [], 1.0)
            except (OSError, ValueError):
                continue  # a socket was closed by cut(); look again
            for item in ready:
                if item == self._wake_r:
                    os.read(self._wake_r, 64)
                elif item is listener:
                    self._accept(listener)
                elif item in peer:
                    self._pump(item, *peer[item])

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if self._listener is not listener:  # cut while connecting
                _close(client)
                _close(upstream)
                return
            self._pairs.add((client, upstream))
            self.accepted += 1

    def _pump(self, source: socket.socket, target: socket.socket, pair: tuple[socket.socket, socket.socket]) -> None:
        try:
            data = source.recv(65536)
            if data:
                target.sendall(data)
                return
        except OSError:
            pass
        with self._lock:
            self._pairs.discard(pair)
        for sock in pair:
            _close(sock)

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        self._thread.join(5)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def summary(fault: str, statuses: Iterable[str], **extra: object) -> str:
    """``FAULT-SUMMARY <fault>: N tasks, a SUCCESS, b FAILURE, c PENDING, <extra>``, printed."""
    counts = Counter(statuses)
    parts = [f"{sum(counts.values())} tasks"] + [f"{counts.get(s, 0)} {s}" for s in ("SUCCESS", "FAILURE", "PENDING")]
    parts += [f"{value} {key.replace('_', ' ')}" for key, value in extra.items()]
    line = f"FAULT-SUMMARY {fault}: " + ", ".join(parts)
    print(line)
    return line


def submit(session: requests.Session, base: str, path: str, data: dict[str, object], timeout: float = 15, **kwargs: object) -> str:
    """POST a process form; returns the task URL (the request must answer 303)."""
    response = session.post(base + path, data=data, allow_redirects=False, timeout=timeout, **kwargs)
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return urljoin(base, response.headers["Location"])


def task_id(task_url: str) -> int:
    return int(task_url.rstrip("/").rsplit("/", 1)[-1])


def wait_final(session: requests.Session, task_urls: list[str], timeout: float) -> dict[str, dict]:
    """Poll every task until none is PENDING or ``timeout`` passes; returns the last bodies."""
    deadline = time.monotonic() + timeout
    bodies: dict[str, dict] = {}
    pending = list(task_urls)
    while pending and time.monotonic() < deadline:
        still = []
        for url in pending:
            body = session.get(url, timeout=10).json()
            bodies[url] = body
            if body["status"] == "PENDING":
                still.append(url)
        pending = still
        if pending:
            time.sleep(0.25)
    return bodies


def output_files(instance: Path, db_id: int) -> list[Path]:
    """Files of the task's output folder on disk (placeholders and partial files included)."""
    folder = instance / "files" / f"task_{db_id}" / "out"
    return sorted(folder.iterdir()) if folder.is_dir() else []
