"""The collection code (图像采集码) for a student in 在籍 and its QR image.

The image follows CHSI's sample: the QR code, then the masked name (张**三), the masked ID
(*****8746), the school and the level, and the caption "for image capture only, do not share".
The text needs a font with CJK glyphs: `collection_code_font_path`, else the first of the usual
system locations that exists (fonts-wqy-microhei, fonts-noto-cjk, ...). Without one, the text
lines are left out and the image is the QR code alone; the same lines are in the JSON answer.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.domain import LEVELS, mask_last4, mask_name
from gradops_registry.errors import COLLECTION_CODE_NOT_ENROLLED
from gradops_registry.service.record import get_student
from gradops_registry.settings import RegistrySettings
from gradops_shared.collection_code import issue_code
from gradops_shared.principal import Principal

CAPTION_ZH = "此码仅用于图像采集，请勿随意外传"
_CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@dataclass(frozen=True)
class IssuedCode:
    code: str
    student_no: str
    expires_at: datetime
    name_masked: str
    id_number_masked: str
    school: str
    level_label_zh: str
    png: bytes


def cjk_font_path(settings: RegistrySettings) -> Path | None:
    if settings.collection_code_font_path:
        configured = Path(settings.collection_code_font_path)
        return configured if configured.is_file() else None
    return next((Path(p) for p in _CJK_FONT_CANDIDATES if Path(p).is_file()), None)


def render_png(code: str, lines: list[str], font_path: Path | None) -> bytes:
    qr = segno.make_qr(code, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=8, border=4)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    if font_path is not None:
        font = ImageFont.truetype(str(font_path), 22)
        line_height = 32
        canvas = Image.new("RGB", (image.width, image.height + line_height * len(lines) + 12), "white")
        canvas.paste(image, (0, 0))
        draw = ImageDraw.Draw(canvas)
        for index, line in enumerate(lines):
            width = draw.textlength(line, font=font)
            draw.text(
                ((canvas.width - width) / 2, image.height + index * line_height),
                line,
                fill="black",
                font=font,
            )
        image = canvas
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def issue_collection_code(
    session: AsyncSession, settings: RegistrySettings, principal: Principal, student_no: str
) -> IssuedCode:
    student = await get_student(session, student_no, principal)
    if student.status != "enrolled":
        raise COLLECTION_CODE_NOT_ENROLLED(
            f"A collection code is issued only to students in 在籍 (this one is {student.status}).",
            message_zh="仅在籍学生可以获取图像采集码",
        )
    expires_at = (datetime.now(UTC) + timedelta(days=settings.collection_code_ttl_days)).replace(
        microsecond=0
    )
    code = issue_code(student_no, expires_at, settings.collection_code_key.get_secret_value())
    name_masked = mask_name(student.name)
    id_masked = mask_last4(student.id_number_last4)
    level_label = LEVELS[student.level]
    png = render_png(
        code,
        [f"{name_masked}  {id_masked}", f"{settings.school_name}  {level_label}", CAPTION_ZH],
        cjk_font_path(settings),
    )
    return IssuedCode(
        code=code,
        student_no=student_no,
        expires_at=expires_at,
        name_masked=name_masked,
        id_number_masked=id_masked,
        school=settings.school_name,
        level_label_zh=level_label,
        png=png,
    )


def png_base64(png: bytes) -> str:
    return base64.b64encode(png).decode()
