"""Every service of the suite, with its settings, in one place."""

from __future__ import annotations

from typing import Any

from gradops_audit.app import DEFINITION as AUDIT
from gradops_certificates.app import DEFINITION as CERTIFICATES
from gradops_gateway.models import SCHEMA as GATEWAY_SCHEMA
from gradops_notifications.app import DEFINITION as NOTIFICATIONS
from gradops_photo.app import DEFINITION as PHOTO
from gradops_registry.app import DEFINITION as REGISTRY
from gradops_shared.contracts import TOPICS
from gradops_shared.runtime import ServiceDefinition
from gradops_shared.settings import ServiceSettings

DEFINITIONS: dict[str, ServiceDefinition] = {
    d.name: d for d in (REGISTRY, PHOTO, AUDIT, CERTIFICATES, NOTIFICATIONS)
}


def settings_for(name: str, **overrides: Any) -> ServiceSettings:
    return DEFINITIONS[name].settings_cls(**overrides)


__all__ = [
    "DEFINITIONS",
    "GATEWAY_SCHEMA",
    "consumers",
    "emitters",
    "migration_histories",
    "settings_for",
]


def migration_histories() -> list[str]:
    """Every Alembic history (section of migrations/alembic.ini): the services' and the gateway's."""
    return [*DEFINITIONS, "gateway"]


def consumers() -> list[str]:
    return [name for name, d in DEFINITIONS.items() if d.handlers is not None]


def emitters() -> list[str]:
    """The services with a topic of their own (an outbox relay each); notifications emits nothing."""
    return [name for name in DEFINITIONS if name in TOPICS]
