# SPDX-License-Identifier: Apache-2.0
"""Public path of the plugin base class (its real home is ``plugin_host.base``)."""

from ..plugin_host.base import QHAnaPluginBase, plugin_identifier

__all__ = ["QHAnaPluginBase", "plugin_identifier"]
