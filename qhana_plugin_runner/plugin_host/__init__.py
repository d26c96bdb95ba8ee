# SPDX-License-Identifier: Apache-2.0
"""Internal: everything that finds, loads, validates and mounts plugins.

Lifecycle: discover (``discovery``) → import and validate (``loader``) → register
(``registry``) → mount (``mount``). See README.md in this folder.
"""

from .loader import LoadFailure, LoadReport, load_plugins
from .mount import mount_plugins
from .registry import PluginRegistry

__all__ = ["LoadFailure", "LoadReport", "PluginRegistry", "load_plugins", "mount_plugins"]
