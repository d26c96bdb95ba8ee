"""The OpenAPI document is built when first read, not while the app is built."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint

from qhana_plugin_runner.api.lazy_doc import Api

from helpers import ROOT


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}


def _api(app: Flask) -> Api:
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]


def test_building_the_app_documents_nothing_yet(app: Flask) -> None:
    api = _api(app)
    assert isinstance(api, Api)
    pending = api.undocumented_blueprints
    assert pending[:5] == ["api-root", "health", "plugins-api", "tasks-api", "files-api"]
    assert "hello-world@v0-2-1" in pending
    # the routes answer although their documentation is not built
    assert app.test_client().get("/plugins/hello-world@v0-2-1/").status_code == 200
    assert api.undocumented_blueprints == pending


def test_the_first_read_documents_every_blueprint_in_order(app: Flask) -> None:
    api = _api(app)
    pending = api.undocumented_blueprints
    document = app.test_client().get("/api-spec.json").get_json()
    assert api.undocumented_blueprints == []
    assert [tag["name"] for tag in document["tags"]] == pending
    assert "/plugins/hello-world@v0-2-1/process/" in document["paths"]
    assert "/tasks/{task_id}/" in document["paths"]
    # read again: the same document, nothing added twice
    assert app.test_client().get("/api-spec.json").get_json() == document


def test_concurrent_first_reads_get_the_whole_document(app: Flask) -> None:
    api = _api(app)
    expected_tags = api.undocumented_blueprints
    start = threading.Barrier(4)
    documents: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def read() -> None:
        start.wait()
        try:
            with app.app_context():
                documents.append(api.spec.to_dict())
        except BaseException as err:  # noqa: BLE001  (reported below)
            errors.append(err)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(documents) == 4
    for document in documents:
        assert [tag["name"] for tag in document["tags"]] == expected_tags
        assert len(document["paths"]) == len(documents[0]["paths"]) > 10


def test_a_blueprint_whose_documentation_fails_keeps_its_routes(caplog: pytest.LogCaptureFixture) -> None:
    app = Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.2")
    api = Api(app)
    good = Blueprint("good", __name__)
    bad = Blueprint("bad", __name__)

    def refuse(*_: Any, **__: Any) -> None:
        raise RuntimeError("cannot document this schema")

    @good.route("/good")
    class Good(MethodView):
        def get(self) -> dict[str, str]:
            return {"ok": "good"}

    @bad.route("/bad")
    class Bad(MethodView):
        def get(self) -> dict[str, str]:
            return {"value": "bad"}

    bad.register_views_in_doc = refuse  # type: ignore[method-assign]
    api.register_blueprint(bad)
    api.register_blueprint(good)
    assert app.test_client().get("/bad").get_json() == {"value": "bad"}
    with caplog.at_level(logging.ERROR, logger="qhana_plugin_runner.api.lazy_doc"):
        document = api.spec.to_dict()
    assert list(document["paths"]) == ["/good"]
    assert [tag["name"] for tag in document["tags"]] == ["good"]
    assert any("'bad'" in record.getMessage() for record in caplog.records)
    assert api.undocumented_blueprints == []
