"""Plugin-provided strings (name, description, tags, labels, enum values, help text, Markdown)
and user input echoed into micro-frontends are rendered as text: no script, no event handler,
no ``javascript:`` link, no attribute break-out."""

from __future__ import annotations

from typing import Any

import pytest
from web_dom import Node, parse

from qhana_plugin_runner.web.markdown import render_markdown

UI = "/plugins/fx-security@1-0-0/ui/"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
BREAKOUT = '" onmouseover="alert(3)" x="'
SINGLE_BREAKOUT = "' onfocus='alert(5)' autofocus x='"
CLOSE_TAG = '"></textarea></select><script>alert(6)</script>'

MARKDOWN_PAYLOADS = [
    SCRIPT,
    IMG,
    BREAKOUT,
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '![" onerror="alert(1)](x)',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    '[x](https://ok "t&quot; onmouseover=&quot;alert(1)")',
    'https://example.org/"><script>alert(1)</script>',
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example>",
    "<svg onload=alert(1)>",
    "| a |\n|---|\n| <b onclick=alert(1)>x</b> |",
    "[^1]\n\n[^1]: <script>alert(1)</script>",
]

UNSAFE_URL_SCHEMES = ("javascript:", "vbscript:", "data:")


def assert_inert(doc: Node, allowed_scripts: tuple[str, ...] = ()) -> None:
    """No element or attribute in ``doc`` that a browser would run."""
    scripts = [node.attrs.get("src") for node in doc.iter() if node.tag == "script"]
    assert tuple(scripts) == allowed_scripts
    for node in doc.iter():
        assert node.tag not in {"iframe", "frame", "svg", "math", "object", "embed", "base"}
        for name, value in node.attrs.items():
            assert not name.startswith("on"), f"<{node.tag} {name}=...>"
            assert name not in {"x", "autofocus"}, f"attribute break-out in <{node.tag}>"
            if name in {"href", "src", "action", "formaction"} and value:
                assert not value.strip().lower().startswith(UNSAFE_URL_SCHEMES), f"<{node.tag} {name}={value!r}>"


def _page(response: Any) -> Node:
    assert response.status_code == 200
    doc = parse(response.get_data(as_text=True))
    assert_inert(doc, ("/static/microfrontend.js",))
    return doc


def test_plugin_strings_in_the_micro_frontend_are_text(client: Any) -> None:
    doc = _page(client.get(UI, query_string={"rawChoice": "not an option"}))
    assert doc.find("label", for_="text").text.startswith(SCRIPT + BREAKOUT)
    assert doc.find("label", for_="choice").text == IMG
    assert [o.text for o in doc.find("select", id="choice").find_all("option")] == ["plain", SCRIPT, BREAKOUT]
    raw = doc.find("select", id="raw_choice").find_all("option")
    assert [(o.attrs["value"], o.text) for o in raw] == [(BREAKOUT, SCRIPT), ("ok", IMG)]
    assert BREAKOUT in doc.find("p", id="raw_choice-errors").text  # OneOf lists the choices
    assert SCRIPT in doc.find("div", id="text-description").text
    assert SCRIPT in doc.find("details").text


@pytest.mark.parametrize("payload", [SCRIPT, IMG, BREAKOUT, SINGLE_BREAKOUT, CLOSE_TAG])
def test_user_values_echoed_into_the_form_stay_in_their_attribute(client: Any, payload: str) -> None:
    values = {"text": payload, "apiToken": payload, "password": payload, "choice": payload, "rawChoice": payload}
    for response in (client.get(UI, query_string=values), client.post(UI, data=values)):
        doc = _page(response)
        assert doc.find("input", id="text").attrs["value"] == payload
        assert doc.find("input", id="api_token").attrs["value"] == payload


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_markdown_is_rendered_inert(payload: str) -> None:
    html = str(render_markdown(payload)).replace(" />", ">")  # web_dom wants HTML void tags
    assert_inert(parse(f"<div>{html}</div>"))


def test_markdown_keeps_ordinary_links() -> None:
    doc = parse(f"<div>{render_markdown('[docs](https://example.org/a?b=1) and [rel](/plugins/)')}</div>")
    assert [a.attrs["href"] for a in doc.find_all("a")] == ["https://example.org/a?b=1", "/plugins/"]


def test_plugin_metadata_is_only_ever_served_as_json(client: Any) -> None:
    for url in ("/plugins/", "/plugins/fx-security@1-0-0/"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/json"
        body = response.get_json()
        assert SCRIPT in str(body)  # kept verbatim as data; a client must escape it
