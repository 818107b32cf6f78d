from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Gender = Literal["male", "female"]
IdType = Literal["resident_id", "passport", "military_officer", "soldier", "other"]
Level = Literal["junior_college", "bachelor_from_junior_college", "bachelor"]
Status = Literal["enrolled", "suspended", "withdrawn", "cancelled", "graduated"]

STUDENT_EXAMPLE: dict[str, JsonValue] = {
    "name": "张三",
    "gender": "female",
    "birth_date": "1949-12-31",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "learning_centre": "5135701",
    "level": "junior_college",
    "category": "open_education",
    "major": "机电一体化技术",
    "enrolment_term": "2021-spring",
    "study_form": "part_time",
    "status": "enrolled",
}


class StudentIn(BaseModel):
    """The student record as a partner sends it (PUT creates or replaces)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [STUDENT_EXAMPLE]}
    )

    name: str = Field(min_length=1, max_length=100)
    gender: Gender
    birth_date: date | None = None
    id_type: IdType = "resident_id"
    id_number: str = Field(min_length=4, max_length=32)
    learning_centre: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
    level: Level
    category: str = Field(min_length=1, max_length=64)
    major: str = Field(min_length=1, max_length=100)
    enrolment_term: str = Field(description="2021-spring | 2021-autumn | 2021春 | 2021秋")
    study_form: str = Field(min_length=1, max_length=32)
    status: Status = "enrolled"


class StudentOut(BaseModel):
    student_no: str
    name: str
    gender: Gender
    birth_date: date | None
    id_type: IdType
    id_number_masked: str = Field(description="Masked: only the last 4 characters are shown.")
    learning_centre: str
    level: Level
    category: str
    major: str
    enrolment_term: str
    study_form: str
    status: Status
    status_label_zh: str
    version: int
    created_at: datetime
    updated_at: datetime


class StatusChangeOut(BaseModel):
    from_status: Status | None
    to_status: Status
    reason: str
    effective_date: date
    actor: str
    created_at: datetime
