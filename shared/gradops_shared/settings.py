"""Typed settings. Each service subclasses `ServiceSettings` with its own env prefix
(`GRADOPS_REGISTRY_`, `GRADOPS_PHOTO_`, ...); a bad value fails at start, not at first use.

Development secrets: every secret setting has a development default so that `make run` (the
embedded default: SQLite and the in-process bus) works with nothing set. A settings class declares
those defaults in `development_secrets` ({field: development value}); outside the embedded default
a declared secret that still has its development value (or is empty, or a template's `change-me`)
refuses to start, naming the setting and how to set it. Only the test suite opts out, with
GRADOPS_ALLOW_DEVELOPMENT_SECRETS=1.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://gradops:gradops@127.0.0.1:55432/gradops"
DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:59092"
# Only for a developer's machine; the stack and the embedded default generate their own per run.
DEV_PRINCIPAL_SECRET = "gradops-dev-principal-secret"
# The explicit opt-in that lets development secrets through outside the embedded default (tests only).
ALLOW_DEVELOPMENT_SECRETS_ENV = "GRADOPS_ALLOW_DEVELOPMENT_SECRETS"
# The templates' placeholders (.env.example, deploy/k8s/secret.yaml) say "change-me": never a real key.
TEMPLATE_PLACEHOLDER = "change-me"
GENERATE_SECRET_HINT = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'

# Set by `secrets_unused()`: this process reads settings but never uses a secret (migrate, openapi).
_SECRETS_UNUSED: ContextVar[bool] = ContextVar("gradops_secrets_unused", default=False)


@contextlib.contextmanager
def secrets_unused() -> Iterator[None]:
    """For commands that read settings for something else (the database URL to migrate, the routes
    to write the OpenAPI) and never sign, encrypt or verify anything: development secrets pass."""
    token = _SECRETS_UNUSED.set(True)
    try:
        yield
    finally:
        _SECRETS_UNUSED.reset(token)


class DevelopmentSecretsRefused(ValueError):
    """A process outside the embedded default still holds a development secret."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_", extra="ignore", frozen=True)

    # {secret field: its development value}. Each class declares its own; a subclass inherits its
    # bases' (see `development_secret_fields`), wherever the field lands.
    development_secrets: ClassVar[dict[str, str]] = {"principal_secret": DEV_PRINCIPAL_SECRET}

    database_url: str = Field(
        DEFAULT_POSTGRES_URL,
        description="postgresql+asyncpg://… for the real stack; sqlite+aiosqlite:///file.db embedded.",
    )
    event_bus: Literal["kafka", "embedded"] = "kafka"
    kafka_bootstrap: str = DEFAULT_KAFKA_BOOTSTRAP
    embedded_bus_path: str = Field(".data/bus.db", description="SQLite file of the embedded event log.")
    topic_prefix: str = Field("", description="Prepended to every topic and consumer group (test isolation).")
    principal_secret: SecretStr = Field(
        SecretStr(DEV_PRINCIPAL_SECRET),
        description="HMAC key shared with the gateway to sign the caller's principal. Set it in production.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    relay_batch_size: int = Field(200, ge=1, le=10_000)
    relay_poll_seconds: float = Field(1.0, gt=0, le=60)
    consumer_max_attempts: int = Field(3, ge=1, le=20)
    consumer_retry_backoff_seconds: float = Field(0.2, ge=0, le=60)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("database_url must use postgresql+asyncpg:// or sqlite+aiosqlite://")
        return value

    @classmethod
    def development_secret_fields(cls) -> dict[str, str]:
        """Every declared secret of this class and its bases: {field: development value}."""
        declared: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            declared.update(vars(klass).get("development_secrets", {}))
        return declared

    @classmethod
    def secret_env_names(cls, field: str) -> list[str]:
        """The environment variables that set `field`: the class's own name, then the common one."""
        prefix = str(cls.model_config.get("env_prefix") or "GRADOPS_")
        names = [f"{prefix}{field}".upper(), f"GRADOPS_{field}".upper()]
        return list(dict.fromkeys(names))

    @property
    def is_embedded(self) -> bool:
        """The embedded default (`make run`): SQLite and the in-process event bus."""
        return self.database_url.startswith("sqlite+aiosqlite://") and self.event_bus == "embedded"

    def development_secrets_in_use(self) -> list[str]:
        """The declared secrets that still hold their development value, a template's placeholder
        (`change-me`, as in .env.example and deploy/k8s/secret.yaml) or nothing at all."""
        in_use = []
        for field, development_value in self.development_secret_fields().items():
            value = getattr(self, field, None)
            if value is None:
                continue  # the field is declared by a base but not carried by this class
            text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            if not text.strip() or text == development_value or TEMPLATE_PLACEHOLDER in text.lower():
                in_use.append(field)
        return in_use

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if self.is_embedded or _SECRETS_UNUSED.get() or os.environ.get(ALLOW_DEVELOPMENT_SECRETS_ENV) == "1":
            return self
        fields = self.development_secrets_in_use()
        if fields:
            raise DevelopmentSecretsRefused(
                refusal_message(type(self), fields, self.database_url, self.event_bus)
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # GRADOPS_REGISTRY_DATABASE_URL beats GRADOPS_DATABASE_URL, which serves every service.
        # No .env file is read: tests and processes get exactly what their environment says.
        common = EnvSettingsSource(settings_cls, env_prefix="GRADOPS_")
        return (init_settings, env_settings, common, file_secret_settings)


def refusal_message(cls: type[ServiceSettings], fields: list[str], database_url: str, event_bus: str) -> str:
    database = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    lines = [
        "development secrets (or empty or change-me values) are refused outside the embedded default "
        f"(this process runs on {database} with the {event_bus} event bus). Set a real value for:"
    ]
    lines += [f"  - {field}: set {' or '.join(cls.secret_env_names(field))}" for field in fields]
    lines.append(
        f"Generate one with: {GENERATE_SECRET_HINT}. .env.example, docker-compose.yml and "
        "deploy/k8s/secret.yaml name every secret. The embedded default (`make run`) needs none, and "
        f"only the test suite sets {ALLOW_DEVELOPMENT_SECRETS_ENV}=1 to run on the development values."
    )
    return "\n".join(lines)
