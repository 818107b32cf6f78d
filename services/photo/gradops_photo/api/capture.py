"""Mini-program capture sessions: open one with a collection code, upload the session's photo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from gradops_photo.api.deps import Capturer, CaptureSessionId, QcPoolDep, RegistryDep, SettingsDep
from gradops_photo.api.uploads import capture_bytes
from gradops_photo.api.views import capture_session_out, submission_out
from gradops_photo.schemas import CapturePhotoIn, CaptureSessionIn, CaptureSessionOut, SubmissionOut
from gradops_photo.service import capture
from gradops_shared.edge import RuntimeDep

router = APIRouter()


def _capture_upload_body() -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
                "application/json": {"schema": CapturePhotoIn.model_json_schema()},
            },
        }
    }


@router.post(
    "/capture-sessions",
    response_model=CaptureSessionOut,
    status_code=201,
    summary="Open a mini-program capture session: collection code + last 4 ID digits "
    "(5 wrong tries lock the code for 15 minutes)",
)
async def open_capture_session(
    payload: CaptureSessionIn,
    principal: Capturer,
    runtime: RuntimeDep,
    settings: SettingsDep,
    registry: RegistryDep,
) -> CaptureSessionOut:
    row, token = await capture.start_capture(runtime.db, registry, settings, principal, payload)
    return capture_session_out(row, token)


@router.post(
    "/capture-sessions/{session_id}/photo",
    response_model=SubmissionOut,
    status_code=201,
    summary="Upload the session's graduation photo (multipart `file` or JSON `image_base64`); "
    "answers the QC report with Chinese hints at once",
    openapi_extra=_capture_upload_body(),
)
async def upload_capture_photo(
    session_id: CaptureSessionId,
    request: Request,
    principal: Capturer,
    runtime: RuntimeDep,
    settings: SettingsDep,
    pool: QcPoolDep,
    x_capture_token: Annotated[str | None, Header(description="The session's token")] = None,
) -> SubmissionOut:
    async def read_photo() -> bytes:
        return await capture_bytes(request, settings.max_upload_bytes)

    submission = await capture.upload_capture_photo(
        runtime.db,
        pool,
        settings,
        principal,
        session_id=session_id,
        token=x_capture_token,
        read_photo=read_photo,
    )
    return submission_out(submission)
