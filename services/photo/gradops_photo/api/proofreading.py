"""图像校对: the student's confirmation, the class feedback sheet and the completion figures."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from pydantic import Field

from gradops_photo.api.deps import Reader, RegistryDep, StudentNo, Writer
from gradops_photo.api.uploads import clean_query
from gradops_photo.domain.proofreading import PROOFREAD_MESSAGES_ZH
from gradops_photo.schemas import NO_CONTROL_LINE, CompletionOut, CompletionRow, ProofreadIn, ProofreadOut
from gradops_photo.service import proofreading
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.post(
    "/students/{student_no}/photo-proofreading",
    response_model=ProofreadOut,
    summary="图像校对: confirm (asked twice; the first alone changes nothing) or report what is wrong",
)
async def proofread_photo(
    student_no: StudentNo, payload: ProofreadIn, principal: Writer, session: WriteSessionDep
) -> ProofreadOut:
    submission, final = await proofreading.proofread(
        session, student_no, principal, action=payload.action, detail=payload.detail
    )
    state = submission.proofread_state
    assert state is not None
    return ProofreadOut(
        submission_id=submission.id,
        student_no=student_no,
        proofread_state=state,
        final=final,
        message_zh=PROOFREAD_MESSAGES_ZH[state],
    )


@router.get(
    "/photo-proofreading/feedback-sheet",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                "text/csv": {},
            },
            "description": "图像信息校对反馈表: 序号, 学号, 姓名, 校对结果, 本人签名; by 学号 descending",
        }
    },
    summary="The class proofreading feedback sheet (图像信息校对反馈表), XLSX or CSV",
)
async def get_proofreading_feedback_sheet(
    principal: Reader,
    session: SessionDep,
    registry: RegistryDep,
    class_code: Annotated[
        str,
        Query(
            alias="class",
            min_length=1,
            max_length=64,
            description="班级",
            json_schema_extra={"pattern": NO_CONTROL_LINE},
        ),
    ],
    format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx",
) -> Response:
    clean_query("class", class_code)
    sheet = await proofreading.feedback_sheet(
        session, registry, principal, class_code=class_code, format=format
    )
    # RFC 6266: an ASCII fallback and the UTF-8 name (class codes are often Chinese).
    disposition = (
        f'attachment; filename="feedback-sheet.{format}"; '
        f"filename*=UTF-8''{quote(f'图像信息校对反馈表-{class_code}.{format}')}"
    )
    return Response(sheet.content, media_type=sheet.media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/photo-completion",
    response_model=CompletionOut,
    summary="Completion figures per centre or class: without graduation photo, pending, rejected, "
    "expired, approved, on CHSI (students in 在籍)",
)
async def get_photo_completion(
    principal: Reader,
    session: SessionDep,
    registry: RegistryDep,
    centre: Annotated[
        list[Annotated[str, Field(json_schema_extra={"pattern": NO_CONTROL_LINE})]] | None,
        Query(description="Learning centre code(s)"),
    ] = None,
    class_code: Annotated[
        str | None, Query(alias="class", max_length=64, json_schema_extra={"pattern": NO_CONTROL_LINE})
    ] = None,
    group_by: Annotated[Literal["centre", "class"], Query()] = "centre",
) -> CompletionOut:
    for value in centre or []:
        clean_query("centre", value)
    if class_code is not None:
        clean_query("class", class_code)
    rows = await proofreading.completion(
        session, registry, principal, centre=centre, class_code=class_code, group_by=group_by
    )
    return CompletionOut(group_by=group_by, rows=[CompletionRow(**row) for row in rows])
