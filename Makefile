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

.PHONY: help run test setup lock lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced ## create .venv from the lock file

run: setup ## start API and worker on port 5005 (SQLite, no broker server needed)
	$(VENV)/bin/qhana-plugin-runner --port $${PORT:-5005}

test: setup ## run the whole test suite
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lock: | $(UV) ## refresh uv.lock after editing pyproject.toml
	$(UV) lock --python $(PYTHON)

lint: setup ## ruff over the code
	$(VENV)/bin/ruff check qhana_plugin_runner plugins tests

clean: ## remove the virtual environments and caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache
