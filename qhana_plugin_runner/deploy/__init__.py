# SPDX-License-Identifier: Apache-2.0
"""What a container (or any production host) runs at start: waiting for services, plugins from
git, the WSGI server configuration and the entry point (``python -m qhana_plugin_runner.deploy``).
"""
