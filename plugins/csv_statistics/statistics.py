# SPDX-License-Identifier: Apache-2.0
"""The computation of csv-statistics, free of Flask and Celery so it can be tested directly."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from html import escape

_LINE_END = re.compile(r"\r\n|\r|\n")

__all__ = ["ColumnStatistics", "split_lines", "summarise", "to_json", "to_csv", "to_svg", "to_html"]


@dataclass
class ColumnStatistics:
    """Running statistics of one column (Welford's algorithm: one pass, constant memory)."""

    column: str
    values: int = 0
    numeric: int = 0
    mean: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    stdev: float | None = None
    _m2: float = 0.0

    def add(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        self.values += 1
        try:
            number = float(text)
        except ValueError:
            return
        if not math.isfinite(number):
            return
        self.numeric += 1
        if self.mean is None or self.minimum is None or self.maximum is None:
            self.mean, self.minimum, self.maximum = number, number, number
            return
        delta = number - self.mean
        self.mean += delta / self.numeric
        self._m2 += delta * (number - self.mean)
        self.minimum = min(self.minimum, number)
        self.maximum = max(self.maximum, number)
        self.stdev = math.sqrt(self._m2 / (self.numeric - 1))

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("_m2")
        return data


def split_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Lines (with their line ends) of text that arrives in chunks of any size."""
    rest = ""
    for chunk in chunks:
        text = rest + chunk
        start = 0
        for match in _LINE_END.finditer(text):
            if match.end() == len(text) and match.group() == "\r":
                break  # the "\n" of a "\r\n" may start the next chunk
            yield text[start : match.end()]
            start = match.end()
        rest = text[start:]
    if rest:
        yield rest


def summarise(
    lines: Iterable[str], delimiter: str, columns: Sequence[str] | None, max_rows: int
) -> tuple[list[ColumnStatistics], int]:
    """Statistics of the chosen columns (all, if none are chosen) and the number of rows read.

    Raises:
        ValueError: the file has no header row, or a chosen column is not in it.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise ValueError("The CSV file is empty: a header row is needed.")
    header = [name.strip() for name in header]
    wanted = list(columns) if columns else header
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ValueError(f"Columns not in the header {header}: {missing}")
    positions = [(header.index(name), ColumnStatistics(name)) for name in wanted]
    rows = 0
    for row in reader:
        if rows >= max_rows:
            break
        rows += 1
        for position, stats in positions:
            if position < len(row):
                stats.add(row[position])
    chosen = [stats for _, stats in positions]
    if not columns:  # every column asked for: keep the numeric ones
        chosen = [stats for stats in chosen if stats.numeric] or chosen
    return chosen, rows


def to_json(stats: list[ColumnStatistics], rows: int) -> str:
    return json.dumps({"rows": rows, "columns": [s.as_dict() for s in stats]}, indent=2)


def to_csv(stats: list[ColumnStatistics]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["column", "values", "numeric", "mean", "minimum", "maximum", "stdev"])
    for s in stats:
        writer.writerow([s.column, s.values, s.numeric, _fmt(s.mean), _fmt(s.minimum), _fmt(s.maximum), _fmt(s.stdev)])
    return out.getvalue()


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def to_svg(stats: list[ColumnStatistics]) -> str:
    """A bar chart of the column means, each bar with its min–max range as a line."""
    numeric = [s for s in stats if s.mean is not None]
    width, bar, gap, height = 40 + 70 * max(len(numeric), 1), 40, 30, 220
    top = max([abs(s.maximum or 0.0) for s in numeric] + [abs(s.mean or 0.0) for s in numeric] + [1e-12])
    scale = (height - 60) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<line x1="20" y1="{height - 30}" x2="{width - 10}" y2="{height - 30}" stroke="#333"/>',
    ]
    for index, s in enumerate(numeric):
        x = 30 + index * (bar + gap)
        mean_h = max(abs(s.mean or 0.0) * scale, 1)
        parts.append(f'<rect x="{x}" y="{height - 30 - mean_h:.1f}" width="{bar}" height="{mean_h:.1f}" fill="#4a7ab7"><title>{escape(s.column)}: mean {_fmt(s.mean)}</title></rect>')
        low, high = height - 30 - abs(s.minimum or 0.0) * scale, height - 30 - abs(s.maximum or 0.0) * scale
        parts.append(f'<line x1="{x + bar / 2}" y1="{low:.1f}" x2="{x + bar / 2}" y2="{high:.1f}" stroke="#c33" stroke-width="2"/>')
        parts.append(f'<text x="{x + bar / 2}" y="{height - 12}" font-size="11" text-anchor="middle" font-family="sans-serif">{escape(s.column[:10])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def to_html(stats: list[ColumnStatistics], rows: int, source: str) -> str:
    cells = "".join(
        f"<tr><th scope=row>{escape(s.column)}</th><td>{s.values}</td><td>{s.numeric}</td>"
        f"<td>{_fmt(s.mean)}</td><td>{_fmt(s.minimum)}</td><td>{_fmt(s.maximum)}</td><td>{_fmt(s.stdev)}</td></tr>"
        for s in stats
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Column statistics</title></head><body>"
        f"<h1>Column statistics</h1><p>{rows} rows of <code>{escape(source)}</code></p>"
        "<table border=1><thead><tr><th>column</th><th>values</th><th>numeric</th><th>mean</th>"
        f"<th>minimum</th><th>maximum</th><th>stdev</th></tr></thead><tbody>{cells}</tbody></table></body></html>"
    )
