from __future__ import annotations

from fastapi import FastAPI

from gradops_registry import api, events
from gradops_registry.models import Base, inbox, outbox
from gradops_registry.settings import RegistrySettings
from gradops_shared.runtime import Runtime, ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="registry",
    title="GradOps Registry",
    description="The student record (学籍): create, read and its status history.",
    settings_cls=RegistrySettings,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
)


def create_app(settings: RegistrySettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or RegistrySettings(), runtime)
