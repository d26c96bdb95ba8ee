"""Fixture plugin for `flask install`: asks for another range of a runner dependency."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxInstallWarn(QHAnaPluginBase):
    name = "fx-install-warn"
    version = "0.1.0"

    def get_requirements(self) -> str:
        return "requests>=2.0\n"
