"""Raises while being imported (after defining a plugin class)."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxBroken(QHAnaPluginBase):
    name = "fx-broken"
    version = "1.0.0"


raise RuntimeError("fixture: broken at import time")
