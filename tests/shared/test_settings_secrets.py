"""Settings refuse development secrets outside the embedded default (SQLite + the in-process bus):
every declared secret of every settings class, the accepted cases (embedded, a real value, the
tests' opt-in, commands that use no secret), the real stack's generated secrets, and a real
`serve` process that exits with the reason instead of starting."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr, ValidationError

from gradops_registry.service.pii import PiiCipher
from gradops_shared.migrations import REPO_ROOT, upgrade
from gradops_shared.settings import (
    ALLOW_DEVELOPMENT_SECRETS_ENV,
    DEV_PRINCIPAL_SECRET,
    ServiceSettings,
    secrets_unused,
)
from gradops_suite import cli, stack
from tests.deploy.deployfiles import secret_settings, settings_classes
from tests.support.databases import DB_SUFFIX, PG_SERVER

POSTGRES = "postgresql+asyncpg://gradops:gradops@127.0.0.1:55432/gradops"
REAL = "a-real-secret-4f9c2e7b1d"


def declared() -> list[tuple[type[ServiceSettings], str, str]]:
    """(settings class, secret field, development value) for every declared secret."""
    return [
        (cls, field, development_value)
        for cls in settings_classes()
        for field, development_value in cls.development_secret_fields().items()
    ]


CASES = [pytest.param(cls, field, value, id=f"{cls.__name__}.{field}") for cls, field, value in declared()]


@pytest.fixture(autouse=True)
def production_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No opt-in and no secret from the environment: only what each test passes."""
    monkeypatch.delenv(ALLOW_DEVELOPMENT_SECRETS_ENV, raising=False)
    for name in list(os.environ):
        if name.startswith("GRADOPS_"):
            monkeypatch.delenv(name)


def real_values(cls: type[ServiceSettings], **overrides: Any) -> dict[str, Any]:
    """Every declared secret of `cls` set to a real value, then the overrides."""
    return {**{field: REAL for field in cls.development_secret_fields()}, **overrides}


def refusal(cls: type[ServiceSettings], **values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        cls(**values)
    return str(caught.value)


@pytest.mark.parametrize(("cls", "field", "development_value"), CASES)
def test_each_development_secret_is_refused_on_postgres_and_kafka_naming_how_to_set_it(
    cls: type[ServiceSettings], field: str, development_value: str
) -> None:
    message = refusal(cls, **real_values(cls, database_url=POSTGRES, **{field: development_value}))
    assert f"- {field}: set " in message
    assert f"GRADOPS_{field.upper()}" in message
    assert "secrets.token_urlsafe" in message
    for other in set(cls.development_secret_fields()) - {field}:
        assert f"- {other}:" not in message, "only the offending setting is named"
    assert development_value not in message and REAL not in message, "never echo a secret"


@pytest.mark.parametrize(("cls", "field", "development_value"), CASES)
def test_the_development_default_itself_is_refused(
    cls: type[ServiceSettings], field: str, development_value: str
) -> None:
    """Nothing set at all (the value a process gets when nobody configured it)."""
    values = real_values(cls, database_url=POSTGRES)
    del values[field]
    assert f"- {field}:" in refusal(cls, **values)


@pytest.mark.parametrize(("cls", "field", "development_value"), CASES)
def test_empty_and_template_values_are_refused_too(
    cls: type[ServiceSettings], field: str, development_value: str
) -> None:
    for value in ("", "   ", "CHANGE-ME-to-a-long-random-string", "change-me"):
        assert f"- {field}:" in refusal(cls, **real_values(cls, database_url=POSTGRES, **{field: value}))


@pytest.mark.parametrize(("cls", "field", "development_value"), CASES)
def test_development_secrets_are_accepted_in_the_embedded_default(
    cls: type[ServiceSettings], field: str, development_value: str, tmp_path: Path
) -> None:
    settings = cls(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", event_bus="embedded")
    assert settings.is_embedded
    assert getattr(settings, field).get_secret_value() == development_value


@pytest.mark.parametrize(
    ("database_url", "event_bus"),
    [(POSTGRES, "embedded"), ("sqlite+aiosqlite:///x.db", "kafka"), (POSTGRES, "kafka")],
    ids=["postgres+embedded-bus", "sqlite+kafka", "postgres+kafka"],
)
def test_only_sqlite_with_the_embedded_bus_counts_as_embedded(database_url: str, event_bus: str) -> None:
    for cls in settings_classes():
        message = refusal(cls, database_url=database_url, event_bus=event_bus)
        assert "- principal_secret:" in message


@pytest.mark.parametrize(("cls", "field", "development_value"), CASES)
def test_a_real_value_is_accepted_from_arguments_and_from_the_environment(
    cls: type[ServiceSettings], field: str, development_value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = cls(**real_values(cls, database_url=POSTGRES))
    assert getattr(settings, field).get_secret_value() == REAL
    for name in cls.secret_env_names(field):  # the class's own variable and the common one
        for other in cls.development_secret_fields():
            monkeypatch.setenv(f"GRADOPS_{other.upper()}", "another-real-secret")
        monkeypatch.setenv(name, REAL)
        assert getattr(cls(database_url=POSTGRES), field).get_secret_value() == REAL
        monkeypatch.delenv(name)


def test_the_explicit_opt_in_lets_development_secrets_through(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("0", "true", ""):
        monkeypatch.setenv(ALLOW_DEVELOPMENT_SECRETS_ENV, value)
        refusal(ServiceSettings, database_url=POSTGRES)  # only "1" opts in
    monkeypatch.setenv(ALLOW_DEVELOPMENT_SECRETS_ENV, "1")
    for cls in settings_classes():
        assert cls(database_url=POSTGRES).principal_secret.get_secret_value() == DEV_PRINCIPAL_SECRET


def test_commands_that_use_no_secret_read_settings_in_secrets_unused() -> None:
    """migrate, openapi and keys read the database URL or the routes, never a secret."""
    with secrets_unused():
        for cls in settings_classes():
            assert cls(database_url=POSTGRES).database_url == POSTGRES
    refusal(ServiceSettings, database_url=POSTGRES)  # and only inside the block


def test_every_secret_field_is_declared_with_its_default_so_none_escapes_the_check() -> None:
    """A SecretStr field with a default must be declared in `development_secrets` with that
    default, or a process could start on it unnoticed."""
    secrets = secret_settings()
    assert {"RegistrySettings.pii_key", "RegistrySettings.collection_code_key"} <= set(secrets)
    assert {"PhotoSettings.collection_code_key", "GatewaySettings.principal_secret"} <= set(secrets)
    for cls in settings_classes():
        for name, field in cls.model_fields.items():
            if f"{cls.__name__}.{name}" not in secrets or field.default is None:
                continue
            default = field.default.get_secret_value() if isinstance(field.default, SecretStr) else None
            assert cls.development_secret_fields().get(name) == default, f"{cls.__name__}.{name}"


def test_the_real_stack_generates_every_secret_and_keeps_the_data_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_DEVELOPMENT_SECRETS_ENV, "1")  # as under the test suite: not passed on
    config = stack.StackConfig(state_dir=tmp_path / "stack")
    env = stack.process_env(config)
    assert ALLOW_DEVELOPMENT_SECRETS_ENV not in env
    names = {f"GRADOPS_{field.upper()}" for field in stack.secret_fields()}
    assert {"GRADOPS_PRINCIPAL_SECRET", "GRADOPS_PII_KEY", "GRADOPS_COLLECTION_CODE_KEY"} <= names
    assert env["GRADOPS_PRINCIPAL_SECRET"] == config.principal_secret
    stored = json.loads(config.secrets_file.read_text())
    assert stat.S_IMODE(config.secrets_file.stat().st_mode) == 0o600
    assert set(stored) == set(stack.secret_fields()) - {"principal_secret"}
    # A second `stack up` keeps the data keys (stored ID numbers stay readable) but not the
    # principal secret; the environment wins over both.
    again = stack.process_env(stack.StackConfig(state_dir=tmp_path / "stack"))
    assert again["GRADOPS_PII_KEY"] == env["GRADOPS_PII_KEY"]
    assert again["GRADOPS_PRINCIPAL_SECRET"] != env["GRADOPS_PRINCIPAL_SECRET"]
    monkeypatch.setenv("GRADOPS_PII_KEY", REAL)
    assert stack.process_env(stack.StackConfig(state_dir=tmp_path / "stack"))["GRADOPS_PII_KEY"] == REAL
    # Every process of the stack accepts what it is given (nothing development, nothing empty).
    monkeypatch.delenv(ALLOW_DEVELOPMENT_SECRETS_ENV)
    for name in names:
        monkeypatch.setenv(name, env[name])
    for cls in settings_classes():
        assert cls().development_secrets_in_use() == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("argv", "setting", "env_name"),
    [
        (["serve", "api", "registry"], "pii_key", "GRADOPS_PII_KEY"),
        (["serve", "gateway", "gateway"], "principal_secret", "GRADOPS_PRINCIPAL_SECRET"),
    ],
    ids=["registry-api", "gateway"],
)
def test_a_process_started_on_postgres_with_a_development_secret_exits_with_the_reason(
    postgres_url: str, argv: list[str], setting: str, env_name: str
) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("GRADOPS_")}
    env |= {
        "GRADOPS_DATABASE_URL": postgres_url,
        "GRADOPS_KAFKA_BOOTSTRAP": "127.0.0.1:59092",
        "GRADOPS_EVENT_BUS": "kafka",
        # Every other secret real: the refusal names exactly the one left at its default.
        "GRADOPS_PRINCIPAL_SECRET": REAL,
        "GRADOPS_COLLECTION_CODE_KEY": REAL,
    }
    env.pop(env_name, None)
    process = subprocess.run(
        [sys.executable, "-m", "gradops_suite", *argv, "--port", "1"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr, process.stderr
    assert f"gradops {' '.join(argv)}: refusing to start" in process.stderr
    assert f"- {setting}: set " in process.stderr and env_name in process.stderr
    assert "GRADOPS_ALLOW_DEVELOPMENT_SECRETS" in process.stderr
    assert "- collection_code_key" not in process.stderr
    assert "gradops:gradops@" not in process.stderr, "the database URL's password is never printed"


@pytest.mark.integration
async def test_migrate_needs_no_secret_on_a_fresh_database_but_never_seals_numbers_with_a_development_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`make migrate` (before `make stack-up`) runs with nothing set; only the registry's data migration
    that encrypts an existing roster needs the PII key, and then it must be the deployment's own."""
    database = f"gradops_secmig_{DB_SUFFIX}" if DB_SUFFIX else "gradops_secmig"
    admin = await asyncpg.connect(f"{PG_SERVER}/gradops")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = f"{PG_SERVER}/{database}".replace("postgresql://", "postgresql+asyncpg://", 1)
    conn = await asyncpg.connect(f"{PG_SERVER}/{database}")
    try:
        await conn.execute("DROP SCHEMA IF EXISTS registry CASCADE")
        monkeypatch.setenv("GRADOPS_DATABASE_URL", url)
        await asyncio.to_thread(cli._migrate)  # every history, development secrets all around
        assert await conn.fetchval("SELECT count(*) FROM registry.students") == 0

        await conn.execute("DROP SCHEMA registry CASCADE")
        await asyncio.to_thread(upgrade, "registry", url, "regi0001")
        await conn.execute(
            "INSERT INTO registry.students VALUES ('2021000001', '张三', 'female', '1949-12-31', "
            "'resident_id', '11010519491231002X', '5135701', 'junior_college', 'open_education', '机电', "
            "'2021-spring', 'part_time', 'enrolled', 1, now(), now())"
        )
        with pytest.raises(ValidationError, match="pii_key"):
            await asyncio.to_thread(upgrade, "registry", url)
        assert await conn.fetchval("SELECT id_number FROM registry.students") == "11010519491231002X"

        for name in ("GRADOPS_PRINCIPAL_SECRET", "GRADOPS_PII_KEY", "GRADOPS_COLLECTION_CODE_KEY"):
            monkeypatch.setenv(name, REAL)
        await asyncio.to_thread(upgrade, "registry", url)
        sealed = await conn.fetchval("SELECT id_number_encrypted FROM registry.students")
    finally:
        await conn.execute("DROP SCHEMA IF EXISTS registry CASCADE")
        await conn.close()
    assert PiiCipher(REAL).decrypt(sealed) == "11010519491231002X"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.e2e
def test_the_embedded_default_starts_with_nothing_set(tmp_path: Path) -> None:
    """`make run` (what it runs): no secret, no opt-in, a fresh data directory, and it serves."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GRADOPS_")}
    env["GRADOPS_BOOTSTRAP_API_KEY"] = "gok_secrets-test-key"
    port, log = _free_port(), tmp_path / "run.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gradops_suite",
                "run",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while "HQ API key (every scope)" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/students",
            headers={"Authorization": "Bearer gok_secrets-test-key"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    assert "Traceback" not in log.read_text(errors="replace")
