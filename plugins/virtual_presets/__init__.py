# SPDX-License-Identifier: Apache-2.0
"""presets: save hello-world input as a named preset, served as a virtual plugin.

Each preset becomes a plugin of its own, listed in ``/plugins/`` next to the real ones, whose
href lies under this plugin's blueprint (``presets/<preset-id>/``). Running it runs hello-world
with the saved text. Deleting it makes the href answer 404 first and then tells the registry.
Written against the public plugin API only, like any external plugin.
"""

from __future__ import annotations

from qhana_plugin_runner.api.util import SecurityBlueprint
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

_NAME = "presets"
__version__ = "v0.1.0"
_IDENTIFIER = plugin_identifier(_NAME, __version__)

PRESETS_BLP = SecurityBlueprint(_IDENTIFIER, __name__, description="Presets of hello-world input, served as virtual plugins.")


class Presets(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Saves hello-world input as a named preset that becomes a plugin of its own."
    tags = ["preset", "virtual-plugin", "demo"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return PRESETS_BLP

    def get_requirements(self) -> str:
        return ""


from . import routes, virtual  # noqa: E402,F401  (the routes need the class above)
