"""The record's whole history: status changes, prior-education reviews, identity flags."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_registry.api.deps import Reader, StudentNo
from gradops_registry.api.views import change_out, flag_out, step_out
from gradops_registry.schemas import HistoryOut
from gradops_registry.service import status
from gradops_shared.edge import SessionDep

router = APIRouter()


@router.get(
    "/students/{student_no}/history",
    response_model=HistoryOut,
    summary="Everything that happened to the record: status changes, reviews, identity flags",
)
async def get_student_history(student_no: StudentNo, session: SessionDep, principal: Reader) -> HistoryOut:
    found = await status.history(session, principal, student_no)
    return HistoryOut(
        student_no=student_no,
        status_changes=[change_out(c) for c in found.status_changes],
        prior_education_reviews=[step_out(s) for s in found.prior_education_reviews],
        identity_flags=[flag_out(f) for f in found.identity_flags],
    )
