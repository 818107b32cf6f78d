"""What an audit looks at and what it finds: a student's facts, the grants (exceptions) in force,
the options the university chose, and the checks with their outcomes. Plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from gradops_audit.domain.checks import BLOCKING_GROUPS, CATALOGUE, Outcome

GROUPS = {code: text.group for code, text in CATALOGUE.items()}


class Course(NamedTuple):
    """A tuple, not a frozen dataclass: a batch builds millions of them."""

    code: str
    name: str
    credits: float
    category: Literal["required", "elective", "practice", "thesis"]
    score: float | None = None
    passed: bool | None = None  # for pass/fail courses without a score
    published: bool = True


@dataclass(frozen=True)
class Transcript:
    courses: tuple[Course, ...] = field(default=(), repr=False)
    thesis_score: float | None = None
    thesis_similarity: float | None = None  # percent
    english_exam: str | None = None
    english_score: float | None = None
    english_passed: bool | None = None
    # Stands for the courses in the digest (and repr): the caller may pass a cheap one it already
    # has (the stored JSON's repr); otherwise it is derived from the courses.
    fingerprint: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", repr(self.courses))


@dataclass(frozen=True)
class StudentFacts:
    student_no: str
    known: bool
    status: str | None
    level: str | None
    category: str | None = None
    major: str | None = None
    enrolment_term: str | None = None
    formal_status: bool = True
    identity_in_doubt: bool = False
    graduation_photo_approved: bool = False
    chsi_admission_photo: bool = False
    chsi_graduation_photo: bool = False
    photo_in_doubt: bool = False
    secondary_vocational_proof: str | None = None
    transcript: Transcript | None = None


@dataclass(frozen=True)
class Grant:
    """An exception (例外) granted to one student: waive a check or substitute a course."""

    id: str
    kind: Literal["waive_check", "substitute_course"]
    check_code: str | None = None
    course_code: str | None = None
    substitute_code: str | None = None


@dataclass(frozen=True)
class Options:
    check_chsi_photos: bool = False
    secondary_vocational_categories: frozenset[str] = frozenset()
    with_degree: bool = False


class CheckResult(NamedTuple):
    code: str
    outcome: Outcome
    measured: Any = None
    expected: Any = None
    missing: list[str] | None = None
    exception_id: str | None = None

    @property
    def group(self) -> str:
        return GROUPS[self.code]

    @property
    def passed(self) -> bool:
        return self.outcome != "failed"


@dataclass(frozen=True)
class GrantUse:
    id: str
    status: Literal["applied", "not_needed", "lapsed"]
    note_zh: str
    note_en: str


@dataclass(frozen=True)
class AuditResult:
    checks: list[CheckResult]
    grants: list[GrantUse] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Graduation: no failed eligibility or graduation check. Degree checks never block it."""
        return all(c.passed for c in self.checks if c.group in BLOCKING_GROUPS)

    @property
    def meets_graduation_conditions(self) -> bool:
        return all(c.passed for c in self.checks if c.group == "graduation")

    @property
    def degree_eligible(self) -> bool | None:
        degree = [c for c in self.checks if c.group == "degree"]
        return all(c.passed for c in degree) if degree else None

    @property
    def failed_codes(self) -> list[str]:
        return [c.code for c in self.checks if not c.passed]
