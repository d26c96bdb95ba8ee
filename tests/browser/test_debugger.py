"""The micro-frontend debugger (/debug/frontend-debugger) walks every bundled plugin in
Chromium: it embeds the plugin's UI, answers its requests (data and plugin pickers), follows
the task (steps, log, outputs with previews) until it has finished."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.slow

X = [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0], [-1.0, 1.0]]
Y = [1.0, 0.0, 2.0, 0.5]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _open(page: Any, runner: str, identifier: str) -> Any:
    page.goto(f"{runner}/debug/frontend-debugger?plugin={identifier}")
    _expect()(page.locator("#frontend-status")).to_have_text("loaded")
    return page.frame_locator("#frontend-frame")


def _submit(frame: Any) -> None:
    frame.locator("button.qhana-form-submit[data-target=api]").first.click()


def _wait_finished(page: Any, status: str = "SUCCESS", timeout: float = 60_000) -> None:
    _expect()(page.locator("#task-status")).to_have_text(re.compile("SUCCESS|FAILURE"), timeout=timeout)
    if page.locator("#task-status").inner_text() != status:
        pytest.fail(f"task ended {page.locator('#task-status').inner_text()}: {page.locator('#task-log').inner_text()}")


def _step(page: Any, step_id: str) -> Any:
    expect = _expect()
    expect(page.locator("#step")).to_be_visible(timeout=30_000)
    expect(page.locator("#step-id")).to_have_text(step_id, timeout=30_000)
    expect(page.locator("#step-status")).to_have_text("loaded")
    return page.frame_locator("#step-frame")


def _pick(page: Any, label: str) -> None:
    dialog = page.locator("#picker")
    _expect()(dialog).to_be_visible()
    dialog.locator("label", has_text=label).click()
    page.locator("#picker-choose").click()
    _expect()(dialog).to_be_hidden()


def test_hello_world_result_preview(page: Any, runner: str, screenshot: Any) -> None:
    frame = _open(page, runner, "hello-world@v0-2-1")
    frame.locator("textarea[name=inputStr]").fill("an input for the debugger")
    screenshot(page, "debugger-hello-world-form")
    _submit(frame)
    _wait_finished(page)
    assert re.fullmatch(r"/debug/tasks/\d+/", page.evaluate("() => window.location.pathname"))
    output = page.locator(".task-output", has=page.locator("strong", has_text="out.txt"))
    _expect()(output.locator(".preview-text")).to_have_text("an output for the debugger")
    screenshot(page, "debugger-hello-world-result", full_page=True)

    # the task page stands alone: a reload shows the same finished task
    page.reload()
    _wait_finished(page)
    _expect()(page.locator(".preview-text")).to_have_text("an output for the debugger")


def test_multi_step_walk(page: Any, runner: str, screenshot: Any) -> None:
    frame = _open(page, runner, "hello-world-multi-step@v0-2-1")
    frame.locator("textarea[name=inputStr]").fill("first input")
    _submit(frame)
    step = _step(page, "demo-step")
    _expect()(step.locator("textarea[name=inputStr]")).to_have_value("Input from preprocessing: first input")
    _expect()(page.locator("#task-progress-box")).to_be_visible()
    screenshot(page, "debugger-multi-step", full_page=True)
    step.locator("textarea[name=inputStr]").fill("second input")
    _submit(step)
    _wait_finished(page)
    _expect()(page.locator("#task-steps li[data-step-id=demo-step]")).to_have_class("step-cleared")
    _expect()(page.locator("#step")).to_be_hidden()
    _expect()(page.locator(".task-output .preview-text", has_text="second input")).to_have_count(1)


def test_csv_statistics_with_data_picker_and_previews(page: Any, runner: str, screenshot: Any) -> None:
    expect = _expect()
    frame = _open(page, runner, "csv-statistics@v0-1-0")
    frame.locator("button.qhana-choose-file-button").click()
    expect(page.locator("#picker")).to_be_visible()
    expect(page.locator("#picker-filter")).to_contain_text("entity/list")
    # only files of the asked data and content type are offered
    offered = page.locator("#picker .picker-label").all_inner_texts()
    assert "measurements.csv" in offered and "points.csv" not in offered and "entities.json" not in offered
    screenshot(page, "debugger-data-picker")
    _pick(page, "measurements.csv")
    expect(frame.locator("#data_url")).to_have_value(re.compile(r"/static/debug/samples/measurements\.csv$"))

    # "show preview" asks the host, which shows the file
    frame.locator(".qhana-show-preview-button").click()
    expect(page.locator("#preview .preview-table")).to_be_visible()
    expect(page.locator("#preview .preview-table thead th").first).to_have_text("id")
    page.locator("#preview button[value=close]").click()

    frame.locator("#columns").fill("temperature,humidity")
    _submit(frame)
    _wait_finished(page)
    outputs = page.locator(".task-output")
    expect(outputs).to_have_count(4)
    kinds = {
        item.get_attribute("data-name"): item.locator(".preview").get_attribute("data-preview-kind")
        for item in outputs.all()
    }
    assert kinds == {"statistics.json": "json", "statistics.csv": "csv", "means.svg": "image", "report.html": "html"}
    expect(page.locator(".task-output[data-name='statistics.csv'] tbody tr")).to_have_count(2)
    html = page.locator(".task-output[data-name='report.html'] iframe")
    assert html.get_attribute("sandbox") == ""  # no scripts, no same-origin access
    expect(page.frame_locator(".task-output[data-name='report.html'] iframe").locator("h1")).to_have_text("Column statistics")
    json_text = page.locator(".task-output[data-name='statistics.json'] .preview-json").inner_text()
    assert json.loads(json_text)["rows"] == 40
    screenshot(page, "debugger-csv-statistics", full_page=True)


def test_validation_errors_reach_the_debugger(page: Any, runner: str) -> None:
    frame = _open(page, runner, "csv-statistics@v0-1-0")
    frame.locator("#data_url").fill(runner + "/static/debug/samples/measurements.csv")
    frame.locator("#max_rows").evaluate("(el) => { el.removeAttribute('min'); el.value = '0'; }")
    _submit(frame)
    _expect()(page.locator("#frontend-error")).to_contain_text("422")
    _expect()(page.locator("#frontend-error")).to_contain_text("maxRows")
    _expect()(page.locator("#task")).to_be_hidden()


def test_optimization_with_plugin_pickers(page: Any, runner: str) -> None:
    expect = _expect()
    frame = _open(page, runner, "optimization@v0-1-0")
    frame.locator("button.qhana-choose-plugin-button[data-input-id=objective_function_url]").click()
    expect(page.locator("#picker")).to_be_visible()
    assert page.locator("#picker .picker-label").all_inner_texts() == ["Ridge Loss"]
    _pick(page, "Ridge Loss")
    expect(frame.locator(".selected-plugin-name[data-input-id=objective_function_url]")).to_have_text("ridge-loss (v0.1.0)")
    frame.locator("button.qhana-choose-plugin-button[data-input-id=minimizer_url]").click()
    _pick(page, "scipy Minimizer")
    expect(frame.locator("#minimizer_url")).to_have_value(f"{runner}/plugins/scipy-minimizer@v0-1-0/")
    frame.locator("#features").fill(json.dumps(X))
    frame.locator("#target").fill(json.dumps(Y))
    _submit(frame)
    _wait_finished(page, timeout=120_000)
    expect(page.locator(".task-output[data-name='weights.json'] .preview-json")).to_contain_text("ID")


def test_ridge_loss_and_minimizer_steps(browser: Any, page: Any, runner: str) -> None:
    expect = _expect()
    frame = _open(page, runner, "ridge-loss@v0-1-0")
    frame.locator("#alpha").fill("0.1")
    _submit(frame)
    step = _step(page, "pass_data")
    step.locator("#features").fill(json.dumps(X))
    step.locator("#target").fill(json.dumps(Y))
    _submit(step)
    _step(page, "evaluate")
    ridge_task = page.locator("#task-link").get_attribute("href")

    minimizer_page = page.context.new_page()
    minimizer = _open(minimizer_page, runner, "scipy-minimizer@v0-1-0")
    _submit(minimizer)
    minimize = _step(minimizer_page, "minimize")
    minimize.locator("#objective_function").fill(ridge_task)
    _submit(minimize)
    _wait_finished(minimizer_page, timeout=120_000)
    expect(minimizer_page.locator(".task-output[data-name='weights.json']")).to_have_count(1)

    # the objective function's last step ends it
    evaluate = page.frame_locator("#step-frame")
    _submit(evaluate)
    _wait_finished(page)
    assert requests.get(ridge_task, timeout=5).json()["status"] == "SUCCESS"


def test_presets_create_a_virtual_plugin_the_debugger_runs(page: Any, runner: str) -> None:
    expect = _expect()
    frame = _open(page, runner, "presets@v0-1-0")
    frame.locator("#preset_name").fill("Browser greeting")
    frame.locator("#input_str").fill("an input from a preset")
    _submit(frame)
    _wait_finished(page)
    links = requests.get(page.locator("#task-link").get_attribute("href"), timeout=5).json()["links"]
    (plugin_link,) = [link["href"] for link in links if link["type"] == "plugin"]
    expect(page.locator("#task-links a", has_text=plugin_link)).to_have_count(1)

    listed = {p["apiRoot"]: p for p in requests.get(runner + "/plugins/", timeout=5).json()["plugins"]}
    virtual = listed[plugin_link]
    frame = _open(page, runner, virtual["identifier"])
    expect(frame.locator("textarea[name=inputStr]")).to_have_value("an input from a preset")
    _submit(frame)
    _wait_finished(page)
    expect(page.locator(".task-output .preview-text").first).to_contain_text("an output from a preset")


def test_every_listed_plugin_loads_in_the_debugger(page: Any, runner: str) -> None:
    """Every plugin of /plugins/ is offered, and its micro-frontend speaks the protocol."""
    plugins = requests.get(runner + "/plugins/", timeout=5).json()["plugins"]
    assert {"csv-statistics", "hello-world", "hello-world-multi-step", "optimization", "presets", "ridge-loss", "scipy-minimizer"} <= {
        p["name"] for p in plugins
    }
    page.goto(runner + "/debug/frontend-debugger")
    _expect()(page.locator("#plugin-select option")).to_have_count(len(plugins) + 1)
    for plugin in plugins:
        page.locator("#plugin-select").select_option(plugin["identifier"])
        _expect()(page.locator("#frontend-status")).to_have_text("loaded")
        received = page.evaluate("() => window.qhanaDebugger.messages.filter((m) => m.direction === 'in').map((m) => m.message)")
        assert "ui-loaded" in received, plugin["name"]
        page.evaluate("() => { window.qhanaDebugger.messages.length = 0; }")
        assert page.frame_locator("#frontend-frame").locator("form.qhana-form").count() >= 1, plugin["name"]
