"""Certificate number rules (national 18-digit layout). Pure functions, no I/O.

Layout: school code (5) + education-type code (1) + graduation year (4) + level code (2) + serial (6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gradops_shared.errors import InvalidInput

# 培养层次: 05 本科 (also 专科起点本科), 06 专科/高职.
LEVEL_CODES: dict[str, str] = {
    "bachelor": "05",
    "bachelor_from_junior_college": "05",
    "junior_college": "06",
}
MAX_SERIAL = 999_999
_NUMBER = re.compile(r"^(?P<school>\d{5})(?P<type>\d)(?P<year>\d{4})(?P<level>\d{2})(?P<serial>\d{6})$")


@dataclass(frozen=True)
class CertificateNumber:
    school_code: str
    education_type_code: str
    year: int
    level_code: str
    serial: int

    def __str__(self) -> str:
        return (
            f"{self.school_code}{self.education_type_code}{self.year:04d}{self.level_code}{self.serial:06d}"
        )


def level_code(level: str) -> str:
    try:
        return LEVEL_CODES[level]
    except KeyError:
        raise InvalidInput(
            f"No certificate level code for {level!r}.",
            code="certificates.unknown_level",
            message_zh="无法确定该学历层次的证书层次代码",
        ) from None


def make_number(
    *, school_code: str, education_type_code: str, year: int, level: str, serial: int
) -> CertificateNumber:
    if not 1 <= serial <= MAX_SERIAL:
        raise InvalidInput(
            f"Serial {serial} is outside 1..{MAX_SERIAL}.",
            code="certificates.serial_exhausted",
            message_zh="证书流水号已用尽",
        )
    return CertificateNumber(school_code, education_type_code, year, level_code(level), serial)


def parse_number(raw: str) -> CertificateNumber:
    match = _NUMBER.match(raw.strip())
    if not match:
        raise InvalidInput(
            "A certificate number has 18 digits: school (5), type (1), year (4), level (2), serial (6).",
            code="certificates.number_format",
            message_zh="毕业证书编号应为 18 位数字",
        )
    return CertificateNumber(
        match["school"], match["type"], int(match["year"]), match["level"], int(match["serial"])
    )
