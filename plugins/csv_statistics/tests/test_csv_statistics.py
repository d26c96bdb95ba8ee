"""csv-statistics: the one-pass statistics, the line splitter, and the plugin end to end
(form, 422 on bad input, a task that reads a data URL and stores four outputs)."""

from __future__ import annotations

import base64
import csv
import io
import json
import statistics
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csv_statistics.statistics import split_lines, summarise, to_csv, to_html

from helpers import ROOT, download, wait_final

BASE = "/plugins/csv-statistics@v0-1-0/"
TABLE = "id,name,x,y\na,first,1,10\nb,second,2,\nc,third,4,30\nd,fourth,not a number,20\n"


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}


def test_statistics_of_numeric_columns() -> None:
    stats, rows = summarise(io.StringIO(TABLE), ",", None, 1000)
    assert rows == 4
    by_name = {s.column: s for s in stats}
    assert set(by_name) == {"x", "y"}  # every column asked for: the numeric ones are kept
    x = by_name["x"]
    assert (x.values, x.numeric, x.minimum, x.maximum) == (4, 3, 1.0, 4.0)
    assert x.mean == pytest.approx(7 / 3)
    assert x.stdev == pytest.approx(statistics.stdev([1, 2, 4]))
    assert (by_name["y"].values, by_name["y"].numeric) == (3, 3)


def test_chosen_columns_row_limit_and_unknown_columns() -> None:
    stats, rows = summarise(io.StringIO(TABLE), ",", ["name", "x"], 2)
    assert rows == 2 and [s.column for s in stats] == ["name", "x"]
    assert stats[0].numeric == 0 and stats[0].mean is None
    assert stats[1].mean == pytest.approx(1.5)
    with pytest.raises(ValueError, match="not in the header"):
        summarise(io.StringIO(TABLE), ",", ["z"], 10)
    with pytest.raises(ValueError, match="empty"):
        summarise(io.StringIO(""), ",", None, 10)


def test_outputs_escape_column_names() -> None:
    stats, rows = summarise(io.StringIO("<b>bold</b>\n1\n"), ",", None, 10)
    assert "<b>" not in to_html(stats, rows, "<script>") and "&lt;b&gt;" in to_html(stats, rows, "x")
    assert list(csv.reader(io.StringIO(to_csv(stats))))[1][:3] == ["<b>bold</b>", "1", "1"]


@given(st.text(alphabet="ab,\r\n\"", max_size=60), st.lists(st.integers(min_value=1, max_value=7), max_size=20))
def test_split_lines_is_independent_of_chunk_boundaries(text: str, cuts: list[int]) -> None:
    chunks, position = [], 0
    for cut in cuts:
        chunks.append(text[position : position + cut])
        position += cut
    chunks.append(text[position:])
    lines = list(split_lines(chunks))
    assert "".join(lines) == text
    assert lines == list(split_lines([text]))
    assert all(line.count("\n") + line.count("\r") - line.count("\r\n") <= 1 for line in lines)


def test_form_has_file_chooser_radio_group_and_example(client: Any) -> None:
    with client.get(BASE + "ui/") as response:
        page = response.get_data(as_text=True)
    assert 'class="qhana-choose-file-button"' in page and 'data-input="entity/list"' in page
    assert 'data-content-type="text/csv"' in page
    assert 'type="radio" name="delimiter" value="comma" checked' in page
    assert "/static/debug/samples/measurements.csv" in page  # the example values link


def test_bad_input_gets_422_naming_the_field(client: Any) -> None:
    response = client.post(BASE + "process/", data={"dataUrl": "javascript:alert(1)", "maxRows": "0"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]["form"]
    assert set(errors) == {"dataUrl", "maxRows"}


def _data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_task_reads_the_file_and_stores_four_outputs(client: Any, celery_worker: Any) -> None:
    response = client.post(BASE + "process/", data={"dataUrl": _data_url(TABLE), "delimiter": "comma", "columns": "x,y", "maxRows": "100"})
    assert response.status_code == 303
    task = wait_final(client, response.headers["Location"], timeout=30)
    assert task["status"] == "SUCCESS", task["log"]
    outputs = {o["name"]: o for o in task["outputs"]}
    assert {name: (o["dataType"], o["contentType"]) for name, o in outputs.items()} == {
        "statistics.json": ("custom/column-statistics", "application/json"),
        "statistics.csv": ("custom/column-statistics", "text/csv"),
        "means.svg": ("plot", "image/svg+xml"),
        "report.html": ("plot", "text/html"),
    }
    status, _, body = download(client, outputs["statistics.json"]["href"])
    assert status == 200
    summary = json.loads(body)
    assert summary["rows"] == 4 and [c["column"] for c in summary["columns"]] == ["x", "y"]
    assert summary["columns"][1]["mean"] == pytest.approx(20.0)
    status, _, svg = download(client, outputs["means.svg"]["href"])
    assert svg.startswith(b"<svg") and svg.count(b"<rect") == 3  # background and two bars


def test_semicolon_files_and_a_missing_column_fail_clearly(client: Any, celery_worker: Any) -> None:
    response = client.post(BASE + "process/", data={"dataUrl": _data_url("a;b\n1;2\n"), "delimiter": "semicolon", "columns": "a,c"})
    task = wait_final(client, response.headers["Location"], timeout=30)
    assert task["status"] == "FAILURE"
    assert "not in the header" in task["log"]
    response = client.post(BASE + "process/", data={"dataUrl": _data_url("a;b\n1;2\n"), "delimiter": "semicolon"})
    task = wait_final(client, response.headers["Location"], timeout=30)
    assert task["status"] == "SUCCESS", task["log"]
