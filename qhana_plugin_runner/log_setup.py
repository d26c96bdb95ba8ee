# SPDX-License-Identifier: Apache-2.0
"""Logging set-up: ``LOG_CONFIG`` (dictConfig) when given, else one handler on the root logger."""

from __future__ import annotations

import logging
import logging.config

from flask import Flask

__all__ = ["configure_logging"]

_HANDLER_NAME = "qhana_plugin_runner.default"


def configure_logging(app: Flask, silent: bool = False) -> None:
    """Configure logging once per process; a second app only adjusts the level."""
    config = app.config
    if config.get("LOG_CONFIG"):
        logging.config.dictConfig(config["LOG_CONFIG"])
        return
    level = "ERROR" if silent else str(config.get("DEFAULT_LOG_SEVERITY", "WARNING")).upper()
    root = logging.getLogger()
    if not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(
            logging.Formatter(
                config.get("DEFAULT_LOG_FORMAT"),
                config.get("DEFAULT_LOG_DATE_FORMAT"),
                style=config.get("DEFAULT_LOG_FORMAT_STYLE", "{"),
            )
        )
        root.addHandler(handler)
    root.setLevel(level)
    app.logger.setLevel(level)
