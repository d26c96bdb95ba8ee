# SPDX-License-Identifier: Apache-2.0
"""csv-statistics: per-column statistics of a CSV file given by URL.

The bundled plugin with a data input: its form asks the host (the QHAna UI, or the debugger
at /debug/frontend-debugger) for a file, and its task writes four outputs of different kinds
(JSON, CSV, an SVG chart, an HTML report), so every preview of the task page is exercised.
Standard library only.
"""

from __future__ import annotations

from qhana_plugin_runner.api.util import SecurityBlueprint
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

__all__ = ["CsvStatistics", "CSV_STATS_BLP"]

_NAME = "csv-statistics"
__version__ = "v0.1.0"
_IDENTIFIER = plugin_identifier(_NAME, __version__)

CSV_STATS_BLP = SecurityBlueprint(_IDENTIFIER, __name__, description="Per-column statistics of a CSV file.")


class CsvStatistics(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Counts, means, minima and maxima of the numeric columns of a CSV file."
    tags = ["data-analysis", "csv", "demo"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return CSV_STATS_BLP

    def get_requirements(self) -> str:
        return ""


from . import routes  # noqa: E402,F401  (the routes need the class above)
