"""A plugin class without a name."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxNoName(QHAnaPluginBase):
    version = "1.0.0"
