"""The runner served over real HTTP on 127.0.0.1 (the minimizer calls the objective's links)."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer

from helpers import ROOT


@pytest.fixture
def runner_config(runner_config: dict[str, Any], runner_server: BaseWSGIServer) -> dict[str, Any]:
    return {
        **runner_config,
        "PLUGIN_FOLDERS": [str(ROOT / "plugins")],
        "SERVER_NAME": f"127.0.0.1:{runner_server.server_port}",
        "WEBHOOK_RETRY_BACKOFF": 0.05,
    }


