"""Fixture plugin for `flask install`: requirements with a comment, a blank line and a marker."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxInstallOk(QHAnaPluginBase):
    name = "fx-install-ok"
    version = "1.0.0"

    def get_requirements(self) -> str:
        return 'numpy>=1.20  # any recent numpy\n\nrequests\ncolorama; sys_platform == "win32"\n'
