# SPDX-License-Identifier: Apache-2.0
"""Installed distributions' licences: the collecting function and the ``/licenses/`` page."""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

import pytest

from qhana_plugin_runner.util import licenses as licenses_module
from qhana_plugin_runner.util.licenses import (
    DistributionLicense,
    installed_licenses,
    render_licenses,
)


def _meta(**fields: str | list[str]) -> Message:
    meta = Message()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            meta[key.replace("_", "-")] = item
    return meta


def test_flask_is_listed_and_the_runner_is_not() -> None:
    by_name = {e.name.lower(): e for e in installed_licenses()}
    assert by_name["flask"].license == "BSD-3-Clause"
    assert by_name["flask"].version
    assert "qhana-plugin-runner" not in by_name
    assert installed_licenses() is installed_licenses()  # cached


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"License_Expression": "MIT", "License": "BSD"}, "MIT"),
        (
            {"License": "Apache 2.0", "Classifier": ["License :: OSI Approved :: MIT License"]},
            "Apache 2.0",
        ),
        (
            {
                "License": "long text\nof the licence",
                "Classifier": ["License :: OSI Approved :: BSD License"],
            },
            "BSD License",
        ),
        (
            {"Classifier": ["Programming Language :: Python", "License :: Public Domain"]},
            "Public Domain",
        ),
        ({}, "unknown"),
    ],
)
def test_licence_comes_from_expression_field_or_classifiers(
    fields: dict[str, Any], expected: str
) -> None:
    assert licenses_module._license_of(_meta(**fields)) == expected


def test_home_page_prefers_home_page_then_labelled_project_url() -> None:
    assert (
        licenses_module._home_page_of(_meta(Home_page="https://a.example")) == "https://a.example"
    )
    urls = [
        "Changes, https://c.example",
        "Source, https://s.example",
        "Homepage, https://h.example",
    ]
    assert licenses_module._home_page_of(_meta(Project_URL=urls)) == "https://h.example"
    assert licenses_module._home_page_of(_meta(Project_URL=urls[:1])) == "https://c.example"


def test_render_formats() -> None:
    entries = [DistributionLicense("a|b", "1.0", "MIT", "https://x.example")]
    assert json.loads(render_licenses(entries, "json")) == [
        {"name": "a|b", "version": "1.0", "license": "MIT", "homePage": "https://x.example"}
    ]
    assert "| a\\|b | 1.0 | MIT | https://x.example |" in render_licenses(entries, "markdown")
    assert render_licenses(entries, "text").split() == ["a|b", "1.0", "MIT"]
    with pytest.raises(ValueError, match="unknown format"):
        render_licenses(entries, "xml")


def test_page_lists_flask_with_its_licence(client: Any) -> None:
    response = client.get("/licenses/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<td>Flask</td>" in html and "<td>BSD-3-Clause</td>" in html


def test_page_answers_json_when_asked(client: Any) -> None:
    for kwargs in (
        {"headers": {"Accept": "application/json"}},
        {"query_string": {"format": "json"}},
    ):
        response = client.get("/licenses/", **kwargs)
        assert response.status_code == 200 and response.mimetype == "application/json"
        entries = response.get_json()["licenses"]
        assert all(set(e) == {"name", "version", "license", "homePage"} for e in entries)
        assert any(e["name"] == "Flask" and e["license"] == "BSD-3-Clause" for e in entries)


def test_page_escapes_metadata(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    evil = DistributionLicense(
        "<script>alert(1)</script>", "1", "<b>MIT</b>", "javascript:alert(1)"
    )
    monkeypatch.setattr("qhana_plugin_runner.web.licenses.installed_licenses", lambda: (evil,))
    html = client.get("/licenses/").get_data(as_text=True)
    assert (
        "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    assert "&lt;b&gt;MIT&lt;/b&gt;" in html
    assert 'href="javascript:' not in html
