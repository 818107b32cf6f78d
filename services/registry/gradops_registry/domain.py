"""Rules of the student record. Pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gradops_shared.errors import Conflict, InvalidInput

StudentStatus = Literal["enrolled", "suspended", "withdrawn", "cancelled", "graduated"]

STATUS_LABELS_ZH: dict[str, str] = {
    "enrolled": "在籍",
    "suspended": "休学",
    "withdrawn": "退学",
    "cancelled": "取消学籍",
    "graduated": "毕业",
}

# ISO 7064 MOD 11-2 as used by GB 11643-1999 (the resident ID number).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
_TERM = re.compile(r"^(?P<year>\d{4})(?:-(?P<season_en>spring|autumn)|(?P<season_zh>[春秋]))$")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    gender: Literal["male", "female"]


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_resident_id(raw: str, *, today: date) -> ResidentId:
    """Validates an 18-character resident ID number; lower-case x is normalised to X."""
    number = raw.strip().upper()
    if not _RESIDENT_ID.match(number):
        raise InvalidInput(
            "A resident ID number has 17 digits and a check character (digit or X).",
            code="registry.id_number_format",
            message_zh="居民身份证号码应为 17 位数字加 1 位校验码（数字或 X）",
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput(
            "The birth date inside the ID number is not a real date.",
            code="registry.id_number_birth_date",
            message_zh="身份证号码中的出生日期无效",
        ) from None
    if birth > today:
        raise InvalidInput(
            "The birth date inside the ID number is in the future.",
            code="registry.id_number_birth_date",
            message_zh="身份证号码中的出生日期晚于今天",
        )
    if resident_id_check_char(number[:17]) != number[17]:
        raise InvalidInput(
            "The ID number's check character is wrong (ISO 7064 MOD 11-2).",
            code="registry.id_number_checksum",
            message_zh="身份证号码校验位错误",
        )
    return ResidentId(number=number, birth_date=birth, gender="male" if int(number[16]) % 2 else "female")


def check_identity_consistency(
    resident_id: ResidentId, *, birth_date: date | None, gender: str | None
) -> None:
    if birth_date is not None and birth_date != resident_id.birth_date:
        raise InvalidInput(
            f"birth_date {birth_date} does not match the ID number ({resident_id.birth_date}).",
            code="registry.birth_date_mismatch",
            message_zh="出生日期与身份证号码不一致",
        )
    if gender is not None and gender != resident_id.gender:
        raise InvalidInput(
            f"gender {gender} does not match the ID number ({resident_id.gender}).",
            code="registry.gender_mismatch",
            message_zh="性别与身份证号码不一致",
        )


def normalise_term(raw: str) -> str:
    """`2021春` / `2021-spring` -> `2021-spring`. Ordering of terms is by (year, season)."""
    match = _TERM.match(raw.strip())
    if not match:
        raise InvalidInput(
            "enrolment_term must look like 2021-spring, 2021-autumn, 2021春 or 2021秋.",
            code="registry.enrolment_term_format",
            message_zh="入学年度学期格式应为 2021春 或 2021秋",
        )
    season = match["season_en"] or ("spring" if match["season_zh"] == "春" else "autumn")
    return f"{match['year']}-{season}"


def mask_id_number(number: str) -> str:
    return "*****" + number[-4:] if len(number) > 4 else "*" * len(number)


def check_status_via_record_update(current: str | None, requested: str) -> None:
    """`graduated` is set only by the certificates flow (CertificateIssued), never by a client."""
    if requested == "graduated" and current != "graduated":
        raise Conflict(
            "A student becomes graduated only when a certificate is issued.",
            code="registry.status_graduated_reserved",
            message_zh="毕业状态只能由证书发放流程设置",
        )
