from __future__ import annotations

from fastapi import FastAPI

from gradops_notifications import api, events
from gradops_notifications.models import inbox, metadata, outbox
from gradops_notifications.settings import NotificationsSettings
from gradops_notifications.workers import webhook_dispatcher
from gradops_shared.runtime import Runtime, ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="notifications",
    title="GradOps Notifications",
    description="Webhooks to partners (signed, retried, logged) and the student timeline, from the "
    "services' events.",
    settings_cls=NotificationsSettings,
    metadata=metadata,
    outbox=outbox,
    inbox=inbox,
    router=api.router,
    consumes=events.CONSUMES,
    handlers=events.handlers,
    workers=webhook_dispatcher,
)


def create_app(settings: NotificationsSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or NotificationsSettings(), runtime)
