# One image for every perfloop process: API, migrations, trainer worker and device agents.
# Build: docker build -t perfloop .   (docker-compose.yml builds it for each service)
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PERFLOOP_DATA_DIR=/data

WORKDIR /app

# torch first, pinned to the CPU build (a looser spec pulls gigabytes of CUDA wheels).
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"

# Dependencies before the source so code edits do not re-install them.
COPY pyproject.toml README.md ./
COPY perfloop/__init__.py perfloop/__init__.py
COPY predictor/__init__.py predictor/__init__.py
COPY service/__init__.py service/__init__.py
COPY device_agents/__init__.py device_agents/__init__.py
RUN pip install ".[agents]" && pip uninstall -y perfloop

COPY . .
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /data perfloop \
    && mkdir -p /data /spool && chown perfloop /data /spool

USER perfloop
EXPOSE 8000
# Liveness only; compose uses /readyz (database reachable and migrated) for depends_on.
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
CMD ["perfloop", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
