# syntax=docker/dockerfile:1
# One image for every GradOps process; the command picks the process:
#   serve api <service> --port N | serve relay <service> --port N | serve consumer <service> --port N
#   serve gateway gateway --port N | migrate
# (see docker-compose.yml and deploy/k8s/ for each process's command and port).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: compilers are here only, in case a dependency has no wheel for the platform ----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes. The test and lint tools
# of the lock (and the Kubernetes schemas the deploy tests use) stay out of the runtime image.
COPY requirements.lock ./
RUN grep -vE '^(pytest|pytest-asyncio|ruff|mypy|asyncpg-stubs|kubernetes-validate)==' requirements.lock \
        > /tmp/runtime.lock \
    && pip install --upgrade pip \
    && pip install -r /tmp/runtime.lock
# The project is installed editable at /app: the code finds its migrations and the committed
# OpenAPI specs next to it (gateway routing), exactly as in a checkout.
COPY pyproject.toml ./
COPY shared ./shared
COPY gateway ./gateway
COPY services ./services
COPY migrations ./migrations
COPY openapi ./openapi
RUN pip install --no-deps -e . && python -m compileall -q shared gateway services migrations

# ---- runtime: the venv and the source, no compilers, not root ----
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="GradOps" \
      org.opencontainers.image.description="GradOps services, relays, consumers, gateway and migrations"
RUN groupadd --system --gid 10001 gradops \
    && useradd --system --uid 10001 --gid gradops --home-dir /app --shell /usr/sbin/nologin gradops
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=root:root /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GRADOPS_BIND_HOST=0.0.0.0 \
    PORT=8000
USER 10001:10001
EXPOSE 8000
# Every process answers /healthz on the port it serves; compose and Kubernetes set PORT to match.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2).status == 200 else 1)"]
ENTRYPOINT ["python", "-m", "gradops_suite"]
CMD ["serve", "gateway", "gateway", "--port", "8000"]
