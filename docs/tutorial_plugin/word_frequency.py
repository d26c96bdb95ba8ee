# SPDX-License-Identifier: Apache-2.0
"""word-frequency: the plugin built in docs/tutorial.md.

Reads a text file given by URL, counts its words and answers with a CSV file of the most
frequent ones. The tutorial shows this file piece by piece (the ``# --- step`` comments mark
the pieces), and tests/integration/test_tutorial_plugin.py runs it end to end.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from http import HTTPStatus
from json import dumps, loads
from typing import Any

import marshmallow as ma
from celery.utils.log import get_task_logger
from flask import Response, redirect, render_template, request, url_for
from flask.views import MethodView
from marshmallow import EXCLUDE

from qhana_plugin_runner.api.plugin_schemas import (
    DataMetadata,
    EntryPoint,
    InputDataMetadata,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)
from qhana_plugin_runner.api.util import FileUrl, FrontendFormBaseSchema, SecurityBlueprint
from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.requests import open_url
from qhana_plugin_runner.storage import STORE
from qhana_plugin_runner.tasks import save_task_error, save_task_result
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

# --- step 1: the plugin class ---------------------------------------------------------------

_NAME = "word-frequency"
__version__ = "v0.1.0"
_IDENTIFIER = plugin_identifier(_NAME, __version__)  # "word-frequency@v0-1-0"

WORD_FREQUENCY_BLP = SecurityBlueprint(
    _IDENTIFIER,  # the blueprint's name: url_for(f"{WORD_FREQUENCY_BLP.name}.<View>")
    __name__,
    description="Counts the words of a text file.",
)


class WordFrequency(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Counts the words of a text and lists the most frequent ones as CSV."
    tags = ["text", "statistics", "tutorial"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return WORD_FREQUENCY_BLP

    def get_requirements(self) -> str:
        return ""  # standard library only; a plugin needing numpy would return "numpy>=1.26"


# --- step 2: the form schema ----------------------------------------------------------------


class WordFrequencyParametersSchema(FrontendFormBaseSchema):
    text_url = FileUrl(  # form field "textUrl" (the base schema uses camelCase keys)
        required=True,
        allow_none=False,
        data_input_type="*",
        data_content_types=["text/plain"],
        metadata={"label": "Text", "description": "URL of the text file to count the words of."},
    )
    top = ma.fields.Integer(
        required=False,
        load_default=10,
        validate=ma.validate.Range(min=1, max=1000),
        metadata={"label": "Number of words", "description": "How many of the most frequent words to list."},
    )
    ignore_case = ma.fields.Boolean(
        required=False,
        load_default=False,
        metadata={"label": "Ignore case", "description": "Count \"The\" and \"the\" as one word."},
    )


# --- step 3: the metadata endpoint ----------------------------------------------------------


@WORD_FREQUENCY_BLP.route("/")
class MetadataView(MethodView):
    """The plugin's metadata."""

    @WORD_FREQUENCY_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @WORD_FREQUENCY_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        """What the plugin does, where its form is, and what it reads and writes."""
        plugin = WordFrequency.instance
        return PluginMetadata(
            title="Word frequency",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            entry_point=EntryPoint(
                href=url_for(f"{WORD_FREQUENCY_BLP.name}.ProcessView"),
                ui_href=url_for(f"{WORD_FREQUENCY_BLP.name}.MicroFrontend"),
                data_input=[InputDataMetadata(data_type="*", content_type=["text/plain"], required=True, parameter="textUrl")],
                data_output=[DataMetadata(data_type="custom/word-frequency", content_type=["text/csv"], required=True)],
            ),
            tags=plugin.tags,
        )


# --- step 4: the micro-frontend -------------------------------------------------------------


@WORD_FREQUENCY_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The form: GET shows it (prefilled from the query), POST validates what was typed."""

    example_inputs = {"textUrl": "data:text/plain,the cat and the hat and the bat", "top": 3}

    @WORD_FREQUENCY_BLP.html_response(HTTPStatus.OK, description="Micro frontend of the word-frequency plugin.")
    @WORD_FREQUENCY_BLP.arguments(
        WordFrequencyParametersSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True),
        location="query",
        required=False,
    )
    @WORD_FREQUENCY_BLP.require_jwt("jwt", optional=True)
    def get(self, errors: dict[str, Any]) -> Response:
        """The form, with the values from the query string."""
        return self.render(request.args, errors, False)

    @WORD_FREQUENCY_BLP.html_response(HTTPStatus.OK, description="Micro frontend of the word-frequency plugin.")
    @WORD_FREQUENCY_BLP.arguments(
        WordFrequencyParametersSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True),
        location="form",
        required=False,
    )
    @WORD_FREQUENCY_BLP.require_jwt("jwt", optional=True)
    def post(self, errors: dict[str, Any]) -> Response:
        """The form again, with the validation messages of the submitted values."""
        return self.render(request.form, errors, not errors)

    def render(self, data: Any, errors: dict[str, Any], valid: bool) -> Response:
        plugin = WordFrequency.instance
        return Response(
            render_template(
                "simple_template.html",
                name=plugin.name,
                version=plugin.version,
                schema=WordFrequencyParametersSchema(),
                valid=valid,
                values=data,
                errors=errors,
                process=url_for(f"{WORD_FREQUENCY_BLP.name}.ProcessView"),
                help_text="Choose a text file. The result lists its most frequent words with their counts.",
                example_values=url_for(f"{WORD_FREQUENCY_BLP.name}.MicroFrontend", **self.example_inputs),
            )
        )


# --- step 5: the processing endpoint --------------------------------------------------------


@WORD_FREQUENCY_BLP.route("/process/")
class ProcessView(MethodView):
    """Starts the task and answers 303 to the task resource."""

    @WORD_FREQUENCY_BLP.arguments(WordFrequencyParametersSchema(unknown=EXCLUDE), location="form")
    @WORD_FREQUENCY_BLP.response(HTTPStatus.SEE_OTHER)
    @WORD_FREQUENCY_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        """Count the words of the text in a Celery worker."""
        db_task = ProcessingTask(task_name=count_words.name, parameters=dumps(arguments))
        db_task.save(commit=True)
        chain = count_words.s(db_id=db_task.id) | save_task_result.s(db_id=db_task.id)
        chain.link_error(save_task_error.s(db_id=db_task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(db_task.id)), HTTPStatus.SEE_OTHER)


# --- step 6: the Celery task ----------------------------------------------------------------

TASK_LOGGER = get_task_logger(__name__)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")  # letters, with inner apostrophes (don't)


def most_frequent_words(text: str, top: int, ignore_case: bool) -> list[tuple[str, int]]:
    """The ``top`` most frequent words of ``text``; ties keep the order of first appearance."""
    words = _WORD.findall(text.lower() if ignore_case else text)
    return Counter(words).most_common(top)


@CELERY.task(name=f"{WordFrequency.instance.identifier}.count_words", bind=True)
def count_words(self: Any, db_id: int) -> str:
    """Read the text, count its words, store the CSV as the task's output."""
    task_data = ProcessingTask.get_by_id(id_=db_id)
    if task_data is None:
        raise KeyError(f"Could not load task data with id {db_id} to read parameters!")
    parameters = loads(task_data.parameters or "{}")

    with open_url(parameters["text_url"]) as response:  # http(s), data: and allowed file: URLs
        text = response.content.decode("utf-8", errors="replace")
    counts = most_frequent_words(text, int(parameters.get("top", 10)), bool(parameters.get("ignore_case")))

    output = io.StringIO(newline="")
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(["word", "count"])
    writer.writerows(counts)
    STORE.persist_task_result(db_id, output.getvalue(), "word-frequency.csv", "custom/word-frequency", "text/csv")

    TASK_LOGGER.info("word-frequency task %s counted %d distinct words", db_id, len(counts))
    return f"{len(counts)} words listed"
