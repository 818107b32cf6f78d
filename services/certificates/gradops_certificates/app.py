from __future__ import annotations

from fastapi import FastAPI

from gradops_certificates import api, events
from gradops_certificates.models import Base, inbox, outbox
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.runtime import Runtime, ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="certificates",
    title="GradOps Certificates",
    description="Graduation certificates (毕业证书): 18-digit numbers, issuance from passed audits, lookup.",
    settings_cls=CertificatesSettings,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
    batch_handlers=events.batch_handlers,
)


def create_app(settings: CertificatesSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or CertificatesSettings(), runtime)
