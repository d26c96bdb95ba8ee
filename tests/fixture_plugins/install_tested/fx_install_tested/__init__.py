"""Fixture plugin for `flask install`: a package with a test file (for --only-with-tests)."""

from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxInstallTested(QHAnaPluginBase):
    name = "fx-install-tested"
    version = "0.2.0"

    def get_requirements(self) -> str:
        return "numpy>=1.26\n"
