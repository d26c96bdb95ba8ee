"""Needs a package that is not installed."""

import fx_not_installed_anywhere  # noqa: F401

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxMissing(QHAnaPluginBase):
    name = "fx-missing"
    version = "1.0.0"
