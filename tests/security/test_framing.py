"""``MICROFRONTEND_PARENT_ORIGINS``: unset, any page may frame a micro-frontend (the original
behaviour); set, HTML answers allow only those framing origins and microfrontend.js talks to
them only. Values that are not plain origins stop start-up (they would end up in a header)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web_dom import parse

from qhana_plugin_runner.errors import ConfigError
from qhana_plugin_runner.testing import build_app, make_test_config

UI = "/plugins/fx-security@1-0-0/ui/"
ORIGINS = ["https://ui.example", "http://localhost:8080"]


def _script(response: Any) -> Any:
    (script,) = [n for n in parse(response.get_data(as_text=True)).iter() if n.tag == "script"]
    return script


def test_unset_any_page_may_frame(client: Any) -> None:
    response = client.get(UI)
    assert "Content-Security-Policy" not in response.headers
    assert "data-parent-origins" not in _script(response).attrs


@pytest.mark.parametrize("setting", [ORIGINS, " https://ui.example/, http://localhost:8080 "])
def test_set_only_those_origins_may_frame_and_talk(runner_config: dict[str, Any], setting: Any) -> None:
    app = build_app({**runner_config, "MICROFRONTEND_PARENT_ORIGINS": setting})
    with app.app_context():
        client = app.test_client()
        response = client.get(UI)
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://ui.example http://localhost:8080"
        assert _script(response).attrs["data-parent-origins"] == "https://ui.example http://localhost:8080"
        assert "Content-Security-Policy" not in client.get("/plugins/").headers  # JSON is not framed


@pytest.mark.parametrize("setting", ["*", [], None])
def test_star_or_empty_means_any_page(runner_config: dict[str, Any], setting: Any) -> None:
    app = build_app({**runner_config, "MICROFRONTEND_PARENT_ORIGINS": setting})
    with app.app_context():
        assert "Content-Security-Policy" not in app.test_client().get(UI).headers


@pytest.mark.parametrize(
    "setting",
    [
        "https://ui.example; script-src *",
        ["https://ui.example\r\nX-Injected: 1"],
        ["javascript:alert(1)"],
        ["https://ui.example/path"],
        ["'unsafe-inline'"],
    ],
)
def test_values_that_are_not_origins_stop_start_up(tmp_path: Path, setting: Any) -> None:
    with pytest.raises(ConfigError, match="MICROFRONTEND_PARENT_ORIGINS"):
        build_app(make_test_config(tmp_path / "instance", MICROFRONTEND_PARENT_ORIGINS=setting))
