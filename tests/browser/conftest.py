"""Browser tests: Debian's Chromium driven by Playwright against a real embedded runner.

One runner (`make run`'s command: gunicorn + worker, SQLite, filesystem broker) serves the
whole module with the debug pages on and ``MICROFRONTEND_PARENT_ORIGINS`` naming the stand-in
UI's origin. The stand-in UI (pages/parent.html) and a foreign page (pages/foreign.html) are
served from two more ports, so runner, UI and foreign page are three different origins.

Chromium comes from the machine (``make browser`` installs Debian's package; Playwright never
downloads a browser). Without it these tests skip, except under CI where they fail.
Set ``QHANA_SCREENSHOT_DIR`` to keep screenshots (``make screenshots`` refreshes the docs' ones).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from helpers import ROOT

pytestmark = pytest.mark.slow

PAGES = Path(__file__).with_name("pages")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container has no user namespaces for Chromium's sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chromium() -> str:
    for candidate in (os.environ.get("QHANA_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = "Chromium is not installed (make browser installs Debian's chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI needs it")
    pytest.skip(message)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def page_servers() -> Iterator[dict[str, str]]:
    """The stand-in UI's origin and a foreign origin, both serving tests/browser/pages/."""
    servers = []
    urls = {}
    for name, host in (("ui", "localhost"), ("foreign", "127.0.0.1")):
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(PAGES)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://{host}:{server.server_address[1]}"
    yield urls
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory, page_servers: dict[str, str]) -> Iterator[str]:
    """Base URL of an embedded runner with every bundled plugin and the debug pages."""
    workdir = tmp_path_factory.mktemp("browser-runner")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_URL", "RESULT_BACKEND", "SQLALCHEMY_DATABASE_URI", "FLASK_"))}
    env.update(
        QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(workdir / "instance"),
        PLUGIN_FOLDERS=str(ROOT / "plugins"),
        DEBUG_PAGES="true",
        MICROFRONTEND_PARENT_ORIGINS=page_servers["ui"],
    )
    log_path = workdir / "runner.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "qhana_plugin_runner", "--port", str(port), "--log-level", "WARNING"],
            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    pytest.fail(f"runner exited with {process.returncode}: {log_path.read_text()[-3000:]}")
                try:
                    if requests.get(base + "/plugins/", timeout=5).status_code == 200:
                        break
                except requests.RequestException:  # not listening yet
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("the runner did not answer within 90 s")
                time.sleep(0.2)
            yield base
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; JavaScript errors on it fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def screenshot() -> Any:
    """``screenshot(page_or_locator, name)`` keeps a PNG under ``QHANA_SCREENSHOT_DIR`` (the
    docs' pictures, see ``make screenshots``) when that is set; otherwise it does nothing."""
    folder = os.environ.get("QHANA_SCREENSHOT_DIR")

    def take(target: Any, name: str, **kwargs: Any) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            target.screenshot(path=str(Path(folder) / f"{name}.png"), **kwargs)

    return take
