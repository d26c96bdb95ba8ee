# SPDX-License-Identifier: Apache-2.0
"""Worker entry point: ``celery -A qhana_plugin_runner.celery_worker:CELERY worker``.

Importing this module builds the Flask app (config, database, plugins), which registers every
plugin's tasks with ``CELERY``. Import it only to start a worker or beat.
"""

from qhana_plugin_runner import create_app
from qhana_plugin_runner.celery import CELERY

__all__ = ["CELERY", "APP"]

APP = create_app()
