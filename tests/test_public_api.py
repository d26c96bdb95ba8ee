"""Pins the public plugin API: every import path and name plugins of the original runner use.

Changing or removing one of these breaks existing plugins; extend the table, never shrink it.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC = {
    "qhana_plugin_runner": ["create_app", "__version__"],
    "qhana_plugin_runner.util.plugins": ["QHAnaPluginBase", "plugin_identifier"],
    "qhana_plugin_runner.api": ["EnumField", "MaBaseSchema", "ROOT_API"],
    "qhana_plugin_runner.api.util": [
        "SecurityBlueprint", "FrontendFormBaseSchema", "MaBaseSchema", "FileUrl", "PluginUrl",
        "FileUrlValidator", "DataUrlValidator", "camelcase",
    ],
    "qhana_plugin_runner.api.extra_fields": ["EnumField", "CSVList", "OneOfEnum"],
    "qhana_plugin_runner.api.plugin_schemas": [
        "PluginMetadata", "PluginMetadataSchema", "EntryPoint", "PluginType", "DataMetadata",
        "InputDataMetadata", "OutputDataMetadata", "PluginDependencyMetadata", "ApiLink",
        "WebhookParams", "WebhookParamsSchema", "MaBaseSchema", "ProgressMetadata", "StepMetadata",
    ],
    "qhana_plugin_runner.db": ["DB"],
    "qhana_plugin_runner.db.db": ["DB", "MIGRATE", "REGISTRY", "DB_SIGNALS"],
    "qhana_plugin_runner.db.models.tasks": ["ProcessingTask", "Step", "TaskFile", "TaskLink", "TaskUpdateSubscription", "TaskStatus"],
    "qhana_plugin_runner.db.models.virtual_plugins": [
        "VirtualPlugin", "PluginState", "DataBlob", "VIRTUAL_PLUGIN_CREATED", "VIRTUAL_PLUGIN_REMOVED",
    ],
    "qhana_plugin_runner.storage": ["STORE", "FileStore", "FileStoreInterface"],
    "qhana_plugin_runner.celery": ["CELERY"],
    "qhana_plugin_runner.tasks": [
        "save_task_result", "save_task_error", "add_step",
        "TASK_STATUS_CHANGED", "TASK_STEPS_CHANGED", "TASK_DETAILS_CHANGED", "TASK_LOGGER", "TASK_SIGNALS",
    ],
    "qhana_plugin_runner.requests": [
        "open_url", "retrieve_filename", "get_mimetype", "retrieve_data_type",
        "retrieve_attribute_metadata_url", "open_url_as_file_like", "open_url_as_file_like_simple", "REQUEST_SESSION",
    ],
    "qhana_plugin_runner.plugin_utils.entity_marshalling": [
        "load_entities", "save_entities", "ensure_dict", "ensure_array", "ArrayEntity", "array_to_entity",
        "EntityTupleMixin", "ensure_tuple", "get_entity_tuple_class",
    ],
    "qhana_plugin_runner.plugin_utils.attributes": [
        "AttributeMetadata", "tuple_deserializer", "tuple_serializer", "dict_deserializer", "dict_serializer",
        "parse_attribute_metadata", "parse_bool",
    ],
    "qhana_plugin_runner.plugin_utils.zip_utils": ["get_files_from_zip_url"],
    "qhana_plugin_runner.plugin_utils.execution_utils": ["parse_execution_options"],
    "qhana_plugin_runner.util.logging": ["redact_log_data", "get_logger"],
    "qhana_plugin_runner.registry_client": ["PLUGIN_REGISTRY_CLIENT", "PluginRegistryClient"],
    "qhana_plugin_runner.registry_client.client": ["PluginRegistryClient"],
    "qhana_plugin_runner.registry_client.types": ["ApiLink", "KeyedApiLink", "ApiObject", "ApiResponse", "match_api_link"],
    "qhana_plugin_runner.plugin_utils.interop": [
        "get_plugin_endpoint", "call_plugin_endpoint", "get_task_result_no_wait", "subscribe",
        "monitor_result", "monitor_external_substep", "call_webhook", "ResultUnchangedError",
    ],
}

TASK_WIRE_NAMES = {
    "add_step": "qhana-plugin-runner.add-step",
    "save_task_result": "qhana-plugin-runner.save-result",
    "save_task_error": "qhana-plugin-runner.save-error",
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_names_are_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in PUBLIC[module_name] if not hasattr(module, name)]
    assert not missing, f"{module_name} lacks {missing}"


@pytest.mark.parametrize("module_name", sorted(m for m in PUBLIC if m != "qhana_plugin_runner"))
def test_public_modules_declare_all(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} has no __all__"
    assert set(PUBLIC[module_name]) <= set(exported) | {"ROOT_API"}


def test_runner_task_wire_names_never_change() -> None:
    import qhana_plugin_runner.tasks as tasks

    assert {name: getattr(tasks, name).name for name in TASK_WIRE_NAMES} == TASK_WIRE_NAMES


def test_interop_task_wire_names_never_change() -> None:
    from qhana_plugin_runner.plugin_utils import interop

    prefix = "qhana_plugin_runner.plugin_utils.interop."
    assert {t.name for t in (interop.monitor_result, interop.monitor_external_substep, interop.call_webhook)} == {
        prefix + "monitor_result", prefix + "monitor_external_substep", prefix + "call_webhook",
    }


def test_models_keep_positional_constructor_order() -> None:
    from qhana_plugin_runner.db.models import tasks, virtual_plugins

    def params(cls: type) -> list[str]:
        return list(inspect.signature(cls.__init__).parameters)[1:]

    assert params(tasks.ProcessingTask)[:17] == [
        "task_name", "started_at", "finished_at", "parameters", "data", "multi_step", "steps",
        "current_step", "progress_value", "progress_start", "progress_target", "progress_unit",
        "task_status", "task_log", "outputs", "links", "subscriptions",
    ]
    assert params(tasks.TaskLink) == ["task", "type", "href"]
    assert params(tasks.TaskUpdateSubscription) == ["task", "webhook_href", "task_href", "event_type"]
    assert params(tasks.TaskFile) == [
        "task", "security_tag", "storage_provider", "file_name", "file_storage_data", "file_type", "mimetype", "created_at",
    ]
    assert params(virtual_plugins.VirtualPlugin) == ["parent_id", "name", "version", "description", "tags", "href"]


def test_plugin_base_hooks_are_documented() -> None:
    from qhana_plugin_runner.util.plugins import QHAnaPluginBase

    for hook in ("init_app", "get_api_blueprint", "get_requirements"):
        assert getattr(QHAnaPluginBase, hook).__doc__, hook
    assert QHAnaPluginBase.get_plugins.__doc__


def test_plugin_identifier_replaces_dots() -> None:
    from qhana_plugin_runner.util.plugins import plugin_identifier

    assert plugin_identifier("hello.world", "v0.2.1") == "hello-world@v0-2-1"


def test_security_blueprint_offers_plugin_decorators() -> None:
    from qhana_plugin_runner.api.util import SecurityBlueprint

    for method in ("route", "arguments", "response", "alt_response", "require_jwt", "html_response", "doc"):
        assert callable(getattr(SecurityBlueprint, method, None)), method
