from http import HTTPStatus

from flask.views import MethodView

from qhana_plugin_runner.api.plugin_schemas import (
    EntryPoint,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)

from . import LEGACY_BLP, FxLegacy


@LEGACY_BLP.route("/")
class PluginsView(MethodView):
    @LEGACY_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @LEGACY_BLP.require_jwt("jwt", optional=True)
    def get(self):
        return PluginMetadata(
            title=FxLegacy.instance.name,
            description=FxLegacy.instance.description,
            name=FxLegacy.instance.name,
            version=FxLegacy.instance.version,
            type=PluginType.processing,
            entry_point=EntryPoint(href="./process/", ui_href="./ui/", data_input=[], data_output=[]),
            tags=FxLegacy.instance.tags,
        )
