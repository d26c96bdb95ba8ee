"""Fixture plugin for `flask install`: an unparsable requirement line."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxInstallBad(QHAnaPluginBase):
    name = "fx-install-bad"
    version = "0.1.0"

    def get_requirements(self) -> str:
        return "requests\nnumpy >= = 1\n"
