"""Identity documents: the resident ID number (GB 11643-1999) and the other ID types, and masking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gradops_registry.errors import (
    BIRTH_DATE_MISMATCH,
    GENDER_MISMATCH,
    ID_NUMBER_BIRTH_DATE,
    ID_NUMBER_CHECKSUM,
    ID_NUMBER_FORMAT,
)

# ISO 7064 MOD 11-2 as used by GB 11643-1999 (the resident ID number).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")

# 军官证 / 士兵证: "南字第2008456号" or the bare digits.
_MILITARY_CARD = re.compile(r"^(?:[\u4e00-\u9fa5]{1,4}字第\d{4,10}号|\d{6,12})$")

# The other documents have no checksum; their shapes are what the issuing offices print.
_OTHER_ID_SHAPES: dict[str, tuple[re.Pattern[str], str, str]] = {
    "passport": (
        re.compile(r"^[A-Z0-9]{5,20}$"),
        "A passport number has 5 to 20 letters or digits.",
        "护照号码应为 5 至 20 位字母或数字",
    ),
    "military_officer": (
        _MILITARY_CARD,
        "A military officer card number looks like 南字第2008456号 (or its 6 to 12 digits).",
        "军官证号格式应为“南字第2008456号”或 6 至 12 位数字",
    ),
    "soldier": (
        _MILITARY_CARD,
        "A soldier card number looks like 北字第2008456号 (or its 6 to 12 digits).",
        "士兵证号格式应为“北字第2008456号”或 6 至 12 位数字",
    ),
    "other": (
        re.compile(r"^[^\s]{4,32}$"),
        "An ID number has 4 to 32 characters without spaces.",
        "证件号码应为 4 至 32 位且不含空格",
    ),
}


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    gender: Literal["male", "female"]


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_resident_id(raw: str, *, today: date) -> ResidentId:
    """Validates an 18-character resident ID number; lower-case x is normalised to X.
    Error messages never repeat the number: they end up in logs and responses."""
    number = raw.strip().upper()
    if not _RESIDENT_ID.match(number):
        raise ID_NUMBER_FORMAT(
            "A resident ID number has 17 digits and a check character (digit or X).",
            message_zh="居民身份证号码应为 17 位数字加 1 位校验码（数字或 X）",
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ID_NUMBER_BIRTH_DATE(
            "The birth date inside the ID number is not a real date.",
            message_zh="身份证号码中的出生日期无效",
        ) from None
    if birth > today:
        raise ID_NUMBER_BIRTH_DATE(
            "The birth date inside the ID number is in the future.",
            message_zh="身份证号码中的出生日期晚于今天",
        )
    if resident_id_check_char(number[:17]) != number[17]:
        raise ID_NUMBER_CHECKSUM(
            "The ID number's check character is wrong (ISO 7064 MOD 11-2).",
            message_zh="身份证号码校验位错误",
        )
    return ResidentId(number=number, birth_date=birth, gender="male" if int(number[16]) % 2 else "female")


def normalise_other_id(id_type: str, raw: str) -> str:
    pattern, message_en, message_zh = _OTHER_ID_SHAPES[id_type]
    number = raw.strip().upper()
    if not pattern.match(number):
        raise ID_NUMBER_FORMAT(message_en, message_zh=message_zh)
    return number


def check_identity_consistency(
    resident_id: ResidentId, *, birth_date: date | None, gender: str | None
) -> None:
    if birth_date is not None and birth_date != resident_id.birth_date:
        raise BIRTH_DATE_MISMATCH(
            "birth_date does not match the birth date inside the ID number.",
            message_zh="出生日期与身份证号码不一致",
        )
    if gender is not None and gender != resident_id.gender:
        raise GENDER_MISMATCH(
            f"gender {gender} does not match the ID number ({resident_id.gender}).",
            message_zh="性别与身份证号码不一致",
        )


def mask_id_number(number: str) -> str:
    """`*****8746`: what the collection code and every response without `pii:read` show."""
    return "*****" + number[-4:] if len(number) > 4 else "*" * len(number)


def mask_last4(last4: str) -> str:
    """The same mask from the stored last 4 characters (the number itself stays encrypted)."""
    return "*****" + last4


def mask_name(name: str) -> str:
    """`张三` -> `张*`, `张小三` -> `张**三`: the first and last characters stay, as CHSI shows it."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "**" + name[-1]
