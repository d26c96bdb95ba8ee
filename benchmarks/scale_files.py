# SPDX-License-Identifier: Apache-2.0
"""The ``files`` scale check (run by ``scale.py``): a 1 GiB result file written by a task,
downloaded through ``/files/``, and uploaded as a multipart form twice (with
``Content-Length`` and chunked), while the API's resident memory is sampled every 20 ms."""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_common import Process
from scale_harness import MIB, Database, Runner, log

SCALE_PROCESS = "/plugins/scale-files@v0-1-0/process/"


class RssSampler:
    """Samples a process group's resident memory every 20 ms in a thread; ``growth`` is the
    largest sample minus the one taken before starting."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.baseline = process.rss_bytes()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.rss_bytes())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.rss_bytes())

    def figures(self) -> dict[str, float]:
        return {
            "rss_before_mb": round(self.baseline / MIB, 1),
            "rss_peak_mb": round(self.peak / MIB, 1),
            "rss_growth_mb": round((self.peak - self.baseline) / MIB, 1),
        }


def wait_for_task(runner: Runner, location: str, timeout: float) -> dict[str, Any]:
    path = urllib.parse.urlsplit(location).path
    deadline = time.monotonic() + timeout
    conn = runner.connection()
    try:
        while time.monotonic() < deadline:
            conn.request("GET", path)
            response = conn.getresponse()
            body = json.loads(response.read())
            if body["status"] != "PENDING":
                return body
            time.sleep(0.2)
    finally:
        conn.close()
    raise TimeoutError(f"{path} still PENDING after {timeout} s")


def download(runner: Runner, href: str) -> dict[str, Any]:
    """Read the file through /files/ in 1 MiB pieces, sampling the API's memory."""
    parts = urllib.parse.urlsplit(href)
    conn = runner.connection(timeout=300)
    started = time.monotonic()
    received = 0
    with RssSampler(runner.api) as sampler:
        conn.request("GET", f"{parts.path}?{parts.query}")
        response = conn.getresponse()
        status = response.status
        while chunk := response.read(MIB):
            received += len(chunk)
    seconds = time.monotonic() - started
    conn.close()
    return {"status": status, "bytes": received, "seconds": round(seconds, 1), "mb_per_s": round(received / MIB / seconds, 1), **sampler.figures()}


def file_size_of(runner: Runner, href: str) -> int:
    """The size of a downloadable file, from a one-byte range request."""
    parts = urllib.parse.urlsplit(href)
    conn = runner.connection()
    conn.request("GET", f"{parts.path}?{parts.query}", headers={"Range": "bytes=0-0"})
    response = conn.getresponse()
    response.read()
    conn.close()
    content_range = response.getheader("Content-Range") or ""
    return int(content_range.rsplit("/", 1)[-1]) if "/" in content_range else -1


def upload(runner: Runner, size: int, chunked: bool, timeout: float) -> dict[str, Any]:
    """POST a multipart form with a ``size``-byte file to the plugin's process endpoint."""
    boundary = "scale-boundary-7c1e"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"sizeMb\"\r\n\r\n0\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"data\"; filename=\"upload.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = os.urandom(MIB)

    def body() -> Iterator[bytes]:
        yield head
        remaining = size
        while remaining:
            count = min(remaining, MIB)
            yield block[:count]
            remaining -= count
        yield tail

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if not chunked:
        headers["Content-Length"] = str(len(head) + size + len(tail))
    conn = runner.connection(timeout=timeout)
    started = time.monotonic()
    with RssSampler(runner.api) as sampler:
        conn.request("POST", SCALE_PROCESS, body=body(), headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        response.read()
    seconds = time.monotonic() - started
    conn.close()
    result: dict[str, Any] = {"status": response.status, "seconds": round(seconds, 1), **sampler.figures()}
    if response.status == 303:
        task = wait_for_task(runner, response.getheader("Location") or "", timeout)
        result["task_status"] = task["status"]
        outputs = task.get("outputs") or []
        result["stored_bytes"] = file_size_of(runner, outputs[0]["href"]) if outputs else -1
    return result


def check_files(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import redis

    size = args.file_mb * MIB
    db = Database("postgresql", args, workdir, "files")
    redis.Redis.from_url(args.redis).flushdb()
    runner: Runner | None = None
    limit_mb = 50
    try:
        runner = Runner(workdir, db.url, redis_url=args.redis, worker=True, extra_env={"MAX_CONTENT_LENGTH": str(size + 16 * MIB)})
        log(f"files: {runner.setup}; {args.file_mb} MiB")
        assert runner.worker is not None
        conn = runner.connection()
        started = time.monotonic()
        worker_rss = runner.worker.rss_bytes()
        conn.request("POST", SCALE_PROCESS, body=f"sizeMb={args.file_mb}", headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 303:
            raise RuntimeError(f"process endpoint answered {response.status}")
        with RssSampler(runner.worker) as worker_sampler:
            task = wait_for_task(runner, response.getheader("Location") or "", args.timeout)
        produced = {"task_status": task["status"], "seconds": round(time.monotonic() - started, 1), "worker_rss_before_mb": round(worker_rss / MIB, 1), "worker_rss_peak_mb": worker_sampler.figures()["rss_peak_mb"]}
        log(f"files: produced in {produced['seconds']} s ({task['status']})")
        href = task["outputs"][0]["href"]
        fetched = download(runner, href)
        fetched["passed"] = fetched["status"] == 200 and fetched["bytes"] == size and fetched["rss_growth_mb"] < limit_mb
        log(f"files: download {fetched['bytes']:,} bytes, API RSS +{fetched['rss_growth_mb']} MB")
        uploads = {}
        for name, chunked in (("multipart_upload_content_length", False), ("multipart_upload_chunked", True)):
            sent = upload(runner, size, chunked, args.timeout)
            sent["passed"] = sent["status"] == 303 and sent.get("task_status") == "SUCCESS" and sent.get("stored_bytes") == size and sent["rss_growth_mb"] < limit_mb
            log(f"files: {name}: {sent['status']}, API RSS +{sent['rss_growth_mb']} MB, stored {sent.get('stored_bytes')}")
            uploads[name] = sent
        return {
            "setup": runner.setup + f", MAX_CONTENT_LENGTH {size + 16 * MIB}",
            "file_bytes": size,
            "produced_by_task": produced,
            "download": fetched,
            **uploads,
            "target": f"API RSS (all server processes) grows by less than {limit_mb} MB",
            "passed": fetched["passed"] and all(u["passed"] for u in uploads.values()),
        }
    finally:
        if runner is not None:
            runner.stop()
        db.close()
