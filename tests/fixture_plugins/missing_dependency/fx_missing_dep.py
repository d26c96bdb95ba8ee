"""Needs a package that is not installed."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase

import fx_not_installed_anywhere  # noqa: F401


class FxMissing(QHAnaPluginBase):
    name = "fx-missing"
    version = "1.0.0"
