"""Reading uploads at the edge: a file part up to its limit (shared `read_limited`), or the capture
upload's photo as multipart `file` or JSON `image_base64`."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from gradops_photo.errors import (
    BASE64_INVALID,
    EMPTY_FILE,
    FILE_MISSING,
    FILTER_INVALID,
    UNSUPPORTED_MEDIA_TYPE,
    UPLOAD_TOO_LARGE,
)
from gradops_photo.schemas import CapturePhotoIn
from gradops_shared.text import control_character
from gradops_shared.uploads import read_limited


def _empty() -> Exception:
    return EMPTY_FILE("The uploaded file is empty.", message_zh="上传的文件为空")


async def read_upload(upload: StarletteUpload, limit: int, field: str = "file") -> bytes:
    """The whole part (413 above `limit`, 422 when empty)."""
    data = await read_limited(upload, limit, UPLOAD_TOO_LARGE, what=f"upload ({field})")  # type: ignore[arg-type]
    if not data:
        raise _empty()
    return data


def _too_large() -> Exception:
    return UPLOAD_TOO_LARGE("The upload is too large.", message_zh="上传文件过大")


async def _base64_photo(request: Request, limit: int) -> bytes:
    raw = await request.body()
    if len(raw) > limit * 4 // 3 + 1024:
        raise _too_large()
    try:
        body = CapturePhotoIn.model_validate_json(raw)
        data = base64.b64decode(body.image_base64, validate=True)
    except (ValidationError, binascii.Error, ValueError) as exc:
        raise BASE64_INVALID(
            "image_base64 must be a base64 JPEG.", message_zh="image_base64 不是有效的 base64 图片"
        ) from exc
    if not data:
        raise _empty()
    if len(data) > limit:
        raise _too_large()
    return data


async def capture_bytes(request: Request, limit: int) -> bytes:
    """The photo as multipart `file` or JSON `image_base64` (what a mini-program backend finds easier)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return await _base64_photo(request, limit)
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            raise FILE_MISSING(
                "Send the photo as the multipart field `file`.", message_zh="缺少照片文件（file 字段）"
            )
        return await read_upload(upload, limit)
    raise UNSUPPORTED_MEDIA_TYPE(
        "Send multipart/form-data (file) or application/json (image_base64).",
        message_zh="请以 multipart/form-data 或 JSON(base64) 上传照片",
    )


def clean_query(name: str, value: str) -> None:
    """A filter passed on to the registry: a control character is the caller's mistake (422 naming
    the parameter), not a registry outage."""
    if control_character(value) is not None:
        raise FILTER_INVALID(
            f"{name} must be printable text without control characters.",
            message_zh=f"{name} 含有控制字符或不可见字符",
            extra={
                "errors": [
                    {
                        "field": name,
                        "in": "query",
                        "type": "control_character",
                        "message": "含有控制字符 / contains a control character",
                    }
                ]
            },
        )
