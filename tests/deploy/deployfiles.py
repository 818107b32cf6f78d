"""Loading the deployment files the way their tools do, for the validation tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import SecretStr

from gradops_gateway.settings import GatewaySettings
from gradops_shared.migrations import REPO_ROOT
from gradops_shared.settings import ServiceSettings
from gradops_suite import cli
from gradops_suite.catalogue import DEFINITIONS

SCHEMAS = Path(__file__).parent / "schemas"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERFILE = REPO_ROOT / "Dockerfile"
K8S_DIR = REPO_ROOT / "deploy" / "k8s"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_all_yaml(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    """Parses `argv` with the project's real CLI and returns what it would dispatch to, without
    starting anything: ("serve", role, service, port) or ("migrate",). An unknown command, role,
    service or option makes argparse exit, which fails the test."""
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        cli, "_serve", lambda role, service, port, host="": calls.append(("serve", role, service, str(port)))
    )
    monkeypatch.setattr(cli, "_migrate", lambda: calls.append(("migrate",)))
    try:
        cli.main(argv)
    except SystemExit as exc:
        pytest.fail(f"`python -m gradops_suite {' '.join(argv)}` is refused by the CLI (exit {exc.code})")
    assert len(calls) == 1, f"{argv} dispatched to {calls}"
    return calls[0]


def env_names_in_example() -> set[str]:
    """Every variable .env.example names, set or commented out (`# NAME=value`)."""
    names = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def env_names_set_in_example() -> set[str]:
    """The variables .env.example sets (uncommented): what an operator must fill in."""
    names = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def settings_classes() -> list[type[ServiceSettings]]:
    """Every process's settings class: each service's (the catalogue) and the gateway's."""
    return [*(d.settings_cls for d in DEFINITIONS.values()), GatewaySettings]


def secret_settings() -> dict[str, list[str]]:
    """Every field typed SecretStr in every settings class -> the environment names that set it,
    the common `GRADOPS_<FIELD>` first (the one the deployment files use)."""
    secrets: dict[str, list[str]] = {}
    for cls in settings_classes():
        for name, field in cls.model_fields.items():
            if field.annotation is SecretStr or SecretStr in get_args(field.annotation):
                secrets[f"{cls.__name__}.{name}"] = list(reversed(cls.secret_env_names(name)))
    return secrets
