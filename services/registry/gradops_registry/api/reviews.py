"""前置学历复查: the review of a student, its steps with evidence, and the overdue ones."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile

from gradops_registry.api.deps import Reader, Reviewer, SettingsDep, StudentNo
from gradops_registry.api.views import overdue_out, review_out
from gradops_registry.errors import PRIOR_EDUCATION_EVIDENCE_TYPE, UPLOAD_TOO_LARGE
from gradops_registry.schemas import OverdueReviewOut, PriorEducationReviewOut
from gradops_registry.service import reviews
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.text import MultilineText, PlainText
from gradops_shared.uploads import read_limited

router = APIRouter()


async def _evidence(
    types: list[str] | None, files: list[UploadFile] | None, limit: int
) -> list[reviews.EvidenceUpload]:
    """The uploads paired with their types (one type per file, same order), each within `limit`."""
    if len(types or []) != len(files or []):
        raise PRIOR_EDUCATION_EVIDENCE_TYPE(
            "Send one evidence_type per evidence file, in the same order.",
            message_zh="每份证明材料须对应一个材料类型",
        )
    return [
        reviews.EvidenceUpload(t, await read_limited(f, limit, UPLOAD_TOO_LARGE, what="evidence file"))
        for t, f in zip(types or [], files or [], strict=True)
    ]


@router.get(
    "/students/{student_no}/prior-education-review",
    response_model=PriorEducationReviewOut,
    summary="The prior-education review (前置学历复查): state, deadline, stages and evidence",
)
async def get_prior_education_review(
    student_no: StudentNo, session: SessionDep, principal: Reader
) -> PriorEducationReviewOut:
    found = await reviews.review(session, principal, student_no)
    return review_out(found.student, found.steps)


@router.post(
    "/students/{student_no}/prior-education-review",
    response_model=PriorEducationReviewOut,
    summary="Flag (待查), first review (初审, HQ) or second review (复审, province), with evidence",
)
async def post_prior_education_review(
    student_no: StudentNo,
    session: WriteSessionDep,
    settings: SettingsDep,
    principal: Reviewer,
    action: Annotated[Literal["flag", "first_review", "second_review"], Form()],
    outcome: Annotated[Literal["passed", "failed"] | None, Form()] = None,
    prior_graduation_year: Annotated[int | None, Form(ge=1950, le=2100)] = None,
    abroad: Annotated[bool, Form(description="Prior diploma obtained abroad (留服认证)")] = False,
    notice_date: Annotated[date | None, Form(description="flag: date of HQ's notice (default today)")] = None,
    notes: Annotated[MultilineText | None, Form(max_length=2000)] = None,
    evidence_type: Annotated[
        list[PlainText] | None,
        Form(
            description="One per evidence file, same order: registration_record, credential_report, "
            "overseas_credential, prior_diploma, id_card, identity_consistency_proof"
        ),
    ] = None,
    evidence: Annotated[list[UploadFile] | None, File(description="PDF, JPEG or PNG")] = None,
) -> PriorEducationReviewOut:
    found = await reviews.review_step(
        session,
        principal,
        student_no,
        action=action,
        outcome=outcome,
        evidence=await _evidence(evidence_type, evidence, settings.max_evidence_bytes),
        prior_graduation_year=prior_graduation_year,
        abroad=abroad,
        notice_date=notice_date,
        notes=notes,
    )
    return review_out(found.student, found.steps)


@router.get(
    "/students/{student_no}/prior-education-review/evidence/{sha256}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
    summary="Download one evidence file of the student's review",
)
async def get_prior_education_evidence(
    student_no: StudentNo,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    session: SessionDep,
    principal: Reader,
) -> Response:
    blob = await reviews.evidence_file(session, principal, student_no, sha256)
    return Response(blob.content, media_type=blob.media_type)


@router.get(
    "/prior-education-reviews/overdue",
    response_model=list[OverdueReviewOut],
    summary="Prior-education reviews past their 3-month deadline",
)
async def list_overdue_prior_education_reviews(
    session: SessionDep, principal: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[OverdueReviewOut]:
    return [overdue_out(s) for s in await reviews.overdue(session, principal, limit)]
