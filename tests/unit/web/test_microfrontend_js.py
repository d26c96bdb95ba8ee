# SPDX-License-Identifier: Apache-2.0
"""static/microfrontend.js: syntax check and protocol scenarios run by node in a fake DOM
(microfrontend_harness.js next to this file). Skipped where node is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import qhana_plugin_runner

SCRIPT = Path(qhana_plugin_runner.__file__).parent / "web" / "static" / "microfrontend.js"
HARNESS = Path(__file__).with_name("microfrontend_harness.js")
NODE = shutil.which("node") or shutil.which("nodejs")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH")

SCENARIOS = [
    "startup-order",
    "not-framed",
    "height-monitoring",
    "target-height",
    "submit-success",
    "submit-microfrontend-target",
    "submit-get",
    "submit-error-json",
    "submit-error-html",
    "submit-network-error",
    "prevent-submit",
    "form-submit-hook",
    "choose-file",
    "choose-related",
    "choose-plugin-empty-tags",
    "choose-plugin-tags",
    "data-url-response-escaped-key",
    "plugin-url-response",
    "autofill",
    "load-css",
    "plugin-context-and-hook",
    "origins-known-parent",
    "origins-unknown-parent",
    "origins-parent-not-allowed",
    "foreign-source-default",
    "submit-shadowed-form-properties",
]


def _node(*args: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run([NODE, *args], capture_output=True, text=True, timeout=60, check=False)


def test_script_parses() -> None:
    result = _node("--check", str(SCRIPT))
    assert result.returncode == 0, result.stderr


def test_script_avoids_the_upstream_bugs() -> None:
    """Static guards next to the behavioural scenarios: one height field, escaped selectors,
    no stray global for acceptedContentType."""
    source = SCRIPT.read_text(encoding="utf-8")
    assert not re.search(r"state\.height\b", source)
    assert "CSS.escape" in source
    assert not re.search(r"(?<![.\w])acceptedContentType\s*=", source)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_protocol_scenario(scenario: str) -> None:
    result = _node(str(HARNESS), str(SCRIPT), scenario)
    assert result.returncode == 0, result.stderr or result.stdout
    assert result.stdout.strip() == f"ok {scenario}"


def test_harness_knows_every_scenario() -> None:
    result = _node(str(HARNESS), str(SCRIPT), "no-such-scenario")
    assert result.returncode == 2
    known = result.stderr.split("known: ", 1)[1].strip().split(", ")
    assert sorted(known) == sorted(SCENARIOS)
