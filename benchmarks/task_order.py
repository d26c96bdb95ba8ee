# SPDX-License-Identifier: Apache-2.0
"""Whether the tasks of a burst finished in the order they were submitted, read from the database.

The shared client follows a burst's tasks in submission order, so its figures cannot show
tasks overtaking each other. After a run, ``benchmarks/run.py`` reads the runner's task rows
(before the database is dropped): the id is the order in which the API accepted the tasks, the
finish time the moment the worker committed SUCCESS or FAILURE. The burst is the largest group
of tasks that overlapped (each accepted before the one before it had finished); the sequential
phases never overlap.

Among requests that arrive at once the order is not exact: the client's submitters send theirs
side by side, of two tasks the API's threads accept one after the other the second may reach
the queue first, and a task whose database write waits (SQLite's lock) finishes after tasks
taken later. Single tasks therefore move a few places (``max_displacement``) whatever the
queue does. The share of pairs finishing in the opposite order of their submission
(``inversions``) tells the queue's discipline apart: about 1 % first in, first out with these
races, near 100 % last in, first out, 50 % in no order. ``in_order`` holds when every task
finished and at most ``MAX_INVERSIONS`` of the pairs were inverted; a queue that makes every
task wait behind the whole backlog shows in the burst's median wait instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

__all__ = ["MAX_INVERSIONS", "burst_order", "read_task_rows"]

MAX_INVERSIONS = 0.05


def read_task_rows(database_url: str, name_prefix: str = "hello-world@") -> list[tuple[int, datetime, datetime | None]]:
    """(id, accepted, finished) of every task whose name starts with ``name_prefix``, by id."""
    import sqlalchemy as sa

    from qhana_plugin_runner.db.models.tasks import ProcessingTask

    table = ProcessingTask.__table__
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = sa.select(table.c.id, table.c.started_at, table.c.finished_at).where(table.c.task_name.startswith(name_prefix)).order_by(table.c.id)
            return [(row.id, row.started_at, row.finished_at) for row in connection.execute(query)]
    finally:
        engine.dispose()


def _largest_overlapping_run(rows: Sequence[tuple[int, Any, Any]]) -> list[tuple[int, Any, Any]]:
    """The longest run of tasks, by id, each accepted before all before it in the run had
    finished (an unfinished task keeps the run open)."""
    best: list[tuple[int, Any, Any]] = []
    current: list[tuple[int, Any, Any]] = []
    open_ended = False  # a task of the current run never finished
    latest_finish = None
    for row in rows:
        _, accepted, finished = row
        if current and (open_ended or (latest_finish is not None and accepted < latest_finish)):
            current.append(row)
        else:
            current, open_ended, latest_finish = [row], False, None
        if finished is None:
            open_ended = True
        elif latest_finish is None or finished > latest_finish:
            latest_finish = finished
        if len(current) > len(best):
            best = list(current)
    return best


def _count_inversions(values: list[Any]) -> int:
    """Pairs i < j with values[i] > values[j] (merge sort, n log n)."""
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = values[:middle], values[middle:]
    count = _count_inversions(left) + _count_inversions(right)
    left.sort()
    right.sort()
    j = 0
    for value in left:  # for each left value, the right values smaller than it
        while j < len(right) and right[j] < value:
            j += 1
        count += j
    return count


def burst_order(rows: Sequence[tuple[int, Any, Any]]) -> dict[str, Any]:
    """How far the burst's tasks finished from their submission order (see the module doc).

    ``displacement`` of a task: its place among the burst's tasks ordered by finish time minus
    its place ordered by id. ``inversions``: the share of pairs that finished in the opposite
    order of their submission. ``max_overtaken_ms``: the longest a task was still unfinished
    after a task submitted later had finished."""
    burst = _largest_overlapping_run(rows)
    unfinished = sum(finished is None for _, _, finished in burst)
    done = [row for row in burst if row[2] is not None]
    by_finish = sorted(range(len(done)), key=lambda i: (done[i][2], done[i][0]))
    place = {index: rank for rank, index in enumerate(by_finish)}
    displacement = sorted(abs(place[i] - i) for i in range(len(done)))
    pairs = len(done) * (len(done) - 1) // 2
    inverted = _count_inversions([finished for _, _, finished in done])
    # how long an earlier task was still unfinished when a later one had finished
    lags, latest = [], None
    for _, _, finished in done:
        if latest is not None and latest > finished:
            lags.append((latest - finished).total_seconds() * 1000)
        latest = finished if latest is None or finished > latest else latest
    largest = displacement[-1] if displacement else 0
    return {
        "tasks": len(burst),
        "unfinished": unfinished,
        "max_displacement": largest,
        "p90_displacement": displacement[int(0.9 * (len(displacement) - 1))] if displacement else 0,
        "inversions": round(inverted / pairs, 4) if pairs else 0.0,
        "max_overtaken_ms": round(max(lags), 1) if lags else 0.0,
        "in_order": bool(burst) and unfinished == 0 and (inverted / pairs if pairs else 0.0) <= MAX_INVERSIONS,
    }
