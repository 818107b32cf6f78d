from __future__ import annotations

from gradops_certificates import api, events
from gradops_certificates.models import Base
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="certificates",
    title="GradOps Certificates",
    description="Graduation certificates (毕业证书): 18-digit numbers, issuance from passed audits, lookup.",
    settings_cls=CertificatesSettings,
    metadata=Base.metadata,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
    batch_handlers=events.batch_handlers,
)

create_app = DEFINITION.create_app
