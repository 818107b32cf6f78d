"""Transcripts from the LMS (one student's, or many at once)."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_audit import schemas
from gradops_audit.api.deps import Reader, Registry, Settings, StudentNo, Writer
from gradops_audit.api.views import transcript_out
from gradops_audit.service import transcripts
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.put(
    "/students/{student_no}/transcript",
    response_model=schemas.TranscriptOut,
    summary="The student's transcript from the LMS (replaces the previous one; re-audits)",
)
async def put_student_transcript(
    student_no: StudentNo,
    body: schemas.TranscriptIn,
    principal: Writer,
    session: WriteSessionDep,
    settings: Settings,
    registry: Registry,
) -> schemas.TranscriptOut:
    transcript = await transcripts.put_student_transcript(
        session, registry, principal, student_no, body, settings
    )
    return transcript_out(transcript)


@router.get(
    "/students/{student_no}/transcript",
    response_model=schemas.TranscriptOut,
    summary="The student's transcript",
)
async def get_student_transcript(
    student_no: StudentNo, principal: Reader, session: SessionDep
) -> schemas.TranscriptOut:
    return transcript_out(await transcripts.get_transcript(session, principal, student_no))


@router.put(
    "/transcripts",
    response_model=schemas.TranscriptBulkOut,
    summary="Many transcripts at once (all or nothing); each student's open application is re-audited",
)
async def put_transcripts(
    body: schemas.TranscriptBulkIn, principal: Writer, session: WriteSessionDep, settings: Settings
) -> schemas.TranscriptBulkOut:
    count, reaudited = await transcripts.put_transcripts(session, principal, body, settings)
    return schemas.TranscriptBulkOut(count=count, reaudited=reaudited)
