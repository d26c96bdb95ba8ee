#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Each figure of issue 6 beside its target, from the JSON results of ``benchmarks/run.py``.

    .venv/bin/python benchmarks/summary.py benchmarks/results/2026-12-07-s9-*.json
    .venv/bin/python benchmarks/summary.py --json results/*.json   # the same as JSON

Results are grouped by set-up (``production`` is the compose set-up, ``embedded`` the README's
default); each figure shows every run's value in the order given and, with more than one run,
their median, which the verdict judges. The speed of machines of this class changes by up to a
factor of two within an hour: several runs alternated within the same minutes say more than one.
``run.py`` prints this table after it measured (``--rounds N`` for several runs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FIGURES", "Figure", "read_results", "summarize", "render_markdown"]

SETUPS = ("production", "embedded")
# bench_common.cpu_loop_ms on machines of this class in their quick hours (sessions 8 and 9); the
# time figures of a run with a much higher reading do not compare with theirs
QUICK_MACHINE_LOOP_MS = "50–58"
# the original runner on this machine class (issue 6): compose set-up / README default
ORIGINAL = {"production": "compose", "embedded": "default"}


@dataclass(frozen=True)
class Figure:
    """One line of the issue's table: where a result holds it and what it must reach."""

    key: str
    label: str
    unit: str
    read: Callable[[dict[str, Any]], float | None]
    # the bound by set-up; ``at_most`` says which side of it passes
    bound: dict[str, float]
    at_most: bool
    original: dict[str, str]

    def passes(self, value: float, setup: str) -> bool:
        bound = self.bound[setup]
        return value <= bound if self.at_most else value >= bound


def _dig(report: dict[str, Any], *path: str | int) -> Any:
    value: Any = report
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _at_concurrency(rows: Any, concurrency: int, field: str) -> float | None:
    """``field`` of the load-run row measured at ``concurrency`` (wrk or the client's threads)."""
    if not isinstance(rows, list):
        return None
    for row in rows:
        if isinstance(row, dict) and row.get("concurrency") == concurrency:
            return _number(row.get(field))
    return None


def _reader(*path: str | int) -> Callable[[dict[str, Any]], float | None]:
    return lambda report: _number(_dig(report, *path))


def _scaled(read: Callable[[dict[str, Any]], float | None], factor: float) -> Callable[[dict[str, Any]], float | None]:
    def inner(report: dict[str, Any]) -> float | None:
        value = read(report)
        return None if value is None else value * factor
    return inner


FIGURES: tuple[Figure, ...] = (
    Figure("launch", "API launch to plugin list answering", "s", _reader("startup", "plugin_list_answers_s"),
           {"production": 0.6, "embedded": 0.6}, True, {"production": "0.76–0.89", "embedded": "0.76–0.89"}),
    Figure("plugins_list", "`GET /plugins/`, wrk, 8 connections", "req/s",
           lambda r: _at_concurrency(_dig(r, "plugins_list", "wrk"), 8, "rps"),
           {"production": 3 * 1472, "embedded": 3 * 2107}, False, {"production": "1472", "embedded": "2107"}),
    Figure("task_get", "`GET /tasks/<id>/`, concurrency 1", "req/s", lambda r: _at_concurrency(_dig(r, "task_get"), 1, "rps"),
           {"production": 3 * 170, "embedded": 3 * 253}, False, {"production": "170", "embedded": "253"}),
    Figure("task_get_p50", "`GET /tasks/<id>/`, concurrency 1, p50", "ms", lambda r: _at_concurrency(_dig(r, "task_get"), 1, "p50_ms"),
           {"production": 1.5, "embedded": 1.5}, True, {"production": "–", "embedded": "–"}),
    Figure("e2e", "hello-world end to end, p50", "ms", _reader("e2e", "p50_ms"),
           {"production": 10.0, "embedded": 10.0}, True, {"production": "37", "embedded": "25"}),
    Figure("burst", "200 tasks submitted at once", "tasks/s", _reader("burst", "tasks_per_s"),
           {"production": 150.0, "embedded": 150.0}, False, {"production": "57", "embedded": "7.1"}),
    Figure("burst_wait", "median task latency in that burst", "s", _scaled(_reader("burst", "task_latency", "p50_ms"), 1 / 1000),
           {"production": 2.0, "embedded": 2.0}, True, {"production": "21–23", "embedded": "21–23"}),
    # first in, first out with the races of arrival: about 1 % (benchmarks/task_order.py)
    Figure("burst_order", "pairs of that burst's tasks finished out of submission order", "%", _scaled(_reader("burst_order", "inversions"), 100),
           {"production": 5.0, "embedded": 5.0}, True, {"production": "–", "embedded": "–"}),
    Figure("webhook", "webhook after the status change, mid p50 (multi-step)", "ms", _reader("webhook_multistep", "after_change_ms", "mid_p50"),
           {"production": 3.0, "embedded": 3.0}, True, {"production": "≈ 7", "embedded": "≈ 7"}),
    Figure("webhook_single", "webhook after the status change, mid p50 (one step)", "ms", _reader("webhook_single", "after_change_ms", "mid_p50"),
           {"production": 3.0, "embedded": 3.0}, True, {"production": "≈ 7", "embedded": "≈ 7"}),
    # 60 % of the original's lower figure (187 MB, 91 MB); its higher one (202, 98) would allow 121 / 59
    Figure("memory_api", "idle RSS, API", "MB", _reader("memory_idle", "api", "rss_mb"),
           {"production": 0.6 * 187, "embedded": 0.6 * 187}, True, {"production": "187–202", "embedded": "187–202"}),
    Figure("memory_worker", "idle RSS, worker", "MB", _reader("memory_idle", "worker", "rss_mb"),
           {"production": 0.6 * 91, "embedded": 0.6 * 91}, True, {"production": "91–98", "embedded": "91–98"}),
)


def read_results(paths: list[Path]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The reports of ``paths`` by set-up name, in the order given (unreadable files refused)."""
    grouped: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for path in paths:
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise SystemExit(f"{path}: not a results file ({err})") from None
        setup = _dig(report, "setup", "name")
        if setup not in SETUPS:
            raise SystemExit(f"{path}: no set-up named in setup.name (a file of benchmarks/run.py has one)")
        grouped.setdefault(setup, []).append((path.name, report))
    return grouped


def summarize(grouped: dict[str, list[tuple[str, dict[str, Any]]]]) -> dict[str, Any]:
    """Per set-up and figure: every run's value, the median of those measured, the verdict."""
    out: dict[str, Any] = {}
    for setup in SETUPS:
        runs = grouped.get(setup)
        if not runs:
            continue
        figures = {}
        for figure in FIGURES:
            values = [figure.read(report) for _, report in runs]
            measured = [v for v in values if v is not None]
            median = statistics.median(measured) if measured else None
            figures[figure.key] = {
                "label": figure.label,
                "unit": figure.unit,
                "values": values,
                "median": median,
                "target": ("≤ " if figure.at_most else "≥ ") + _format(figure.bound[setup]),
                "original": figure.original[setup],
                "met": None if median is None else figure.passes(median, setup),
                "runs_meeting": sum(figure.passes(v, setup) for v in measured),
            }
        speeds = [_number(_dig(report, "machine", "cpu_loop_ms")) for _, report in runs]
        out[setup] = {"runs": [name for name, _ in runs], "cpu_loop_ms": speeds, "figures": figures}
    return out


def _format(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:.0f}"
    text = f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return text.rstrip("0").rstrip(".")


def render_markdown(summary: dict[str, Any]) -> str:
    lines = []
    for setup, block in summary.items():
        runs = block["runs"]
        lines.append(f"{setup} ({ORIGINAL[setup]} set-up of the original), {len(runs)} run{'s' if len(runs) != 1 else ''}: {', '.join(runs)}")
        speeds = block.get("cpu_loop_ms") or []
        if any(v is not None for v in speeds):
            lines.append(f"machine speed, `cpu_loop_ms` of each run (lower is faster; {QUICK_MACHINE_LOOP_MS} on a quick machine of this class): {' / '.join(_format(v) for v in speeds)}")
        lines.append("")
        lines.append("| figure | original | target | runs | median | met |")
        lines.append("|---|---|---|---|---|---|")
        for row in block["figures"].values():
            values = " / ".join(_format(v) for v in row["values"])
            met = "–" if row["met"] is None else ("✓" if row["met"] else "✗")
            if row["met"] is not None and len(runs) > 1:
                met += f" ({row['runs_meeting']} of {sum(v is not None for v in row['values'])})"
            lines.append(f"| {row['label']} ({row['unit']}) | {row['original']} | {row['target']} | {values} | {_format(row['median'])} | {met} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="JSON files written by benchmarks/run.py")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    summary = summarize(read_results(args.results))
    print(json.dumps(summary, indent=1, ensure_ascii=False) if args.json else render_markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
