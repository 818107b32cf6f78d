"""Asking the registry, the owner of the student record, about students (always with the caller's
reach, so a centre's key cannot act for another centre's student)."""

from __future__ import annotations

from typing import Any

from gradops_photo.errors import FILTER_INVALID, REGISTRY_UNAVAILABLE, STUDENT_NOT_ACTIVE, STUDENT_NOT_FOUND
from gradops_photo.settings import PhotoSettings
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal
from gradops_shared.runtime import Runtime

# Students in these states may no longer hand in photos.
_INACTIVE_STATUSES = {"withdrawn", "cancelled"}


def registry_client(runtime: Runtime, settings: PhotoSettings) -> RegistryClient:
    return RegistryClient(
        runtime.peer("registry", settings.registry_url),
        service="photo",
        secret=settings.principal_secret.get_secret_value(),
        unavailable=REGISTRY_UNAVAILABLE,
        invalid=FILTER_INVALID,
    )


async def lookup_student(registry: RegistryClient, caller: Principal, student_no: str) -> dict[str, Any]:
    """The registry's record (a student created a moment ago is known): unknown or out of the
    caller's reach is a 404, withdrawn or cancelled a 409."""
    student = await registry.student(caller, student_no)
    if student is None:
        raise STUDENT_NOT_FOUND(
            f"No student with number {student_no}.", message_zh=f"学号 {student_no} 的学生不存在"
        )
    if student.get("status") in _INACTIVE_STATUSES:
        raise STUDENT_NOT_ACTIVE(
            f"Student {student_no} is {student['status']} and cannot submit photos.",
            message_zh="该学生学籍状态不允许提交照片",
        )
    return student
