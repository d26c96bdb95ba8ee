# SPDX-License-Identifier: Apache-2.0
"""The Celery app (public: ``CELERY``) and the task base class that owns the app context.

``CELERY`` is created unbound at import, because plugins decorate ``@CELERY.task`` while they
are imported. :func:`init_celery` configures it from ``app.config["CELERY"]`` and binds it to the
Flask app whose context :class:`FlaskTask` pushes around every task run. One Celery app exists
per process; a worker process builds exactly one Flask app (see ``celery_worker.py``).
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

from celery import Celery, Task, uuid
from celery.exceptions import Ignore, Reject, Retry
from celery.signals import after_setup_task_logger
from flask import Flask, current_app, has_app_context
from kombu.exceptions import OperationalError
from kombu.transport import TRANSPORT_ALIASES

from .errors import BrokerUnavailable

__all__ = ["CELERY", "FlaskTask", "init_celery"]

_LOG = logging.getLogger(__name__)
_CONTROL_FLOW = (Retry, Ignore, Reject)


class FlaskTask(Task):
    """Runs the task body inside an app context and records why a task failed.

    The failure record is written before Celery dispatches the errback, so ``save_task_error``
    finds the exception even without a result backend. The app context's teardown removes the
    task's database session.
    """

    def _flask_app(self) -> Flask:
        app = getattr(self.app, "flask_app", None)
        if app is None:
            raise RuntimeError("CELERY is not bound to a Flask app; call create_app() first")
        return app

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return self._run_recording(args, kwargs)
        with self._flask_app().app_context():
            return self._run_recording(args, kwargs)

    def _run_recording(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return self.run(*args, **kwargs)
        except _CONTROL_FLOW:
            raise
        except Exception as err:
            _record_failure(self, err)
            raise

    def apply_async(self, args: Any = None, kwargs: Any = None, task_id: Any = None, producer: Any = None, link: Any = None, link_error: Any = None, shadow: Any = None, **options: Any) -> Any:
        """Send the task; if the broker cannot be reached, fail the ProcessingTask and raise 503.

        A bookkeeping task (``inline_after_parent``) that the running worker task sends as the
        last link of its chain, or as its errback, runs here at once instead (see
        :func:`_run_inline`); if that run fails in any way, it is sent as usual.
        """
        if link is None and _may_run_inline(self, options):
            inline_id = task_id or uuid()
            if _run_inline(self, args, kwargs, inline_id, options):
                return self.AsyncResult(inline_id)
            task_id = inline_id
        try:
            return super().apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)
        except (OperationalError, ConnectionError, TimeoutError) as err:
            db_id = (kwargs or {}).get("db_id")
            _fail_unsent_task(db_id, self.name, err)
            raise BrokerUnavailable(f"The task queue is unavailable: {err}") from err


# options a chain or an errback sends with the next task that do not stop it running inline
_INLINE_OPTIONS = frozenset({"parent_id", "root_id", "priority", "group_id", "group_index", "chain", "link_error", "add_to_parent", "reply_to"})
_INLINE = threading.local()


def _may_run_inline(task: Task, options: dict[str, Any]) -> bool:
    """Whether ``task`` is a bookkeeping task sent by the worker task running in this thread as
    its chain's last link or as its errback (nothing after it, no delay, no other options)."""
    if not getattr(task, "inline_after_parent", False) or getattr(_INLINE, "running", False):
        return False
    if options.get("chain") or set(options) - _INLINE_OPTIONS:
        return False
    app = task.app
    if app.conf.task_always_eager or not _inline_enabled():
        return False
    parent = app.current_worker_task
    if parent is None:
        return False
    request = parent.request
    return bool(request.id) and request.id == options.get("parent_id") and not request.is_eager


def _inline_enabled() -> bool:
    flask_app = getattr(CELERY, "flask_app", None)
    return flask_app is not None and bool(flask_app.config.get("INLINE_BOOKKEEPING", True))


def _run_inline(task: Task, args: Any, kwargs: Any, task_id: str, options: dict[str, Any]) -> bool:
    """Run ``task`` in this thread, before the parent's message is acknowledged.

    The parent's message is acknowledged only after this returns (late acknowledgement), so a
    worker that dies here gets the parent delivered again, as when the message was sent: the
    bookkeeping tasks ignore a task that has already finished. Any exception (the database
    away, a missing row) is logged and answered with False: the caller then sends the message
    as before, where retries, errbacks and failure records work as they always did. The parent's
    return value is consumed here, so its result is not stored (nothing is left to forget).
    """
    parent = task.app.current_worker_task
    _INLINE.running = True
    # called_directly stays True: a retry inside raises the exception instead of sending one
    task.push_request(id=task_id, args=list(args or ()), kwargs=dict(kwargs or {}), parent_id=None, root_id=options.get("root_id"), hostname=parent.request.hostname, delivery_info=parent.request.delivery_info)
    try:
        flask_app = task._flask_app()  # type: ignore[attr-defined]
        if has_app_context():
            task.run(*(args or ()), **(kwargs or {}))
        else:
            with flask_app.app_context():
                task.run(*(args or ()), **(kwargs or {}))
    except Exception as err:  # noqa: BLE001  (sent as a message instead, which reports it as before)
        _LOG.warning("%s[%s] could not run in the worker (%r); sending it as a message instead", task.name, task_id, err)
        return False
    finally:
        task.pop_request()
        _INLINE.running = False
    parent.request.ignore_result = True  # consumed here; save-result would only forget it
    return True


def _record_failure(task: Task, err: Exception) -> None:
    from .db.db import DB
    from .db.models.failures import CeleryTaskFailure

    task_id = task.request.id
    if not task_id:
        return
    try:
        DB.session.rollback()
        DB.session.merge(
            CeleryTaskFailure(
                celery_task_id=task_id,
                task_name=task.name,
                error=repr(err),
                traceback="".join(traceback.format_exception(err)),
            )
        )
        DB.session.commit()
    except Exception:  # the database itself may be what failed; the backend may still know
        _LOG.warning("Could not record the failure of task %s", task_id, exc_info=True)
        DB.session.rollback()


def _fail_unsent_task(db_id: Any, task_name: str, err: Exception) -> None:
    """Mark the ProcessingTask FAILURE; also in a worker, where Celery sends a chain's next task
    (``save_task_result``) after the task body, outside its app context."""
    if not isinstance(db_id, int):
        return
    from .tasks.bookkeeping import finish_task

    log = f"Could not send task {task_name} to the task queue: {err!r}"
    if has_app_context():
        finish_task(db_id, "FAILURE", log)
        return
    app = getattr(CELERY, "flask_app", None)
    if app is not None:
        with app.app_context():
            finish_task(db_id, "FAILURE", log)


# filesystem:// (the embedded broker) gets atomic message files; see broker_fs.py
TRANSPORT_ALIASES["filesystem"] = "qhana_plugin_runner.broker_fs:Transport"
# redis:// gets a channel that survives losing the broker; see broker_redis.py
TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = "qhana_plugin_runner.broker_redis_transport:Transport"

CELERY = Celery("qhana_plugin_runner.celery", task_cls=FlaskTask)
CELERY.flask_app = None  # type: ignore[attr-defined]


def init_celery(app: Flask) -> Celery:
    """Configure ``CELERY`` from ``app.config["CELERY"]`` and bind it to ``app``."""
    from .config import REDIS_BROKER_SCHEMES
    from .tasks.cleanup import beat_schedule

    _drop_connections(CELERY)
    # core's periodic jobs; plugins add theirs in on_after_finalize / on_after_configure
    CELERY.conf.update(app.config["CELERY"], beat_schedule=beat_schedule(app.config))
    CELERY.flask_app = app  # type: ignore[attr-defined]
    if str(CELERY.conf.broker_url or "").startswith(REDIS_BROKER_SCHEMES):
        from .broker_redis import VisibilityHeartbeat

        CELERY.steps["consumer"].add(VisibilityHeartbeat)  # a set: adding it again changes nothing
    app.extensions["celery"] = CELERY
    # the runner's own tasks, by name (never as a side effect of another import)
    from .plugin_utils import interop  # noqa: F401
    from .tasks import bookkeeping, cleanup  # noqa: F401

    return CELERY


def _drop_connections(celery: Celery) -> None:
    """Forget pooled broker connections and the cached result backend.

    Only matters when a process builds a second app with another broker (the test suite does);
    without it Celery would keep sending to the first app's broker.
    """
    # kombu keeps the pools themselves in a process-wide registry keyed by connection,
    # so they are only dereferenced here, never closed (another app may use the same broker)
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    celery._backend_cache = None
    celery._local = threading.local()


@after_setup_task_logger.connect
def _propagate_task_logs(logger: logging.Logger, **kwargs: Any) -> None:
    logger.propagate = True


def current_flask_app() -> Flask:
    """The Flask app of the running task (or the current request)."""
    return current_app._get_current_object() if has_app_context() else CELERY.flask_app  # type: ignore[attr-defined]
