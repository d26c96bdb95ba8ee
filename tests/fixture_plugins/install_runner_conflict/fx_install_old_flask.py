"""Fixture plugin for `flask install`: wants a flask the runner cannot use."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxInstallOldFlask(QHAnaPluginBase):
    name = "fx-install-old-flask"
    version = "0.1.0"

    def get_requirements(self) -> str:
        return "flask<3\n"
