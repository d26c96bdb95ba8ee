# SPDX-License-Identifier: Apache-2.0
"""scipy-minimizer: a minimizer plugin (tag ``minimizer``) built on ``scipy.optimize.minimize``.

Lifecycle of one task: the process endpoint (optionally with a ``callback`` webhook in the query)
creates the task and opens the step ``minimize``. Submitting it with the URL of an
objective-function task in its ``evaluate`` step starts a Celery task that reads the task's
``of-weights``/``of-evaluate``/``of-evaluate-gradient`` links, minimizes over HTTP and stores
``weights.json`` (``entity/vector``) as the result.
"""

from __future__ import annotations

from qhana_plugin_runner.api.util import SecurityBlueprint
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

__all__ = ["ScipyMinimizer", "MINIMIZER_BLP"]

_NAME = "scipy-minimizer"
__version__ = "v0.1.0"
_IDENTIFIER = plugin_identifier(_NAME, __version__)

MINIMIZER_BLP = SecurityBlueprint(_IDENTIFIER, __name__, description="scipy minimizer API.")


class ScipyMinimizer(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Minimizes an objective-function plugin with scipy.optimize.minimize."
    tags = ["minimizer", "gradient"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return MINIMIZER_BLP

    def get_requirements(self) -> str:
        return ""


from . import routes  # noqa: E402,F401  (the routes need the class above)
