"""Certificate numbers (external.md 2.2). Pure functions, no I/O.

- 毕业证书 (18 digits): school (5) + education type (1) + graduation year (4) + level (2) + serial (6).
- Legacy 毕业证书 (17 digits, 2001–2003): the same with a 5-digit serial. The 17-digit layout is not in
  a text we could read; this is the layout commonly reported, accepted on read only.
- 学位证书 (16 digits): school (5) + degree code (1: 2 doctor, 3 master, 4 bachelor) + year (4) +
  serial (6); position 11 may be `S` (double degree) or `E` (second degree); a `C` (adult education)
  or `Z` (professional degree) in front makes 17 characters.
- 毕业证明书 补证号 (ours; the national layout is not published, only that it starts with the school
  code): school (5) + `B` + year of issue (4) + level (2) + serial (6). The `B` keeps it apart from
  every 毕业证书 number while the digits still read the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from gradops_certificates.errors import (
    NUMBER_DEGREE_CODE,
    NUMBER_FORMAT,
    NUMBER_LEVEL,
    NUMBER_SERIAL,
    NUMBER_TYPE_CODE,
    NUMBER_YEAR,
    SERIAL_EXHAUSTED,
    UNKNOWN_LEVEL,
)
from gradops_shared.problems import GradOpsError, ProblemType

# 培养层次: 05 本科 (also 专科起点本科), 06 专科/高职.
LEVEL_CODES: dict[str, str] = {
    "bachelor": "05",
    "bachelor_from_junior_college": "05",
    "junior_college": "06",
}
LEVEL_NAMES_ZH: dict[str, str] = {
    "01": "博士",
    "02": "硕士",
    "04": "第二学士学位",
    "05": "本科",
    "06": "专科",
}
LEGACY_LEVEL_CODES: dict[str, str] = {"07": "夜大/电大/函大普通班"}
# 办学类型: 1 普通, 5 成人, 6 自考, 7 网络. Open education's digit is configuration (settings).
EDUCATION_TYPE_CODES: dict[str, str] = {
    "1": "普通高等教育",
    "5": "成人高等教育",
    "6": "自学考试",
    "7": "网络教育",
}
DEGREE_CODES: dict[str, str] = {"2": "博士", "3": "硕士", "4": "学士"}
BACHELOR_DEGREE_CODE = "4"
REPLACEMENT_SERIES = "B"
# The serial counter of degree certificates: type "D", level "0" + degree code.
DEGREE_SERIES = "D"
MAX_SERIAL = 999_999
FIRST_YEAR_18 = 2001  # some schools moved to 18 digits in 2002/2003; 2001 numbers are legacy 17
LAST_LEGACY_YEAR = 2003

NumberKind = Literal["diploma", "legacy_diploma", "degree", "replacement"]

_DIGITS = re.compile(r"^\d+$")


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


@dataclass(frozen=True)
class ReplacementNumber:
    school_code: str
    year: int
    level_code: str
    serial: int

    def __str__(self) -> str:
        return f"{self.school_code}{REPLACEMENT_SERIES}{self.year:04d}{self.level_code}{self.serial:06d}"


@dataclass(frozen=True)
class DegreeNumber:
    school_code: str
    degree_code: str
    year: int
    serial: int
    prefix: str = ""

    def __str__(self) -> str:
        return f"{self.prefix}{self.school_code}{self.degree_code}{self.year:04d}{self.serial:06d}"


@dataclass(frozen=True)
class ParsedNumber:
    """What a number says, whatever its kind."""

    kind: NumberKind
    number: str
    school_code: str
    year: int
    serial: str
    education_type_code: str | None = None
    level_code: str | None = None
    degree_code: str | None = None
    prefix: str = ""
    marker: str = ""  # S (double) / E (second) bachelor degree


def _invalid(problem: ProblemType, detail: str, zh: str) -> GradOpsError:
    return problem(detail, message_zh=zh)


def level_code(level: str) -> str:
    try:
        return LEVEL_CODES[level]
    except KeyError:
        raise _invalid(
            UNKNOWN_LEVEL, f"No certificate level code for {level!r}.", "无法确定该学历层次的证书层次代码"
        ) from None


def _check_serial(serial: int) -> None:
    if not 1 <= serial <= MAX_SERIAL:
        raise _invalid(SERIAL_EXHAUSTED, f"Serial {serial} is outside 1..{MAX_SERIAL}.", "证书流水号已用尽")


def make_number(
    *, school_code: str, education_type_code: str, year: int, level: str, serial: int
) -> CertificateNumber:
    _check_serial(serial)
    return CertificateNumber(school_code, education_type_code, year, level_code(level), serial)


def make_replacement_number(*, school_code: str, year: int, level: str, serial: int) -> ReplacementNumber:
    _check_serial(serial)
    return ReplacementNumber(school_code, year, level_code(level), serial)


def make_degree_number(
    *, school_code: str, year: int, serial: int, degree_code: str = BACHELOR_DEGREE_CODE, prefix: str = ""
) -> DegreeNumber:
    _check_serial(serial)
    return DegreeNumber(school_code, degree_code, year, serial, prefix)


def parse_number(raw: str) -> CertificateNumber:
    """A current 18-digit 毕业证书 number, or InvalidInput with the reason."""
    parsed = validate_number(raw)
    if parsed.kind != "diploma":
        raise _invalid(
            NUMBER_FORMAT,
            "A certificate number has 18 digits: school (5), type (1), year (4), level (2), serial (6).",
            "毕业证书编号应为 18 位数字",
        )
    assert parsed.education_type_code is not None and parsed.level_code is not None
    return CertificateNumber(
        parsed.school_code, parsed.education_type_code, parsed.year, parsed.level_code, int(parsed.serial)
    )


def _check_year(year: int, low: int, high: int, number: str) -> None:
    if not low <= year <= high:
        raise _invalid(
            NUMBER_YEAR,
            f"Year {year} in {number} is outside {low}..{high} for this kind of number.",
            f"证书编号中的年份 {year} 不在有效范围内（{low}–{high}）",
        )


def _check_diploma_parts(
    type_code: str, level: str, serial: str, number: str, type_codes: Collection[str], *, legacy: bool
) -> None:
    if type_code not in type_codes:
        raise _invalid(
            NUMBER_TYPE_CODE,
            f"Digit 6 of {number} ({type_code}) is not a known education-type code "
            f"({', '.join(sorted(type_codes))}).",
            f"证书编号第 6 位办学类型代码 {type_code} 无效",
        )
    known_levels = set(LEVEL_NAMES_ZH) | (set(LEGACY_LEVEL_CODES) if legacy else set())
    if level not in known_levels:
        raise _invalid(
            NUMBER_LEVEL,
            f"Digits 11-12 of {number} ({level}) are not a level code ({', '.join(sorted(known_levels))}).",
            f"证书编号第 11–12 位培养层次代码 {level} 无效",
        )
    if int(serial) == 0:
        raise _invalid(NUMBER_SERIAL, f"The serial of {number} is zero.", "证书编号流水号不能为 0")


def validate_number(
    raw: str, *, education_type_codes: Collection[str] = (), current_year: int = 2100
) -> ParsedNumber:
    """Reads any number we may be shown: 18-digit and legacy 17-digit 毕业证书, 16-digit 学位证书
    (with its C/Z prefix and S/E marker) and our 补证号. The reason names the part that is wrong."""
    number = raw.strip().upper()
    type_codes = {*EDUCATION_TYPE_CODES, *education_type_codes}
    if len(number) == 18 and number[5] == REPLACEMENT_SERIES and _DIGITS.match(number[:5] + number[6:]):
        year = int(number[6:10])
        _check_year(year, FIRST_YEAR_18, current_year, number)
        level = number[10:12]
        if level not in LEVEL_NAMES_ZH:
            raise _invalid(
                NUMBER_LEVEL,
                f"Digits 11-12 of {number} are not a level code.",
                "补证号中的培养层次代码无效",
            )
        return ParsedNumber("replacement", number, number[:5], year, number[12:], level_code=level)
    if len(number) in (17, 18) and _DIGITS.match(number):
        # 18 digits since FIRST_YEAR_18, 17 (legacy) until LAST_LEGACY_YEAR: the same parts, a shorter serial.
        legacy = len(number) == 17
        low, high = (1990, LAST_LEGACY_YEAR) if legacy else (FIRST_YEAR_18, current_year)
        year = int(number[6:10])
        _check_year(year, low, high, number)
        _check_diploma_parts(number[5], number[10:12], number[12:], number, type_codes, legacy=legacy)
        return ParsedNumber(
            "legacy_diploma" if legacy else "diploma",
            number,
            number[:5],
            year,
            number[12:],
            education_type_code=number[5],
            level_code=number[10:12],
        )
    prefix = number[0] if len(number) == 17 and number[0] in "CZ" else ""
    body = number[len(prefix) :]
    if len(body) == 16 and _DIGITS.match(body[:10]) and (body[10] in "SE" or body[10].isdigit()):
        if not _DIGITS.match(body[11:]):
            raise _invalid(
                NUMBER_FORMAT, f"{number} has letters in its serial.", "学位证书编号流水号应为数字"
            )
        if body[5] not in DEGREE_CODES:
            raise _invalid(
                NUMBER_DEGREE_CODE,
                f"Digit 6 of {number} ({body[5]}) is not a degree code (2 doctor, 3 master, 4 bachelor).",
                "学位证书编号第 6 位学位级别代码无效",
            )
        marker = body[10] if body[10] in "SE" else ""
        if marker and body[5] != BACHELOR_DEGREE_CODE:
            raise _invalid(
                NUMBER_DEGREE_CODE,
                f"{number}: only bachelor degrees carry S/E at position 11.",
                "只有学士学位证书编号的第 11 位可以是 S 或 E",
            )
        year = int(body[6:10])
        _check_year(year, 1981, current_year, number)
        return ParsedNumber(
            "degree", number, body[:5], year, body[10:], degree_code=body[5], prefix=prefix, marker=marker
        )
    raise _invalid(
        NUMBER_FORMAT,
        f"{raw.strip()!r} is not a certificate number: 18 digits (school 5, type 1, year 4, level 2, "
        "serial 6), 17 digits before 2004, 16 for a degree certificate.",
        "证书编号格式不正确：毕业证书编号为 18 位数字（2004 年前为 17 位），学位证书编号为 16 位",
    )
