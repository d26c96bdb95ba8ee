"""A plugin that only contributes a file store (kept in memory)."""

from qhana_plugin_runner.storage import FileStore
from qhana_plugin_runner.util.plugins import QHAnaPluginBase


class FxStorePlugin(QHAnaPluginBase):
    name = "fx-store"
    version = "0.1.0"


class MemoryStore(FileStore, name="fixture-memory"):
    def init_app(self, app):
        super().init_app(app)
        self.files = {}

    def persist_file(self, file_, target, mimetype="application/octet-stream"):
        data = file_ if isinstance(file_, (str, bytes)) else file_.read()
        self.files[str(target)] = data.encode() if isinstance(data, str) else data

    def get_file_url(self, file_storage_data, external=True):
        return f"memory://{file_storage_data}"
