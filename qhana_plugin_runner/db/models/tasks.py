# SPDX-License-Identifier: Apache-2.0
"""Processing tasks and what belongs to them: steps, output files, links, webhook subscriptions.

Public: plugins construct these models positionally, so the dataclass field order is part of
the contract (see ``docs/plugin-api.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from enum import Enum
from functools import cache
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Insert,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    insert,
    or_,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import (
    Mapped,
    Mapper,
    Session,
    make_transient_to_detached,
    mapped_column,
    object_session,
    relationship,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ..db import DB, MODEL
from ..mutable_json import MutableJSON

__all__ = [
    "TaskStatus",
    "ProcessingTask",
    "Step",
    "TaskFile",
    "TaskLink",
    "TaskUpdateSubscription",
    "WebhookRef",
    "utc_now",
]


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC); used as a per-row default."""
    return datetime.now(timezone.utc)


class TaskStatus(str, Enum):
    """The status strings a task resource reports; the values are what clients read."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    UNKNOWN = "UNKNOWN"


class _Saving:
    """``save(commit=)`` and ``get_by_id``, as plugins written for the original runner use them."""

    #: a new row of this model that is saved with ``commit=True`` and has no related rows is
    #: written with one INSERT instead of through the unit of work (see :meth:`_insert_new`)
    _insert_directly: ClassVar[bool] = False

    def save(self, commit: bool = False) -> None:
        """Add the row to the session; commit when asked.

        The commit expires every attribute, and plugins read ``.id`` right after it (for the
        task URL and the Celery chain): the primary key is kept loaded, so that read does not
        cost a SELECT of the whole row (about 1 ms of each process request). Other attributes
        are reloaded when read, as before.
        """
        if commit and self._insert_directly and self._insert_new():
            keys = _primary_key_values(self)
        else:
            DB.session.add(self)
            if not commit:
                return
            DB.session.flush()
            keys = _primary_key_values(self)
        DB.session.commit()
        if sa_inspect(self).persistent:
            for key, value in keys:
                set_committed_value(self, key, value)

    def _insert_new(self) -> bool:
        """Write a new object that has no related objects with one INSERT and add it to the
        session as a loaded row; False (nothing done) for anything else.

        Every process request saves a new ProcessingTask; the unit of work (ordering the
        mappers, cascading along the four relationships, bookkeeping of each attribute) cost
        about twice the INSERT itself. The object ends as the flush would leave it: persistent,
        its generated primary key set, its attributes as written. Only called with
        ``commit=True``: when the session has nothing else to commit, the INSERT runs on its own
        connection in autocommit mode.
        """
        state = sa_inspect(self)
        if not state.transient:
            return False
        mapper = state.mapper
        values = state.dict
        for relationship_ in mapper.relationships:
            if values.get(relationship_.key):  # a related object: the unit of work saves it too
                return False
        row = {column.key: values[key] for key, column in _column_attributes(mapper) if key in values}
        session = DB.session()  # the Session itself: the scoped proxy has no in_transaction()
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            result = session.execute(_insert_statement(mapper), row)
        else:
            # nothing else to commit: the INSERT commits itself, without the BEGIN and COMMIT
            # round trips around it (PostgreSQL; half the database time of a process request)
            with session.get_bind(mapper).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                result = connection.execute(_insert_statement(mapper), row)
        for (key, _column), value in zip(_primary_key_attributes(mapper), result.inserted_primary_key, strict=True):
            values[key] = value
        make_transient_to_detached(self)
        session.add(self)
        return True

    @classmethod
    def get_by_id(cls, id_: int) -> Any:
        """The row with this primary key, or None.

        As ``Session.get``: an object the session holds already is returned without a query.
        Otherwise the row is read with a statement built once per model; ``Session.get`` builds
        its SELECT anew and computes its cache key on every call (about a third of a read).
        """
        session = DB.session
        if not isinstance(id_, (int, str)) or identity_key(cls, id_) in session.identity_map:
            return session.get(cls, id_)  # also None (no row) and primary key tuples, as before
        return session.execute(_by_id_statement(cls), {"pk": id_}).scalar_one_or_none()


def _primary_key_values(obj: Any) -> list[tuple[str, Any]]:
    mapper = sa_inspect(type(obj))
    return [(mapper.get_property_by_column(column).key, value) for column, value in zip(mapper.primary_key, mapper.primary_key_from_instance(obj), strict=True)]


@cache
def _column_attributes(mapper: Mapper[Any]) -> tuple[tuple[str, Column[Any]], ...]:
    """(attribute key, column) of every column the model maps."""
    return tuple((prop.key, prop.columns[0]) for prop in mapper.column_attrs)


@cache
def _primary_key_attributes(mapper: Mapper[Any]) -> tuple[tuple[str, Column[Any]], ...]:
    return tuple((mapper.get_property_by_column(column).key, column) for column in mapper.primary_key)


@cache
def _by_id_statement(model: type[Any]) -> Select[Any]:
    (key,) = sa_inspect(model).primary_key
    return select(model).where(key == bindparam("pk"))


@cache
def _insert_statement(mapper: Mapper[Any]) -> Insert:
    return insert(mapper.local_table)


class _TaskChild:
    """Rows that belong to a task join the task's session when they are created.

    SQLAlchemy 2 no longer cascades along the many-to-one side, so ``TaskLink(task, ...)``
    alone would not be saved with the task, which plugins written for the original expect.
    """

    def __post_init__(self) -> None:
        task = getattr(self, "task", None)
        session = object_session(task) if task is not None else None
        if session is not None and self not in session:
            session.add(self)


class Step(MODEL):
    """One step of a multi-step task; ``number`` is its position, kept by the task."""

    # Step, TaskFile, TaskLink and TaskUpdateSubscription are read by task id on every
    # ``GET /tasks/<id>/`` and status change: Step through its primary key (id, number), the
    # others through an index on task_id (without one, each read scans the whole table).

    __tablename__ = "Step"

    id: Mapped[int] = mapped_column(ForeignKey("ProcessingTask.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    step_id: Mapped[str | None] = mapped_column(String(500), default=None)
    href: Mapped[str] = mapped_column(String(500), default="")
    ui_href: Mapped[str | None] = mapped_column(String(500), default=None)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)


class ProcessingTask(_Saving, MODEL):
    """A unit of plugin work, from the process request to its final status."""

    __tablename__ = "ProcessingTask"
    _insert_directly = True

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    task_name: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default_factory=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    parameters: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[Any] = mapped_column(MutableJSON, default_factory=dict, nullable=True)
    multi_step: Mapped[bool] = mapped_column(Boolean, default=False)
    steps: Mapped[list[Step]] = relationship(
        order_by="Step.number",
        collection_class=ordering_list("number"),
        cascade="all, delete-orphan",
        default_factory=list,
    )
    current_step: Mapped[int] = mapped_column(Integer, default=-1)
    progress_value: Mapped[float | None] = mapped_column(Float, default=None)
    progress_start: Mapped[float] = mapped_column(Float, default=0)
    progress_target: Mapped[float] = mapped_column(Float, default=100)
    progress_unit: Mapped[str] = mapped_column(String(100), default="%")
    task_status: Mapped[str | None] = mapped_column(String(100), default=None)
    task_log: Mapped[str] = mapped_column(Text, default="", nullable=False)
    outputs: Mapped[list[TaskFile]] = relationship(
        back_populates="task", cascade="all, delete-orphan", default_factory=list
    )
    # loaded when read (one SELECT, as the task resource does), not with every task: plugin
    # tasks and most API reads of a task never look at its links
    links: Mapped[list[TaskLink]] = relationship(
        back_populates="task", cascade="all, delete-orphan", default_factory=list
    )
    subscriptions: Mapped[list[TaskUpdateSubscription]] = relationship(
        back_populates="task", cascade="all, delete-orphan", default_factory=list
    )

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def is_ok(self) -> bool:
        return self.task_status == TaskStatus.SUCCESS.value

    @property
    def status(self) -> str:
        """PENDING until finished, then the stored status (UNKNOWN if none was stored)."""
        if not self.is_finished:
            return TaskStatus.PENDING.value
        return self.task_status or TaskStatus.UNKNOWN.value

    @property
    def has_uncleared_step(self) -> bool:
        # current_step first: a task that never had a step does not load its steps
        return 0 <= self.current_step < len(self.steps) and not self.steps[self.current_step].cleared

    def clear_previous_step(self, commit: bool = False) -> None:
        """Mark the current step cleared (no-op when there is none)."""
        if 0 <= self.current_step < len(self.steps):
            self.steps[self.current_step].cleared = True
        if commit:
            self.save(commit=True)

    def add_next_step(self, href: str, ui_href: str | None, step_id: str | None, commit: bool = False) -> None:
        """Append a new open step; the current one must be cleared first.

        Raises:
            AssertionError: the current step is still open (the original runner's contract).
        """
        if self.steps and self.has_uncleared_step:
            raise AssertionError("Current step must be cleared before adding the next step!")
        self.multi_step = True
        self.current_step = len(self.steps)
        self.steps.append(Step(id=self.id, step_id=step_id, href=href, ui_href=ui_href, cleared=False))
        if commit:
            self.save(commit=True)

    def add_task_log_entry(self, log: str, commit: bool = False) -> None:
        """Append ``log`` as a new line of the task log."""
        self.task_log = f"{self.task_log}\n{log}" if self.task_log else log
        if commit:
            self.save(commit=True)


class TaskFile(_Saving, _TaskChild, MODEL):
    """A file a task produced (result) or keeps for itself (``file_type="temp-file"``)."""

    __tablename__ = "TaskFile"
    _insert_directly = True  # a task's result file: save(commit=True) is one INSERT

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    task_id: Mapped[int] = mapped_column(ForeignKey("ProcessingTask.id"), index=True, init=False)
    task: Mapped[ProcessingTask] = relationship(back_populates="outputs")
    security_tag: Mapped[str] = mapped_column(String(64))
    storage_provider: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(500), index=True)
    file_storage_data: Mapped[str] = mapped_column(Text)
    file_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mimetype: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default_factory=utc_now)
    # the Celery task that wrote the file: when that task runs again (redelivered after its
    # worker died, or retried), its files replace these instead of being added a second time.
    # Not a constructor argument: the positional ones above are the plugins' contract.
    celery_task_id: Mapped[str | None] = mapped_column(String(255), default=None, init=False)

    @classmethod
    def get_task_result_files(cls, task: ProcessingTask | int, session: Session | None = None) -> Sequence[TaskFile]:
        """The task's result files in creation order (temp files left out), read through
        ``session`` (default: the app's session)."""
        task_id = task if isinstance(task, int) else task.id
        return (session or DB.session).execute(_result_files_query(), {"task_id": task_id}).scalars().all()


class TaskLink(_TaskChild, MODEL):
    """A typed link shown in the task resource's ``links``."""

    __tablename__ = "TaskLink"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    task_id: Mapped[int] = mapped_column(ForeignKey("ProcessingTask.id"), index=True, init=False)
    task: Mapped[ProcessingTask] = relationship(back_populates="links")
    type: Mapped[str] = mapped_column(String(64))
    href: Mapped[str] = mapped_column(String(500))


class WebhookRef(NamedTuple):
    webhook_href: str
    task_href: str


class TaskUpdateSubscription(_Saving, _TaskChild, MODEL):
    """A webhook to call when the task changes (``event_type`` None means every event)."""

    __tablename__ = "TaskUpdateSubscription"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    task_id: Mapped[int] = mapped_column(ForeignKey("ProcessingTask.id"), index=True, init=False)
    task: Mapped[ProcessingTask] = relationship(back_populates="subscriptions")
    webhook_href: Mapped[str] = mapped_column(String(500))
    task_href: Mapped[str] = mapped_column(String(500))
    event_type: Mapped[str | None] = mapped_column(String(64), default=None)

    @classmethod
    def get_by_task_and_event(cls, task: ProcessingTask | int, event: str | None = None) -> list[WebhookRef]:
        """Distinct (webhook, task URL) pairs subscribed to ``event`` or to every event."""
        task_id = task if isinstance(task, int) else task.id
        condition = cls.event_type.is_(None)
        if event is not None:
            condition = or_(condition, cls.event_type == event)
        query = select(cls.webhook_href, cls.task_href).where(cls.task_id == task_id, condition).distinct()
        return [WebhookRef(*row) for row in DB.session.execute(query)]

    @classmethod
    def get_all_by_task(cls, task_id: int) -> list[tuple[str, str, str | None]]:
        """(webhook, task URL, event type or None for every event) of every subscription."""
        return [(row[0], row[1], row[2]) for row in DB.session.execute(_subscriptions_query(), {"task_id": task_id})]

    @classmethod
    def get_by_task_and_subscriber(
        cls, task: ProcessingTask | int, webhook_href: str, event: Any = ...
    ) -> Sequence[TaskUpdateSubscription]:
        """Subscriptions of one webhook; ``event=...`` any event type, ``None`` only "all"."""
        task_id = task if isinstance(task, int) else task.id
        query = select(cls).where(cls.task_id == task_id, cls.webhook_href == webhook_href)
        if event is None:
            query = query.where(cls.event_type.is_(None))
        elif event is not ...:
            query = query.where(cls.event_type == event)
        return DB.session.execute(query).scalars().all()


# Statements read on every finished task (its outputs) and every status change (its webhooks),
# built once with the task id as a bound parameter: SQLAlchemy then finds the compiled form
# without building the statement and walking it for its cache key each time. Built on first use,
# when every mapper can be configured.
@cache
def _result_files_query() -> Select[tuple[TaskFile]]:
    return (
        select(TaskFile)
        .where(TaskFile.task_id == bindparam("task_id"))
        .where(or_(TaskFile.file_type.is_(None), TaskFile.file_type != "temp-file"))
        .order_by(TaskFile.id)
    )


@cache
def _subscriptions_query() -> Select[tuple[str, str, str | None]]:
    subscription = TaskUpdateSubscription
    return select(subscription.webhook_href, subscription.task_href, subscription.event_type).where(subscription.task_id == bindparam("task_id"))
