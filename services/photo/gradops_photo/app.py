from __future__ import annotations

from fastapi import FastAPI

from gradops_photo import api, workers
from gradops_photo.models import Base, inbox, outbox
from gradops_photo.settings import PhotoSettings
from gradops_shared.runtime import Runtime, ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="photo",
    title="GradOps Photo",
    description="Graduation and admission photos: QC, capture sessions, bulk import, review, CHSI states, "
    "proofreading and completion figures.",
    settings_cls=PhotoSettings,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    router=api.router,
    workers=workers.lifespan,
)


def create_app(settings: PhotoSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or PhotoSettings(), runtime)
