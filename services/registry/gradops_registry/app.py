from __future__ import annotations

from gradops_registry import api, events
from gradops_registry.models import Base
from gradops_registry.settings import RegistrySettings
from gradops_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="registry",
    title="GradOps Registry",
    description="The student record (学籍): create, read and its status history.",
    settings_cls=RegistrySettings,
    metadata=Base.metadata,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
)

create_app = DEFINITION.create_app
