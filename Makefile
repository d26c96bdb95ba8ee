# The two commands everyone uses: `make run` and `make test`.
# Both set up .venv from uv.lock first; nothing but python3 (>= 3.10) and pip is needed.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: help run test setup browser screenshots lock lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# Bytecode is compiled once here: machines that set PYTHONDONTWRITEBYTECODE would otherwise
# compile every module from source in every process (seconds per start on a 2-core machine).
$(VENV)/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	$(VENV)/bin/python -m compileall -q qhana_plugin_runner plugins
	@touch $@

setup: $(VENV)/.synced ## create .venv from the lock file

run: setup ## start API and worker on port 5005 (SQLite, no broker server needed)
	$(VENV)/bin/qhana-plugin-runner --port $${PORT:-5005}

# tests/browser drive Debian's Chromium through Playwright (no browser download). Installed here
# when missing and apt-get can run (root, or sudo without a password); elsewhere the browser
# tests skip, except under CI=true where a missing browser fails them.
CHROMIUM ?= /usr/bin/chromium
browser: ## install Debian's chromium for the browser tests (when missing)
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "browser tests: $(CHROMIUM) missing and apt-get not available (no root)"; exit 0; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || \
	{ $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null; } || \
	echo "browser tests: installing chromium failed"

test: setup browser ## run the whole test suite
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

screenshots: setup browser ## refresh docs/_static/screenshots from the browser tests
	QHANA_SCREENSHOT_DIR=docs/_static/screenshots $(VENV)/bin/python -m pytest tests/browser -q

lock: | $(UV) ## refresh uv.lock after editing pyproject.toml
	$(UV) lock --python $(PYTHON)

lint: setup ## ruff over the code
	$(VENV)/bin/ruff check qhana_plugin_runner plugins tests

clean: ## remove the virtual environments and caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache
