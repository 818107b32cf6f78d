"""The real topology on one machine: each service API, relay and consumer (the notifications API
runs the webhook dispatcher; it emits nothing, so it has no relay), and the gateway, each its own
process, logs under one directory. PostgreSQL and Kafka are started by deploy/stack/*.sh."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gradops_gateway.settings import GatewaySettings
from gradops_shared.migrations import REPO_ROOT
from gradops_shared.settings import (
    ALLOW_DEVELOPMENT_SECRETS_ENV,
    DEFAULT_KAFKA_BOOTSTRAP,
    DEFAULT_POSTGRES_URL,
    ServiceSettings,
)
from gradops_suite.catalogue import DEFINITIONS, consumers, emitters

SERVICE_ORDER = list(DEFINITIONS)


def new_api_key() -> str:
    return f"gok_{secrets.token_urlsafe(24)}"


@dataclass(frozen=True)
class StackConfig:
    base_port: int = 8000
    state_dir: Path = REPO_ROOT / ".stack"
    database_url: str = DEFAULT_POSTGRES_URL
    kafka_bootstrap: str = DEFAULT_KAFKA_BOOTSTRAP
    topic_prefix: str = ""
    # Shared by the gateway and the services; new for each `stack up` unless the environment sets it.
    principal_secret: str = field(
        default_factory=lambda: os.environ.get("GRADOPS_PRINCIPAL_SECRET") or secrets.token_urlsafe(32)
    )
    # Extra environment for every process (e.g. the tests raise the gateway's rate limits).
    extra_env: tuple[tuple[str, str], ...] = ()
    bootstrap_api_key: str = field(
        default_factory=lambda: (
            os.environ.get("GRADOPS_BOOTSTRAP_API_KEY") or f"gok_{secrets.token_urlsafe(24)}"
        )
    )

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def secrets_file(self) -> Path:
        """The generated keys that protect stored data, kept between runs (mode 0600)."""
        return self.state_dir / "secrets.json"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def api_port(self, service: str) -> int:
        return self.base_port + 101 + SERVICE_ORDER.index(service)

    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.base_port}"


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    args: list[str]
    port: int


def process_specs(config: StackConfig) -> list[ProcessSpec]:
    specs: list[ProcessSpec] = []
    for index, service in enumerate(SERVICE_ORDER):
        specs.append(ProcessSpec(f"{service}-api", ["serve", "api", service], config.base_port + 101 + index))
        if service in emitters():
            specs.append(
                ProcessSpec(f"{service}-relay", ["serve", "relay", service], config.base_port + 111 + index)
            )
        if service in consumers():
            specs.append(
                ProcessSpec(
                    f"{service}-consumer", ["serve", "consumer", service], config.base_port + 121 + index
                )
            )
    specs.append(ProcessSpec("gateway", ["serve", "gateway", "gateway"], config.base_port))
    return specs


def secret_fields() -> list[str]:
    """Every secret setting of every process (each settings class's declared development secrets)."""
    classes: list[type[ServiceSettings]] = [d.settings_cls for d in DEFINITIONS.values()]
    classes.append(GatewaySettings)
    return sorted({field for cls in classes for field in cls.development_secret_fields()})


def stack_secrets(config: StackConfig) -> dict[str, str]:
    """`GRADOPS_<FIELD>` for every secret setting, so the stack starts with nothing set and never on
    a development secret. The environment wins. Otherwise the principal secret is new for each
    `stack up` (it protects nothing stored), and the other keys are generated once and kept in
    `<state_dir>/secrets.json`: the PII key encrypts stored ID numbers and collection codes live for
    weeks, so a restart must read what an earlier run wrote."""
    stored: dict[str, str] = {}
    if config.secrets_file.exists():
        stored = json.loads(config.secrets_file.read_text())
    generated = False
    values: dict[str, str] = {}
    for field_name in secret_fields():
        name = f"GRADOPS_{field_name.upper()}"
        if field_name == "principal_secret":
            values[name] = config.principal_secret
        elif os.environ.get(name):
            values[name] = os.environ[name]
        else:
            if not stored.get(field_name):
                stored[field_name] = secrets.token_urlsafe(32)
                generated = True
            values[name] = stored[field_name]
    if generated:
        config.state_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(config.secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(stored, handle, indent=2)
    return values


def process_env(config: StackConfig) -> dict[str, str]:
    env = dict(os.environ)
    # Every secret is generated or set below: the stack never needs the tests' opt-in, and without it
    # a process that somehow held a development secret would refuse to start (as in production).
    env.pop(ALLOW_DEVELOPMENT_SECRETS_ENV, None)
    env.update(
        {
            "GRADOPS_DATABASE_URL": config.database_url,
            "GRADOPS_EVENT_BUS": "kafka",
            "GRADOPS_KAFKA_BOOTSTRAP": config.kafka_bootstrap,
            "GRADOPS_TOPIC_PREFIX": config.topic_prefix,
            "GRADOPS_PHOTO_REGISTRY_URL": f"http://127.0.0.1:{config.api_port('registry')}",
            "GRADOPS_CERTIFICATES_PHOTO_URL": f"http://127.0.0.1:{config.api_port('photo')}",
            "GRADOPS_AUDIT_REGISTRY_URL": f"http://127.0.0.1:{config.api_port('registry')}",
            "GRADOPS_GATEWAY_SERVICES": json.dumps(
                {s: f"http://127.0.0.1:{config.api_port(s)}" for s in SERVICE_ORDER}
            ),
            **stack_secrets(config),
            "GRADOPS_BOOTSTRAP_API_KEY": config.bootstrap_api_key,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(dict(config.extra_env))
    return env


def _pid_file(config: StackConfig, name: str) -> Path:
    return config.run_dir / f"{name}.pid"


def _alive(pid: int) -> bool:
    # A child that died is a zombie until reaped, and a zombie still answers kill(pid, 0).
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _running_pid(config: StackConfig, name: str) -> int | None:
    path = _pid_file(config, name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def start(config: StackConfig, *, timeout_s: float = 90) -> None:
    """Starts every process not already running and returns when all answer /readyz."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    config.log_dir.mkdir(parents=True, exist_ok=True)
    env = process_env(config)
    specs = process_specs(config)
    for spec in specs:
        if _running_pid(config, spec.name):
            continue
        log_file = (config.log_dir / f"{spec.name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "gradops_suite", *spec.args, "--port", str(spec.port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        log_file.close()
        _pid_file(config, spec.name).write_text(str(process.pid))
    try:
        wait_ready(config, specs, timeout_s=timeout_s)
    except RuntimeError:
        stop(config)  # no half-started topology left behind; the logs stay for the post-mortem
        raise


def wait_ready(config: StackConfig, specs: list[ProcessSpec], *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    pending = {spec.name: spec for spec in specs}
    with httpx.Client(timeout=2) as client:
        while pending:
            for name, spec in list(pending.items()):
                if not _running_pid(config, name):
                    raise RuntimeError(f"{name} exited; see {config.log_dir / (name + '.log')}")
                try:
                    if client.get(f"http://127.0.0.1:{spec.port}/readyz").status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if not pending:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not ready after {timeout_s:.0f}s: {', '.join(sorted(pending))} (logs: {config.log_dir})"
                )
            time.sleep(0.3)


def stop(config: StackConfig, *, timeout_s: float = 15) -> None:
    for spec in reversed(process_specs(config)):
        pid = _running_pid(config, spec.name)
        if pid:
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for spec in process_specs(config):
        pid = _running_pid(config, spec.name)
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid and _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        _pid_file(config, spec.name).unlink(missing_ok=True)


def status(config: StackConfig) -> dict[str, str]:
    result: dict[str, str] = {}
    with httpx.Client(timeout=2) as client:
        for spec in process_specs(config):
            if not _running_pid(config, spec.name):
                result[spec.name] = "stopped"
                continue
            try:
                ready = client.get(f"http://127.0.0.1:{spec.port}/readyz").status_code == 200
                result[spec.name] = "ready" if ready else "not ready"
            except httpx.HTTPError:
                result[spec.name] = "starting"
    return result
