# SPDX-License-Identifier: Apache-2.0
"""ridge-loss: an objective-function plugin (tags ``objective-function``, ``gradient``).

Lifecycle of one task: the process endpoint (optionally with a ``callback`` webhook in the query)
creates the task and opens the step ``pass_data``; submitting features and targets opens the
step ``evaluate`` and adds the task links ``of-weights``, ``of-evaluate``,
``of-evaluate-gradient`` and ``of-evaluate-combined``. Those links answer synchronously inside
the request (no Celery round trip). Submitting the ``evaluate`` step finishes the task and
deactivates the links.

The loss is L(w) = ||Xw - y||^2 / n + alpha ||w||^2 with gradient 2 X^T (Xw - y) / n + 2 alpha w.
"""

from __future__ import annotations

from qhana_plugin_runner.api.util import SecurityBlueprint
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

__all__ = ["RidgeLoss", "RIDGE_BLP"]

_NAME = "ridge-loss"
__version__ = "v0.1.0"
_IDENTIFIER = plugin_identifier(_NAME, __version__)

RIDGE_BLP = SecurityBlueprint(
    _IDENTIFIER, __name__, description="Ridge loss objective function API."
)


class RidgeLoss(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Ridge regression loss (mean squared error plus L2 penalty) with its gradient."
    tags = ["objective-function", "gradient"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return RIDGE_BLP

    def get_requirements(self) -> str:
        return ""


from . import routes  # noqa: E402,F401  (the routes need the class above)
