from __future__ import annotations

from gradops_notifications import api, events
from gradops_notifications.models import metadata
from gradops_notifications.settings import NotificationsSettings
from gradops_notifications.workers import webhook_dispatcher
from gradops_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="notifications",
    title="GradOps Notifications",
    description="Webhooks to partners (signed, retried, logged) and the student timeline, from the "
    "services' events.",
    settings_cls=NotificationsSettings,
    metadata=metadata,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
    workers=webhook_dispatcher,
)

create_app = DEFINITION.create_app
