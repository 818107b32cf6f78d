from __future__ import annotations

from fastapi import FastAPI

from gradops_audit import api, events
from gradops_audit.models import Base, inbox, outbox
from gradops_audit.settings import AuditSettings
from gradops_shared.runtime import Runtime, ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="audit",
    title="GradOps Audit",
    description="Graduation audit (毕业审核): every check explained, re-run as soon as a fact changes.",
    settings_cls=AuditSettings,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
)


def create_app(settings: AuditSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or AuditSettings(), runtime)
