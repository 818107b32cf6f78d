from __future__ import annotations

from gradops_audit import api, events
from gradops_audit.models import Base
from gradops_audit.settings import AuditSettings
from gradops_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="audit",
    title="GradOps Audit",
    description="Graduation audit (毕业审核): every check explained, re-run as soon as a fact changes.",
    settings_cls=AuditSettings,
    metadata=Base.metadata,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
)

create_app = DEFINITION.create_app
