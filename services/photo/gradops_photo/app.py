from __future__ import annotations

from gradops_photo import api, workers
from gradops_photo.models import Base
from gradops_photo.settings import PhotoSettings
from gradops_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="photo",
    title="GradOps Photo",
    description="Graduation and admission photos: QC, capture sessions, bulk import, review, CHSI states, "
    "proofreading and completion figures.",
    settings_cls=PhotoSettings,
    metadata=Base.metadata,
    router=api.router,
    workers=workers.lifespan,
)

create_app = DEFINITION.create_app
