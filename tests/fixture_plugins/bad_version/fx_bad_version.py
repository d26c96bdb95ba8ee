"""A plugin whose version is not PEP 440 (the registry would choke on it)."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxBadVersion(QHAnaPluginBase):
    name = "fx-bad-version"
    version = "latest"
