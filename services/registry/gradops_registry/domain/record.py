"""The record's controlled vocabularies (codes + Chinese labels) and enrolment terms."""

from __future__ import annotations

import re
from datetime import date

from gradops_registry.errors import ENROLMENT_TERM_FORMAT, ENROLMENT_TERM_OUT_OF_RANGE, VOCABULARY_UNKNOWN

LEVELS: dict[str, str] = {
    "junior_college": "专科",
    "bachelor_from_junior_college": "专科起点本科",
    "bachelor": "本科",
}
CATEGORIES: dict[str, str] = {
    "open_education": "开放教育",
    "open_education_junior_college": "开放教育专科",
    "open_education_bachelor": "开放教育本科",
    "secondary_vocational_bridge": "中高衔接",
    "one_village_one_student": "一村一名大学生",
    "junior_to_bachelor_bridge": "专本衔接本科",
    "school_local_cooperation": "校地合作",
}
STUDY_FORMS: dict[str, str] = {
    "part_time": "业余",
    "full_time": "全日制",
    "correspondence": "函授",
    "distance": "远程",
}
EDUCATION_TYPES: dict[str, str] = {"ordinary": "普通", "adult": "成人", "online": "网络", "open": "开放"}
VOCABULARIES: dict[str, dict[str, str]] = {
    "level": LEVELS,
    "category": CATEGORIES,
    "study_form": STUDY_FORMS,
    "education_type": EDUCATION_TYPES,
}
_FIELD_LABELS_ZH = {
    "level": "学历层次",
    "category": "学生类别",
    "study_form": "学习形式",
    "education_type": "学历类别",
}

_TERM = re.compile(r"^(?P<year>\d{4})(?:-(?P<season_en>spring|autumn)|(?P<season_zh>[春秋]))$")


def normalise_code(field: str, raw: str) -> str:
    """Accepts a code (`junior_college`) or its Chinese label (`专科`); returns the code."""
    vocabulary = VOCABULARIES[field]
    value = raw.strip()
    if value in vocabulary:
        return value
    for code, label in vocabulary.items():
        if value == label:
            return code
    raise VOCABULARY_UNKNOWN[field](
        f"{field} must be one of {', '.join(vocabulary)} (or their Chinese labels).",
        message_zh=f"{_FIELD_LABELS_ZH[field]}取值无效，可选：{'、'.join(vocabulary.values())}",
        extra={"errors": [{"field": field, "in": "body", "type": "vocabulary", "message": "unknown value"}]},
    )


def normalise_term(raw: str) -> str:
    """`2021春` / `2021-spring` -> `2021-spring`."""
    match = _TERM.match(raw.strip())
    if not match:
        raise ENROLMENT_TERM_FORMAT(
            "enrolment_term must look like 2021-spring, 2021-autumn, 2021春 or 2021秋.",
            message_zh="入学年度学期格式应为 2021春 或 2021秋",
        )
    season = match["season_en"] or ("spring" if match["season_zh"] == "春" else "autumn")
    return f"{match['year']}-{season}"


def term_key(term: str) -> tuple[int, int]:
    """Terms order by year, then spring before autumn (`2021-autumn` < `2022-spring`)."""
    year, season = normalise_term(term).split("-")
    return int(year), 0 if season == "spring" else 1


def term_start(term: str) -> date:
    year, season = term_key(term)
    return date(year, 3 if season == 0 else 9, 1)


def check_term_plausible(term: str, *, birth_date: date | None, today: date) -> None:
    """An enrolment term lies between the student's tenth birthday and the next term."""
    start = term_start(term)
    latest = date(today.year + 1, 9, 1)
    too_early = birth_date is not None and start.year < birth_date.year + 10
    if start > latest or too_early:
        raise ENROLMENT_TERM_OUT_OF_RANGE(
            "enrolment_term is not plausible: later than next year or before the student was ten.",
            message_zh="入学年度学期不合理（晚于下一学期或早于学生十岁）",
        )
