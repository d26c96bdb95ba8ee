# SPDX-License-Identifier: Apache-2.0
"""The Celery task of csv-statistics: stream the CSV, summarise it, store four outputs."""

from __future__ import annotations

import codecs
from json import loads
from tempfile import SpooledTemporaryFile
from typing import Any

from celery.utils.log import get_task_logger

from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.requests import open_url
from qhana_plugin_runner.storage import STORE

from . import CsvStatistics
from .schemas import CsvStatisticsSchema
from .statistics import split_lines, summarise, to_csv, to_html, to_json, to_svg

__all__ = ["statistics_task"]

TASK_LOGGER = get_task_logger(__name__)


@CELERY.task(name=f"{CsvStatistics.instance.identifier}.statistics_task", bind=True)
def statistics_task(self: Any, db_id: int) -> str:
    task = ProcessingTask.get_by_id(id_=db_id)
    if task is None:
        raise KeyError(f"Could not load task data with id {db_id} to read parameters!")
    params = CsvStatisticsSchema().load(loads(task.parameters or "{}"))
    url = params["data_url"]
    TASK_LOGGER.info("reading %s", url)
    with open_url(url, stream=True) as response:  # streamed: constant memory for any file size
        text = codecs.iterdecode(response.iter_content(64 * 1024), "utf-8-sig", errors="replace")
        stats, rows = summarise(split_lines(text), params["delimiter"].value, params["columns"], params["max_rows"])
    outputs = [
        ("statistics.json", "custom/column-statistics", "application/json", to_json(stats, rows)),
        ("statistics.csv", "custom/column-statistics", "text/csv", to_csv(stats)),
        ("means.svg", "plot", "image/svg+xml", to_svg(stats)),
        ("report.html", "plot", "text/html", to_html(stats, rows, url)),
    ]
    for name, data_type, content_type, text in outputs:
        with SpooledTemporaryFile(mode="w") as output:
            output.write(text)
            STORE.persist_task_result(db_id, output, name, data_type, content_type)
    return f"{len(stats)} columns of {rows} rows summarised"
