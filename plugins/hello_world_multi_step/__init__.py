# SPDX-License-Identifier: Apache-2.0
"""hello-world-multi-step: a two-step demo. Step one preprocesses the text and opens a second
form; submitting that form runs the processing step. The QHAna integration tests drive it."""

from __future__ import annotations

from qhana_plugin_runner.api.util import SecurityBlueprint
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

_NAME = "hello-world-multi-step"
__version__ = "v0.2.1"
_IDENTIFIER = plugin_identifier(_NAME, __version__)

HELLO_MULTI_BLP = SecurityBlueprint(_IDENTIFIER, __name__, description="Multi-step demo plugin API.")


class HelloWorldMultiStep(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Tests the connection of all components by printing some text. Also tests the ability to execute multi-step plugins."
    tags = ["hello-world", "demo", "multistep"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return HELLO_MULTI_BLP

    def get_requirements(self) -> str:
        return ""


from . import routes  # noqa: E402,F401  (the routes need the class above)
