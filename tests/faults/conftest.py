"""Fixtures of the fault tests: one production topology for the whole folder (gunicorn with two
processes, two Celery workers with four threads each; no beat) whose broker is a Redis server of
its own and whose PostgreSQL database is reached through a TCP proxy, so tests can stop the
broker and cut the database without touching the machine's services. The broker's visibility
timeout is 6 s, so a killed worker's tasks come back within seconds.

Each test leaves the topology as it found it or restores it through the ``topology`` fixture.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fault_tools import RedisServer, TcpProxy
from process_topology import ROOT, Topology

from helpers import FIXTURE_PLUGINS

# read by the runner from instance/config.py: quick webhook retries, so the webhook test
# does not wait minutes for its receiver to come back
INSTANCE_CONFIG = """\
WEBHOOK_TIMEOUT = 1
WEBHOOK_RETRY_BACKOFF = 0.5
WEBHOOK_RETRY_BACKOFF_MAX = 2
WEBHOOK_MAX_RETRIES = 20
"""


@pytest.fixture(scope="package")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bytecode cache for every process the fault tests start (see ``Topology.pycache``)."""
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture(scope="package")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis server of the fault tests alone; tests may stop and start it."""
    server = RedisServer(tmp_path_factory.mktemp("broker"))
    try:
        server.start()
    except RuntimeError as err:
        if os.environ.get("CI"):
            pytest.fail(f"{err} (CI needs every service)")
        pytest.skip(str(err))
    yield server
    server.stop()


@pytest.fixture(scope="package")
def fault_database() -> Iterator[str]:
    """A PostgreSQL database of the fault tests alone, dropped afterwards."""
    from conftest import POSTGRES_URL, require_service

    require_service("PostgreSQL", POSTGRES_URL)
    base = sa.engine.make_url(POSTGRES_URL)
    name = f"qhana_faults_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="package")
def database_proxy(fault_database: str) -> Iterator[tuple[TcpProxy, str]]:
    """A TCP proxy in front of the fault database, and the database URL through it."""
    url = sa.engine.make_url(fault_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.stop()


@pytest.fixture(scope="package")
def fault_topology(tmp_path_factory: pytest.TempPathFactory, pycache: Path, broker: RedisServer, database_proxy: tuple[TcpProxy, str]) -> Iterator[Topology]:
    _, database_url = database_proxy
    workdir = tmp_path_factory.mktemp("faults")
    (workdir / "instance").mkdir()
    (workdir / "instance" / "config.py").write_text(INSTANCE_CONFIG)
    topology = Topology(
        workdir,
        database_url=database_url,
        broker_url=broker.url,
        plugin_folders=[str(ROOT / "plugins"), str(FIXTURE_PLUGINS / "faults")],
        concurrency=4,
        beat=False,
        # QHANA_FAULTS_LOG_LEVEL=INFO logs every task the workers receive and finish
        extra_env={"BROKER_VISIBILITY_TIMEOUT": "6", "DEFAULT_LOG_LEVEL": os.environ.get("QHANA_FAULTS_LOG_LEVEL", "WARNING")},
        pycache=pycache,
    )
    try:
        topology.start()
        yield topology
    finally:
        print(topology.stop())


@pytest.fixture
def topology(fault_topology: Topology, broker: RedisServer) -> Topology:
    """The shared topology, with its broker running and both workers answering."""
    if broker.process is None:
        broker.start()
    for name in ("worker1", "worker2"):
        if fault_topology.processes[name].poll() is not None:
            fault_topology.start_worker(int(name[-1]))
    fault_topology.wait_ready(90)
    return fault_topology
