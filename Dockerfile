# syntax=docker/dockerfile:1
# The runner image: API server or Celery worker, picked by CONTAINER_MODE at start
# (see docs/deployment.md). Plugins and their requirements are installed at build time.
#
#   docker build -t qhana-plugin-runner .
#   docker build --build-arg GIT_PLUGINS="git+https://github.com/org/repo.git@v1#subdirectory=plugins" -t my-runner .

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ARG UV_VERSION=0.13.9
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /app
# dependencies first: this layer is reused until the lock file changes
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-install-project --extra bundled-plugins
COPY qhana_plugin_runner ./qhana_plugin_runner
RUN uv sync --frozen --no-editable --extra bundled-plugins
COPY plugins ./plugins
# plugins from git (the same line format as the GIT_PLUGINS variable at run time)
ARG GIT_PLUGINS=""
RUN mkdir -p /app/git-plugins /app/extra-plugins \
    && GIT_PLUGINS="${GIT_PLUGINS}" /app/.venv/bin/python -m qhana_plugin_runner.deploy.git_plugins --plugins-path /app/git-plugins
# every plugin's get_requirements(), installed now rather than at each start
RUN PLUGIN_FOLDERS=/app/plugins:/app/git-plugins \
    QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=/tmp/build-instance \
    /app/.venv/bin/flask --app qhana_plugin_runner install --skip-runner-requirements \
    && rm -rf /tmp/build-instance

FROM python:${PYTHON_VERSION}-slim
# git: GIT_PLUGINS may also be given at run time
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 --user-group runner
COPY --from=build /app /app
RUN mkdir -p /app/instance \
    && chown -R runner:runner /app/instance /app/git-plugins /app/extra-plugins
ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    FLASK_APP=qhana_plugin_runner \
    QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=/app/instance \
    PLUGIN_FOLDERS=/app/plugins:/app/extra-plugins:/app/git-plugins \
    GIT_PLUGINS_PATH=/app/git-plugins \
    CONTAINER_MODE=server \
    SERVER_PORT=8080 \
    GUNICORN_WORKERS=auto \
    GUNICORN_THREADS=8 \
    CONCURRENCY=2 \
    CELERY_WORKER_POOL=threads \
    DEFAULT_LOG_LEVEL=INFO
WORKDIR /app
USER runner
VOLUME ["/app/instance"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "qhana_plugin_runner.deploy.healthcheck"]
ENTRYPOINT ["python", "-m", "qhana_plugin_runner.deploy"]
