# SPDX-License-Identifier: Apache-2.0
"""Reading the execution options file some plugins accept (e.g. a quantum backend and token)."""

from __future__ import annotations

import logging
from typing import Any

from ..requests import get_mimetype, open_url
from ..util.logging import redact_log_data
from .entity_marshalling import ensure_dict, load_entities

__all__ = ["parse_execution_options"]

_LOGGER = logging.getLogger(__name__)


def parse_execution_options(url: str) -> dict[str, Any]:
    """The options in the first entity of a JSON, JSON-lines or CSV file; ``{}`` if empty.

    The format comes from the Content-Type, else from the file extension in the URL. CSV
    values stay strings.

    Raises:
        ValueError: when the format is none of the above.
        requests.HTTPError: when the file cannot be fetched.
    """
    with open_url(url, stream=True) as response:
        mimetype = get_mimetype(response, default="application/json") or "application/json"
        first = next(iter(load_entities(response, mimetype)), None)
    if first is None:
        return {}
    options = dict(next(ensure_dict([first])))
    # the options (and a data: URL) often carry access tokens: log a redacted copy only
    _LOGGER.debug("execution options loaded: %s", redact_log_data(options))
    return options
