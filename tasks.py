# SPDX-License-Identifier: Apache-2.0
"""invoke tasks for development and operations (``invoke --list``). Celery's own tasks live in
the package.

``invoke worker`` starts a Celery worker for the runner; point it at the broker the API uses
(``BROKER_URL=redis://localhost:6379``) or leave it unset to use the embedded filesystem broker
in the instance folder. ``invoke start-broker`` starts such a Redis (a local ``redis-server`` if
there is one, else a container). ``.flaskenv`` and ``.env`` are read first, like ``flask`` does;
variables already set win.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import sys
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path

from invoke import Context, Exit, task

from qhana_plugin_runner.worker import CELERY_APP

ROOT = Path(__file__).resolve().parent
APP_FACTORY = "qhana_plugin_runner:create_app()"  # the same factory the embedded mode serves
ENV_FILE = ROOT / ".env"
TRUE_VALUES = ("true", "1", "yes", "on")
FALSE_VALUES = ("false", "0", "no", "off", "")


def _load_env_files() -> None:
    for name in (".flaskenv", ".env"):
        path = ROOT / name
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


_load_env_files()


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean environment variable: true/1/yes/on or false/0/no/off (any case)."""
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in TRUE_VALUES:
        return True
    if value.strip().lower() in FALSE_VALUES:
        return False
    raise Exit(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no or on/off)", code=2)


def env_int(name: str, default: int) -> int:
    """An integer environment variable; a bad value stops the task with its name and value."""
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise Exit(f"{name}={value!r} is not an integer", code=2) from None


def _server_processes() -> int:
    """``GUNICORN_WORKERS`` (a number, or ``auto``: half the usable CPUs); 2 when unset."""
    from qhana_plugin_runner.deploy.processes import server_processes

    try:
        return server_processes(os.environ.get("GUNICORN_WORKERS"), 2)
    except ValueError as err:
        raise Exit(str(err), code=2) from None


def _exec(args: list[str]) -> None:
    """Replace this process with ``args`` (signals then reach the program directly)."""
    print(shlex.join(args), flush=True)
    os.execvp(args[0], args)


@task(
    help={
        "pool": "execution pool: threads (default), prefork, solo, gevent, eventlet",
        "concurrency": "number of worker threads or processes (default 2)",
        "log_level": "DEBUG, INFO (default), WARNING, ERROR",
        "periodic_scheduler": "also run Celery beat in this worker (only one worker may); "
        "env PERIODIC_SCHEDULER=true does the same",
        "queue": "queue(s) to consume, comma separated (default: CELERY_QUEUE or qhana_plugin_runner)",
    }
)
def worker(
    c: Context,
    pool: str = "threads",
    concurrency: int = 2,
    log_level: str = "INFO",
    periodic_scheduler: bool = False,
    queue: str = "",
) -> None:
    """Start a Celery worker for the runner's tasks (replaces this process)."""
    args = [
        "celery", "--app", CELERY_APP, "worker",
        f"--pool={pool}", f"--concurrency={int(concurrency)}", f"--loglevel={log_level.upper()}", "-E",
    ]  # fmt: skip
    if periodic_scheduler or env_bool("PERIODIC_SCHEDULER"):
        args.append("-B")
    queues = queue or os.environ.get("CELERY_QUEUE", "")
    if queues:
        args += ["--queues", queues]
    _exec(args)


@task
def celery_status(c: Context) -> None:
    """Show the workers that answer on the broker."""
    c.run(shlex.join(["celery", "--app", CELERY_APP, "status"]), echo=True)


@task(help={"port": "port of the runner (default 5005)"})
def run(c: Context, port: int = 5005) -> None:
    """The embedded runner (API and worker together), same as `make run`."""
    c.run(shlex.join(["qhana-plugin-runner", "--port", str(int(port))]), echo=True)


@task(
    help={
        "workers": "gunicorn worker processes (default: GUNICORN_WORKERS or 2)",
        "threads": "threads per worker (default: GUNICORN_THREADS or 8)",
        "port": "port to listen on, all interfaces (default: SERVER_PORT or 8080)",
        "log_level": "gunicorn log level (default info)",
    }
)
def start_gunicorn(
    c: Context,
    workers: int | None = None,
    threads: int | None = None,
    port: int | None = None,
    log_level: str = "info",
) -> None:
    """Serve the API with gunicorn (gthread workers, as the embedded mode does; replaces this process)."""
    args = [
        sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
        "-w", str(int(workers or _server_processes())),
        "--threads", str(int(threads or env_int("GUNICORN_THREADS", 8))),
        "-b", f"0.0.0.0:{int(port or env_int('SERVER_PORT', 8080))}",
        "--log-level", log_level.lower(), "--access-logfile", "-", "--error-logfile", "-",
    ]  # fmt: skip
    if Path("/dev/shm").is_dir():
        args += ["--worker-tmp-dir", "/dev/shm"]  # heartbeat files off a possibly slow disk
    _exec([*args, APP_FACTORY])


# --- broker -------------------------------------------------------------------------------


def _broker_port(port: int | None) -> int:
    return int(port or env_int("REDIS_PORT", 6379))


def _redis_folder() -> Path:
    """``instance/redis`` (inside ``QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER`` when that is set)."""
    instance = os.environ.get("QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER") or str(ROOT / "instance")
    return Path(instance) / "redis"


def _pidfile(port: int) -> Path:
    return _redis_folder() / f"redis-{port}.pid"


def port_answers(port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _set_env_file(key: str, value: str | None) -> None:
    """Set (or, with ``None``, remove) ``key`` in ``.env`` and in this process's environment."""
    lines = ENV_FILE.read_text().splitlines() if ENV_FILE.is_file() else []
    lines = [line for line in lines if line.split("=", 1)[0].strip() != key]
    if value is None:
        os.environ.pop(key, None)
    else:
        lines.append(f"{key}={value}")
        os.environ[key] = value
    ENV_FILE.write_text("".join(f"{line}\n" for line in lines))


def _docker() -> str:
    return os.environ.get("DOCKER_CMD", "docker")


@task(help={"port": "port of the broker (default: REDIS_PORT or 6379)"})
def start_broker(c: Context, port: int | None = None) -> None:
    """Start Redis as the Celery broker: a local redis-server if installed, else a container."""
    port = _broker_port(port)
    if port_answers(port):
        print(f"something already answers on port {port}; not starting a broker")
        return
    if shutil.which("redis-server"):
        folder = _redis_folder()
        folder.mkdir(parents=True, exist_ok=True)
        c.run(shlex.join([
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "yes", "--dir", str(folder), "--pidfile", str(_pidfile(port)),
            "--logfile", str(folder / f"redis-{port}.log"),
        ]), echo=True)  # fmt: skip
    else:
        container = os.environ.get("REDIS_CONTAINER_ID")
        if container:
            c.run(shlex.join([_docker(), "restart", container]), echo=True)
        else:
            command = [_docker(), "run", "-d", "-p", f"127.0.0.1:{port}:6379", "redis:latest"]
            result = c.run(shlex.join(command), echo=True, hide="out")
            _set_env_file("REDIS_CONTAINER_ID", result.stdout.strip())
    if not _wait(lambda: port_answers(port)):
        raise Exit(f"the broker does not answer on port {port}", code=1)
    print(f"broker ready: BROKER_URL=redis://localhost:{port}")


def _stop_local(c: Context, port: int, pidfile: Path) -> None:
    pid = int(pidfile.read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError):
        print(f"redis-server {pid} is no longer running; removing its stale pidfile")
        pidfile.unlink(missing_ok=True)
        return
    if shutil.which("redis-cli"):
        c.run(
            shlex.join(["redis-cli", "-p", str(port), "shutdown", "nosave"]), echo=True, warn=True
        )
    else:
        os.kill(pid, signal.SIGTERM)
    if not _wait(lambda: not port_answers(port)):
        raise Exit(f"redis-server {pid} did not stop", code=1)
    _wait(lambda: not pidfile.exists(), seconds=2)  # redis removes it while shutting down
    pidfile.unlink(missing_ok=True)


@task(help={"port": "port of the broker (default: REDIS_PORT or 6379)"})
def stop_broker(c: Context, port: int | None = None) -> None:
    """Stop the broker that start-broker started (local redis-server or container)."""
    port = _broker_port(port)
    pidfile = _pidfile(port)
    if pidfile.is_file():
        _stop_local(c, port, pidfile)
    elif os.environ.get("REDIS_CONTAINER_ID"):
        c.run(shlex.join([_docker(), "stop", os.environ["REDIS_CONTAINER_ID"]]), echo=True)
    else:
        print(f"no broker started by start-broker on port {port}")


@task(help={"port": "port of the broker (default: REDIS_PORT or 6379)"})
def reset_broker(c: Context, port: int | None = None) -> None:
    """Stop the broker, then remove its data and log (local) or its container and saved id."""
    port = _broker_port(port)
    stop_broker(c, port)
    container = os.environ.get("REDIS_CONTAINER_ID")
    if container:
        c.run(shlex.join([_docker(), "rm", container]), echo=True, warn=True)
        _set_env_file("REDIS_CONTAINER_ID", None)
    for name in (f"redis-{port}.log", f"redis-{port}.pid", "dump.rdb"):
        (_redis_folder() / name).unlink(missing_ok=True)


# --- documentation and licences ------------------------------------------------------------


@task(
    help={
        "format": "sphinx builder (default html)",
        "warnings_as_errors": "fail on warnings (default on; --no-warnings-as-errors turns it off)",
    }
)
def doc(c: Context, format_: str = "html", warnings_as_errors: bool = True) -> None:
    """Build the documentation into docs/_build/<format>."""
    args = [sys.executable, "-m", "sphinx", "-b", format_, "docs", f"docs/_build/{format_}"]
    if warnings_as_errors:
        args.insert(3, "-W")
    with c.cd(str(ROOT)):
        c.run(shlex.join(args), echo=True)


@task
def browse_doc(c: Context) -> None:
    """Open the built HTML documentation in a browser."""
    index = ROOT / "docs" / "_build" / "html" / "index.html"
    if not index.is_file():
        raise Exit(f"{index} does not exist; run `invoke doc` first", code=1)
    webbrowser.open(index.as_uri())


@task(
    help={
        "format": "text (default), json or markdown",
        "output": "write to this file instead of printing",
    }
)
def list_licenses(c: Context, format_: str = "text", output: str = "") -> None:
    """List the installed third-party distributions with their licences."""
    from qhana_plugin_runner.util.licenses import FORMATS, installed_licenses, render_licenses

    if format_ not in FORMATS:
        raise Exit(f"unknown format {format_!r}; use one of {', '.join(FORMATS)}", code=2)
    text = render_licenses(installed_licenses(), format_)
    if output:
        Path(output).write_text(text)
        print(f"wrote {output}")
    else:
        print(text, end="")


@task
def update_dependencies(c: Context) -> None:
    """Upgrade uv.lock to the newest allowed versions, sync .venv, refresh docs/licenses.json."""
    bundled = ROOT / ".tools" / "bin" / "uv"
    uv = str(bundled) if bundled.is_file() else (shutil.which("uv") or "")
    if not uv:
        raise Exit("uv not found: run `make setup` first (it installs uv into .tools/)", code=1)
    env = {"UV_PROJECT_ENVIRONMENT": ".venv", "UV_PYTHON_DOWNLOADS": "never"}
    with c.cd(str(ROOT)):
        c.run(shlex.join([uv, "lock", "--upgrade"]), echo=True, env=env)
        c.run(shlex.join([uv, "sync", "--all-extras"]), echo=True, env=env)
        # a new process: this one still sees the distributions from before the sync
        python = str(ROOT / ".venv" / "bin" / "python")
        licenses = ["list-licenses", "--format", "json", "--output", "docs/licenses.json"]
        c.run(shlex.join([python, "-m", "invoke", *licenses]), echo=True)
