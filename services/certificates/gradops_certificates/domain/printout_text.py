"""What the documents say, as plain data: the CHSI registration row (rule of 2014: name, gender,
birth date, photo, start and end of study, major, level, duration, 毕业/结业, study form, school,
principal, certificate number) and the wording of the 毕业证明书. Rendering is elsewhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

GENDER_ZH = {"male": "男", "female": "女"}
LEVEL_ZH = {"junior_college": "专科", "bachelor": "本科", "bachelor_from_junior_college": "专科起点本科"}
STUDY_FORM_ZH = {
    "part_time": "业余",
    "full_time": "全日制",
    "distance": "网络",
    "online": "网络",
    "correspondence": "函授",
    "evening": "业余",
}
KIND_ZH = {"diploma": "毕业证书", "degree": "学位证书", "replacement": "毕业证明书"}
_TERM = re.compile(r"^(?P<year>\d{4})(?:-(?P<season>spring|autumn)|(?P<zh>[春秋]))$")

CHSI_COLUMNS: tuple[tuple[str, str], ...] = (
    ("student_no", "学号"),
    ("exam_no", "考生号"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("photo", "照片"),
    ("study_start", "入学日期"),
    ("study_end", "毕业日期"),
    ("major", "专业"),
    ("level", "层次"),
    ("duration", "学制"),
    ("completion", "毕（结）业"),
    ("study_form", "学习形式"),
    ("school_name", "学校名称"),
    ("principal_name", "校长姓名"),
    ("certificate_number", "证书编号"),
    ("learning_centre", "学习中心"),
    ("missing", "缺项"),
)
# The fields the rule requires; a row missing any of them is not ready to be registered.
REQUIRED = (
    "name",
    "gender",
    "birth_date",
    "photo",
    "study_start",
    "study_end",
    "major",
    "level",
    "duration",
    "completion",
    "study_form",
    "school_name",
    "principal_name",
    "certificate_number",
)
COLUMN_ZH = dict(CHSI_COLUMNS)


def study_start(term: str) -> date | None:
    """2021-spring / 2021春 → 2021-03-01; autumn → 09-01 (the terms' usual first month)."""
    match = _TERM.match(term.strip()) if term else None
    if not match:
        return None
    spring = match["season"] == "spring" or match["zh"] == "春"
    return date(int(match["year"]), 3 if spring else 9, 1)


def duration_text(years: float | None) -> str:
    if years is None:
        return ""
    return f"{years:g}年"


@dataclass(frozen=True)
class StudentFacts:
    student_no: str
    name: str
    gender: str
    birth_date: date | None
    major: str
    level: str
    study_form: str
    enrolment_term: str
    duration_years: float | None
    exam_no: str | None
    learning_centre: str
    photo_submission_id: str | None
    photo_sha256: str | None


def chsi_row(
    facts: StudentFacts | None,
    *,
    student_no: str,
    certificate_number: str,
    level: str,
    graduation_date: date,
    school_name: str,
    principal_name: str,
) -> dict[str, str]:
    """One registration row; `missing` lists (in Chinese) what the rule requires and we lack."""
    start = study_start(facts.enrolment_term) if facts else None
    row = {
        "student_no": student_no,
        "exam_no": (facts.exam_no or "") if facts else "",
        "name": facts.name if facts else "",
        "gender": GENDER_ZH.get(facts.gender, "") if facts else "",
        "birth_date": facts.birth_date.isoformat() if facts and facts.birth_date else "",
        # The photo reference: the approved graduation photo's submission and content hash.
        "photo": (
            f"{facts.photo_submission_id}:{facts.photo_sha256}"
            if facts and facts.photo_submission_id and facts.photo_sha256
            else ""
        ),
        "study_start": start.isoformat() if start else "",
        "study_end": graduation_date.isoformat(),
        "major": facts.major if facts else "",
        "level": LEVEL_ZH.get(level, level),
        "duration": duration_text(facts.duration_years) if facts else "",
        "completion": "毕业",
        "study_form": STUDY_FORM_ZH.get(facts.study_form, facts.study_form) if facts else "",
        "school_name": school_name,
        "principal_name": principal_name,
        "certificate_number": certificate_number,
        "learning_centre": facts.learning_centre if facts else "",
    }
    row["missing"] = "、".join(COLUMN_ZH[field] for field in REQUIRED if not row[field])
    return row


def _month(day: date) -> str:
    return f"{day.year}年{day.month}月"


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def proof_paragraphs(
    facts: StudentFacts,
    *,
    original_number: str,
    reason: str,
    graduation_date: date,
    level: str,
    school_name: str,
    principal_name: str,
    number: str,
    issued_on: date,
) -> list[str]:
    """The 毕业证明书: name, gender, birth date, month of completion, programme and duration, major,
    the original certificate number, principal, school and date (domain spec)."""
    start = study_start(facts.enrolment_term)
    period = (
        f"于{_month(start)}至{_month(graduation_date)}" if start else f"于{_month(graduation_date)}毕业前"
    )
    birth = f"，{_day(facts.birth_date)}生" if facts.birth_date else ""
    duration = f"，学制{duration_text(facts.duration_years)}" if facts.duration_years is not None else ""
    return [
        f"补证号：{number}",
        f"学生{facts.name}，性别{GENDER_ZH.get(facts.gender, '')}{birth}，"
        f"{period}在本校{facts.major}专业{LEVEL_ZH.get(level, level)}学习{duration}，"
        "修完教学计划规定的全部课程，成绩合格，准予毕业。",
        f"原毕业证书编号：{original_number}（因{reason}补发）。",
        "本证明书与原毕业证书具有同等效力。",
        "特此证明。",
        f"校长：{principal_name}",
        school_name,
        _day(issued_on),
    ]
