"""身份存疑: set from CHSI feedback, or cleared after review."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_registry.api.deps import Reviewer, SettingsDep, StudentNo
from gradops_registry.api.views import student_out
from gradops_registry.schemas import IdentityFlagIn, StudentOut
from gradops_registry.service import identity
from gradops_shared.edge import WriteSessionDep

router = APIRouter()


@router.post(
    "/students/{student_no}/identity-flag",
    response_model=StudentOut,
    summary="Set identity in doubt (身份存疑) from CHSI feedback, or clear it after review",
)
async def post_identity_flag(
    student_no: StudentNo,
    body: IdentityFlagIn,
    session: WriteSessionDep,
    settings: SettingsDep,
    principal: Reviewer,
) -> StudentOut:
    student = await identity.set_identity_flag(session, principal, student_no, body)
    return student_out(student, principal, settings, False)
