"""A page speaking the QHAna UI's side of the protocol embeds a plugin's micro-frontend:
ui-loaded, ui-resize, data-url and autofill responses, submit, a finished task with outputs;
messages from a foreign origin are ignored."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from helpers import poll

pytestmark = pytest.mark.slow

CSV_UI = "/plugins/csv-statistics@v0-1-0/ui/"
SAMPLE = "/static/debug/samples/measurements.csv"


def _open_parent(page: Any, page_servers: dict[str, str], frame_url: str, foreign: bool = False) -> Any:
    query = {"frame": frame_url}
    if foreign:
        query["foreign"] = page_servers["foreign"] + "/foreign.html"
    page.goto(page_servers["ui"] + "/parent.html?" + urlencode(query))
    page.wait_for_function("() => window.received.includes('ui-loaded')")
    return page.frame_locator("#plugin")


def _received(page: Any, kind: str) -> list[Any]:
    return page.evaluate("(kind) => window.received.filter((m) => m === kind || (m && m.type === kind))", kind)


def test_embed_fill_submit_and_finish(page: Any, page_servers: dict[str, str], runner: str, screenshot: Any) -> None:
    frame = _open_parent(page, page_servers, runner + CSV_UI)

    # the frame said it is loaded and how tall it is; the parent sized the iframe with it
    page.wait_for_function("() => window.received.some((m) => m && m.type === 'ui-resize')")
    first_height = _received(page, "ui-resize")[-1]["height"]
    assert first_height > 100
    assert page.locator("#plugin").evaluate("(el) => el.getBoundingClientRect().height") == pytest.approx(first_height, abs=2)

    # the "choose file" button asks the parent for a data URL of the declared type
    frame.locator("button.qhana-choose-file-button").click()
    page.wait_for_function("() => window.received.some((m) => m && m.type === 'request-data-url')")
    request = _received(page, "request-data-url")[-1]
    assert request == {"type": "request-data-url", "inputKey": "data_url", "acceptedInputType": "entity/list", "acceptedContentTypes": ["text/csv"]}

    # the parent answers: the input is filled and the hint names the file
    page.evaluate(
        "(href) => window.sendToFrame({type: 'data-url-response', inputKey: 'data_url', href: href,"
        " dataType: 'entity/list', contentType: 'text/csv', filename: 'measurements.csv', version: 3})",
        runner + SAMPLE,
    )
    from playwright.sync_api import expect

    expect(frame.locator("#data_url")).to_have_value(runner + SAMPLE)
    expect(frame.locator(".selected-file-name")).to_have_text("measurements.csv (v3) entity/list – text/csv")

    # autofill fills by input name, radios and text alike
    page.evaluate(
        "(value) => window.sendToFrame({type: 'autofill-response', value: value, encoding: 'application/json'})",
        json.dumps({"columns": "temperature,pressure", "delimiter": "comma", "maxRows": "1000"}),
    )
    expect(frame.locator("#columns")).to_have_value("temperature,pressure")
    expect(frame.locator("#max_rows")).to_have_value("1000")
    expect(frame.locator("input[name=delimiter][value=comma]")).to_be_checked()
    screenshot(page, "ui-protocol-filled")

    # opening the help changes the height: a new ui-resize reaches the parent
    count = len(_received(page, "ui-resize"))
    frame.locator("details.qhana-help summary").click()
    page.wait_for_function("(n) => window.received.filter((m) => m && m.type === 'ui-resize').length > n", arg=count)
    assert _received(page, "ui-resize")[-1]["height"] > first_height

    frame.locator("button[data-target=api]", has_text="submit").click()
    page.wait_for_function("() => window.received.some((m) => m && m.type === 'form-submit')", timeout=30_000)
    submit = _received(page, "form-submit")[-1]
    assert submit["formDataType"] == "application/x-www-form-urlencoded"
    assert submit["dataInputs"] == [runner + SAMPLE]
    assert submit["submitUrl"] == runner + "/plugins/csv-statistics@v0-1-0/process/"
    assert "columns=temperature%2Cpressure" in submit["formData"]
    assert "ui-loading" in page.evaluate("() => window.received")

    task = poll(lambda: requests.get(submit["resultUrl"], timeout=5).json(), lambda body: body["status"] != "PENDING", timeout=60)
    assert task["status"] == "SUCCESS", task.get("log")
    by_name = {output["name"]: output for output in task["outputs"]}
    assert set(by_name) == {"statistics.json", "statistics.csv", "means.svg", "report.html"}
    stats = requests.get(by_name["statistics.json"]["href"], timeout=5).json()
    assert stats["rows"] == 40
    assert [column["column"] for column in stats["columns"]] == ["temperature", "pressure"]


def test_validate_button_shows_field_errors(page: Any, page_servers: dict[str, str], runner: str, screenshot: Any) -> None:
    frame = _open_parent(page, page_servers, runner + CSV_UI)
    # a URL the browser accepts but the plugin's schema refuses
    frame.locator("#data_url").fill("javascript:alert(1)")
    frame.locator("button[data-target=microfrontend]", has_text="validate").click()
    page.wait_for_function("() => window.received.filter((m) => m === 'ui-loaded').length >= 2")
    from playwright.sync_api import expect

    error = frame.locator("#data_url-errors")
    expect(error).to_contain_text("not allowed")
    expect(frame.locator("#data_url")).to_have_attribute("aria-invalid", "true")
    expect(frame.locator(".qhana-validation-success")).to_have_count(0)
    screenshot(page.locator("#plugin"), "validate-errors")

    frame.locator("#data_url").fill(runner + SAMPLE)
    frame.locator("button[data-target=microfrontend]", has_text="validate").click()
    page.wait_for_function("() => window.received.filter((m) => m === 'ui-loaded').length >= 3")
    expect(frame.locator(".qhana-validation-success")).to_be_visible()
    expect(frame.locator(".qhana-error-message")).to_have_count(0)


def test_message_from_a_foreign_origin_is_ignored(page: Any, page_servers: dict[str, str], runner: str) -> None:
    frame = _open_parent(page, page_servers, runner + CSV_UI, foreign=True)
    foreign = page.frame(url=lambda url: url.startswith(page_servers["foreign"]))
    assert foreign is not None
    foreign.wait_for_function("() => typeof window.sendToPlugin === 'function'")
    foreign.evaluate("() => window.sendToPlugin({type: 'data-url-response', inputKey: 'data_url', href: 'http://evil.example/data.csv'})")
    foreign.evaluate("() => window.sendToPlugin('ui-prevent-submit')")
    page.wait_for_timeout(300)  # let the foreign messages be delivered (and ignored) first
    # a message of the real parent, sent after the foreign ones, is handled: so those had arrived
    page.evaluate("() => window.sendToFrame('ui-submit-status')")
    page.wait_for_function("() => window.received.some((m) => m && m.type === 'ui-submit-status')")
    assert _received(page, "ui-submit-status") == [{"type": "ui-submit-status", "isAllowedToSubmit": True}]
    assert frame.locator("#data_url").input_value() == ""


def test_runner_sends_frame_ancestors_for_the_configured_ui(runner: str, page_servers: dict[str, str]) -> None:
    response = requests.get(runner + CSV_UI, timeout=5)
    assert response.headers["Content-Security-Policy"] == f"frame-ancestors 'self' {page_servers['ui']}"
    assert f'data-parent-origins="{page_servers["ui"]}"' in response.text
