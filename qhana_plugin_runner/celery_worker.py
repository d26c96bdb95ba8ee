# SPDX-License-Identifier: Apache-2.0
"""The worker's Celery app: ``python -m qhana_plugin_runner.worker`` (what the image and ``make
run`` start) and ``celery -A qhana_plugin_runner.celery_worker:CELERY worker`` load it.

Importing this module builds the Flask app (config, database, plugins), which registers every
plugin's tasks with ``CELERY``. Import it only to start a worker or beat.
"""

from qhana_plugin_runner import create_app
from qhana_plugin_runner.celery import CELERY

__all__ = ["CELERY", "APP"]

APP = create_app()
