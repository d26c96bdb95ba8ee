# SPDX-License-Identifier: Apache-2.0
"""granian's own command line, serving from its main process when it runs one worker.

    python -m qhana_plugin_runner.deploy.granian_server --interface wsgi --workers 1 ... APP

granian supervises its workers from a main process: a second interpreter of about 30 MB that
only starts, watches and restarts them. With ``--workers 1`` this module runs that one worker in
the main process instead (the same granian code, options and signal handling), so the API is a
single process: about 30 MB less, and the app is loaded without a fork. What the main process
would have done for a crashed worker (start it again) is then the container's restart policy;
give 2 or more workers where a second of connection errors after a crash matters more than the
memory. With 2 or more workers, or with an option only a supervisor serves (``--reload``,
``--workers-lifetime``, ``--workers-max-rss``, ``--metrics``), granian runs exactly as
``python -m granian`` does. SIGHUP (granian's "respawn the workers") has nothing to respawn in
the single process and is ignored.
"""

from __future__ import annotations

import os
from typing import Any

import granian.cli
from granian.log import logger
from granian.server import MPServer

__all__ = ["OneProcessServer", "main"]


class _WorkerInMainProcess:
    """Stands in for granian's worker process: ``start`` runs the worker's target (socket, app
    loading, serving until SIGINT/SIGTERM) in this process, then tells the server to stop."""

    def __init__(self, process_worker: Any) -> None:
        self.parent = process_worker.parent
        self.idx = process_worker.idx
        self.birth = process_worker.birth
        self.interrupt_by_parent = False
        self._process = process_worker.inner  # a multiprocessing.Process, never started

    def start(self) -> None:
        logger.info(f"Serving from the main process (PID: {os.getpid()})")
        failed = False
        try:
            self._process.run()  # the target and arguments the worker process would have run
        except BaseException:
            failed = True
            logger.exception("The worker stopped with an error")
            raise
        finally:
            if failed:
                self.parent.interrupt_children.append(self.idx)  # shutdown() then exits with 1
            self.parent.interrupt_signal = True
            self.parent.main_loop_interrupt.set()

    def is_alive(self) -> bool:
        return False

    def terminate(self) -> None:
        self.interrupt_by_parent = True

    def kill(self) -> None:
        self.interrupt_by_parent = True

    def join(self, timeout: float | None = None) -> None:
        return None


class OneProcessServer(MPServer):
    """granian's process server that runs a single worker in its own process."""

    def _in_main_process(self) -> bool:
        """One worker and nothing only a supervising main process does: reloading on changes,
        restarting workers after a lifetime or above a memory limit, collecting metrics."""
        return (
            self.workers == 1
            and not self.reload_on_changes
            and self.workers_lifetime is None
            and self.workers_rss is None
            and not self.metrics_enabled
        )

    def _spawn_worker(self, idx: int, target: Any, callback_loader: Any) -> Any:
        worker = super()._spawn_worker(idx, target, callback_loader)
        return _WorkerInMainProcess(worker) if self._in_main_process() else worker

    def _serve(self, spawn_target: Any, target_loader: Any) -> None:
        if not self._in_main_process():
            return super()._serve(spawn_target, target_loader)
        try:
            self.startup(spawn_target, target_loader)  # returns when the worker has stopped
        except BaseException:
            self.shutdown(exit_code=1)
            raise
        self.shutdown()


def main() -> None:
    granian.cli.Server = OneProcessServer  # the name the command line builds its server from
    granian.cli.entrypoint()


if __name__ == "__main__":
    main()
