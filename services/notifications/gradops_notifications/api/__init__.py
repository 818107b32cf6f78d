"""The notifications service's HTTP API: one module per resource, included into one router."""

from fastapi import APIRouter

from gradops_notifications.api import timeline, webhooks

router = APIRouter()
router.include_router(webhooks.router)
router.include_router(timeline.router)

__all__ = ["router"]
