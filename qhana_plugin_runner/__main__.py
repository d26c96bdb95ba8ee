# SPDX-License-Identifier: Apache-2.0
"""``python -m qhana_plugin_runner``: the embedded runner (API and worker together)."""

import sys

from .cli.embedded import main

sys.exit(main())
