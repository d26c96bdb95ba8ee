"""Fixture plugin for `flask install`: wants an old numpy (conflicts with fx-install-tested)."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxInstallOld(QHAnaPluginBase):
    name = "fx-install-old"
    version = "1.0"

    def get_requirements(self) -> str:
        return "numpy<1.20\n"
