# SPDX-License-Identifier: Apache-2.0
"""optimization: couples an objective-function plugin with a minimizer plugin.

Lifecycle of one task, driven by webhooks (each call starts :func:`tasks.advance`, which looks
at the calling task and does the next thing): start the objective function with ``callback``
pointing at this task's webhook; submit its ``pass_data`` step; once it waits in ``evaluate``,
start the minimizer and ``subscribe`` to it; submit its ``minimize`` step with the objective
task's URL; when the minimizer succeeds, copy its ``weights.json``, close the objective's
``evaluate`` step and finish. ``progress_value`` counts the stages and doubles as a claim, so a
webhook delivered twice never does a stage twice.
"""

from __future__ import annotations

from qhana_plugin_runner.api.util import SecurityBlueprint
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

__all__ = ["OptimizationCoordinator", "COORDINATOR_BLP"]

_NAME = "optimization"
__version__ = "v0.1.0"
_IDENTIFIER = plugin_identifier(_NAME, __version__)

COORDINATOR_BLP = SecurityBlueprint(
    _IDENTIFIER, __name__, description="Optimization coordinator API."
)


class OptimizationCoordinator(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Minimizes an objective-function plugin with a minimizer plugin and returns the optimal weights."
    tags = ["optimization", "workflow"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return COORDINATOR_BLP

    def get_requirements(self) -> str:
        return ""


from . import routes  # noqa: E402,F401  (the routes need the class above)
