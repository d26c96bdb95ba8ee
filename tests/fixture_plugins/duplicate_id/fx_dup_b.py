"""One of two plugins that share name and version."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxDup(QHAnaPluginBase):
    name = "fx-dup"
    version = "1.0.0"
    description = "copy b"
