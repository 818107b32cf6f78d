"""Transcripts from the LMS."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gradops_audit.schemas.common import (
    CourseCategory,
    Line,
    RequiredLine,
    StudentNo,
    _In,
)


class CourseIn(_In):
    code: RequiredLine = Field(min_length=1, max_length=64)
    name: RequiredLine = Field(min_length=1, max_length=200)
    credits: float = Field(ge=0, le=100)
    category: CourseCategory
    score: float | None = Field(None, ge=0, le=100)
    passed: bool | None = Field(None, description="For pass/fail courses without a score.")
    published: bool = Field(True, description="Whether the grade is published (成绩已发布).")


class ThesisIn(_In):
    score: float | None = Field(None, ge=0, le=100)
    similarity: float | None = Field(None, ge=0, le=100, description="Similarity check result, percent.")


class DegreeEnglishIn(_In):
    exam: RequiredLine = Field(
        min_length=1,
        max_length=40,
        description="ouc_degree_english | adult_degree_english | pets3 | cet4 | …",
    )
    score: float | None = Field(None, ge=0, le=1000)
    passed: bool


TRANSCRIPT_EXAMPLE: dict[str, JsonValue] = {
    "courses": [
        {"code": "01234", "name": "机械制图", "credits": 4, "category": "required", "score": 82},
        {"code": "05678", "name": "专业综合实践", "credits": 6, "category": "practice", "passed": True},
    ],
    "thesis": {"score": 78, "similarity": 12.5},
    "degree_english": {"exam": "ouc_degree_english", "score": 68, "passed": True},
}


class TranscriptIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [TRANSCRIPT_EXAMPLE]})

    courses: list[CourseIn] = Field(default_factory=list, max_length=500)
    thesis: ThesisIn | None = None
    degree_english: DegreeEnglishIn | None = None
    source: Line = Field("lms", max_length=100, description="Which platform sent it.")


class TranscriptItemIn(TranscriptIn):
    student_no: StudentNo


class TranscriptBulkIn(_In):
    transcripts: list[TranscriptItemIn] = Field(min_length=1, max_length=5000)


class TranscriptOut(BaseModel):
    student_no: str
    courses: list[CourseIn]
    thesis: ThesisIn | None
    degree_english: DegreeEnglishIn | None
    source: str
    updated_by: str
    updated_at: datetime


class TranscriptBulkOut(BaseModel):
    count: int
    reaudited: int
