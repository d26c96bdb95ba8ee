"""A package written the way plugins for the original runner are written."""

from typing import Optional

from flask import Flask

from qhana_plugin_runner.api.util import SecurityBlueprint
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

_plugin_name = "fx-legacy"
__version__ = "v0.1.0"
_identifier = plugin_identifier(_plugin_name, __version__)

LEGACY_BLP = SecurityBlueprint(_identifier, __name__, description="legacy fixture")


class FxLegacy(QHAnaPluginBase):
    name = _plugin_name
    version = __version__
    description = "legacy style"
    tags = []
    init_app_calls = []

    def __init__(self, app: Flask | None) -> None:
        super().__init__(app)

    def init_app(self, app):
        type(self).init_app_calls.append(app)

    def get_api_blueprint(self):
        return LEGACY_BLP

    def get_requirements(self) -> str:
        return "six"


try:
    from . import routes  # noqa: F401
except ImportError:
    pass
