"""Loading the deployment files the way their tools do, for the validation tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradops_shared.migrations import REPO_ROOT
from gradops_suite import cli

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
