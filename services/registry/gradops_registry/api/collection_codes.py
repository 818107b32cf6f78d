"""图像采集码: a signed, expiring collection code and its QR image."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gradops_registry.api.deps import SettingsDep, StudentNo, Writer
from gradops_registry.api.views import collection_code_out
from gradops_registry.schemas import CollectionCodeOut
from gradops_registry.service import collection
from gradops_shared.edge import SessionDep

router = APIRouter()


@router.post(
    "/students/{student_no}/collection-code",
    response_model=CollectionCodeOut,
    summary="Issue a signed, expiring collection code (图像采集码) and its QR image",
    responses={200: {"content": {"image/png": {}}, "description": "JSON, or the PNG with Accept: image/png"}},
)
async def post_collection_code(
    student_no: StudentNo, request: Request, session: SessionDep, settings: SettingsDep, principal: Writer
) -> Response | CollectionCodeOut:
    issued = await collection.issue_collection_code(session, settings, principal, student_no)
    if "image/png" in request.headers.get("accept", ""):
        return Response(issued.png, media_type="image/png")
    return collection_code_out(issued)
