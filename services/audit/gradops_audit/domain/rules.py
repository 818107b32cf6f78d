"""Rule sets as versioned data: what a student must have to graduate, and to get a degree.

A graduation rule set applies to a level, optionally narrowed to a student category, a major and
the cohorts enrolled from a term on; the most specific one wins. A version, once used by an audit,
never changes: a change is a new version (the audit names the code and version it used).
Degree thresholds are per university: it chooses one degree rule set in settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gradops_audit.domain.batches import term_key

COURSE_CATEGORIES = ("required", "elective", "practice", "thesis")


@dataclass(frozen=True)
class GraduationRules:
    code: str
    version: int
    level: str
    category: str | None = None
    major: str | None = None
    from_term: str | None = None  # cohorts enrolled in this term or later; None = every cohort
    min_total_credits: float = 0
    min_credits: dict[str, float] = field(default_factory=dict)  # by course category
    required_courses: tuple[str, ...] = ()  # course codes every student must pass, beyond the plan's
    practice_grades_published: bool = True
    thesis_required: bool = False
    thesis_min_score: float = 60
    pass_score: float = 60
    description: str = ""

    def as_data(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "category": self.category,
            "major": self.major,
            "from_term": self.from_term,
            "min_total_credits": self.min_total_credits,
            "min_credits": dict(self.min_credits),
            "required_courses": list(self.required_courses),
            "practice_grades_published": self.practice_grades_published,
            "thesis_required": self.thesis_required,
            "thesis_min_score": self.thesis_min_score,
            "pass_score": self.pass_score,
            "description": self.description,
        }

    @classmethod
    def from_data(cls, code: str, version: int, data: dict[str, Any]) -> GraduationRules:
        return cls(
            code=code,
            version=version,
            level=data["level"],
            category=data.get("category"),
            major=data.get("major"),
            from_term=data.get("from_term"),
            min_total_credits=float(data.get("min_total_credits", 0)),
            min_credits={k: float(v) for k, v in (data.get("min_credits") or {}).items()},
            required_courses=tuple(data.get("required_courses") or ()),
            practice_grades_published=bool(data.get("practice_grades_published", True)),
            thesis_required=bool(data.get("thesis_required", False)),
            thesis_min_score=float(data.get("thesis_min_score", 60)),
            pass_score=float(data.get("pass_score", 60)),
            description=str(data.get("description", "")),
        )


@dataclass(frozen=True)
class DegreeRules:
    code: str
    version: int
    required_average_min: float
    thesis_min: float
    similarity_max: float | None = None  # percent; None = not checked
    english_required: bool = True
    accepted_english_exams: tuple[str, ...] | None = None  # None = any exam recorded as passed
    english_min_scores: dict[str, float] = field(default_factory=dict)  # e.g. CET-4 ≥ 425
    excluded_course_names: tuple[str, ...] = ()  # left out of the required-course average
    description: str = ""


DEGREE_LEVELS = frozenset({"bachelor", "bachelor_from_junior_college"})

# Shipped graduation rule sets (version 1). Credits follow the open-education plans the notices
# describe: 专科 76 credits, 专科起点本科 71 with a thesis, 本科 160 with a thesis. Each level's plan
# lists its required courses on the transcript; the check demands every one of them passed.
SHIPPED_GRADUATION: tuple[GraduationRules, ...] = (
    GraduationRules(
        "default-junior-college",
        version=1,
        level="junior_college",
        min_total_credits=76,
        min_credits={"practice": 4},
        description="专科：总学分 ≥ 76，实践 ≥ 4，必修课全部通过，实践成绩已发布",
    ),
    GraduationRules(
        "default-bachelor-from-junior-college",
        version=1,
        level="bachelor_from_junior_college",
        min_total_credits=71,
        min_credits={"practice": 4},
        thesis_required=True,
        description="专科起点本科：总学分 ≥ 71，实践 ≥ 4，必修课全部通过，毕业论文 ≥ 60",
    ),
    GraduationRules(
        "default-bachelor",
        version=1,
        level="bachelor",
        min_total_credits=160,
        min_credits={"practice": 8},
        thesis_required=True,
        description="本科：总学分 ≥ 160，实践 ≥ 8，必修课全部通过，毕业论文 ≥ 60",
    ),
)

SHIPPED_DEGREE: tuple[DegreeRules, ...] = (
    DegreeRules(
        "degree-notices-70",
        version=1,
        required_average_min=70,
        thesis_min=70,
        description="通知口径：专业必修课平均分 ≥ 70，论文 ≥ 70，学位英语通过",
    ),
    DegreeRules(
        "degree-ouc-national",
        version=1,
        required_average_min=75,
        thesis_min=80,
        similarity_max=30,
        accepted_english_exams=("ouc_degree_english", "adult_degree_english", "pets3", "cet4"),
        english_min_scores={"cet4": 425},
        excluded_course_names=("学习指南",),
        description=(
            "国开细则：必修课平均分 ≥ 75（不含学习指南），论文 ≥ 80，查重 ≤ 30%，"
            "学位英语/成人学位英语/PETS-3/CET-4 ≥ 425"
        ),
    ),
)


def _specificity(rules: GraduationRules) -> tuple[int, int, tuple[int, int]]:
    return (
        int(rules.major is not None),
        int(rules.category is not None),
        term_key(rules.from_term) if rules.from_term else (0, 0),
    )


def select_graduation_rules(
    candidates: list[GraduationRules],
    *,
    level: str | None,
    category: str | None,
    major: str | None,
    enrolment_term: str | None,
) -> GraduationRules | None:
    """The rule set of the student's cohort: same level; category, major and cohort when the rule set
    names them; the most specific wins; among versions of one code, the latest."""
    latest: dict[str, GraduationRules] = {}
    for rules in candidates:
        if rules.code not in latest or rules.version > latest[rules.code].version:
            latest[rules.code] = rules
    fitting = [
        r
        for r in latest.values()
        if r.level == level
        and (r.category is None or r.category == category)
        and (r.major is None or r.major == major)
        and (
            r.from_term is None
            or (enrolment_term is not None and term_key(r.from_term) <= term_key(enrolment_term))
        )
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda r: (_specificity(r), r.code))


def shipped_degree(code: str) -> DegreeRules:
    """The latest shipped version of a degree rule set."""
    return max((r for r in SHIPPED_DEGREE if r.code == code), key=lambda r: r.version)


@dataclass
class RuleBook:
    """The rule sets in force: the shipped ones plus the versions a university stored."""

    graduation: list[GraduationRules]
    degree: DegreeRules

    @classmethod
    def of(cls, stored: list[GraduationRules], degree_code: str) -> RuleBook:
        return cls(graduation=[*SHIPPED_GRADUATION, *stored], degree=shipped_degree(degree_code))

    def graduation_rules_for(
        self, *, level: str | None, category: str | None, major: str | None, enrolment_term: str | None
    ) -> GraduationRules | None:
        return select_graduation_rules(
            self.graduation, level=level, category=category, major=major, enrolment_term=enrolment_term
        )


def is_shipped(code: str) -> bool:
    """A shipped rule set's code (graduation or degree): never stored over."""
    return code in {r.code for r in SHIPPED_GRADUATION} | {r.code for r in SHIPPED_DEGREE}


@dataclass(frozen=True)
class RuleSetEntry:
    """One version of a rule set as the list shows it."""

    code: str
    version: int
    kind: Literal["graduation", "degree"]
    source: Literal["shipped", "stored"]
    in_use: bool
    data: dict[str, Any]

    @property
    def key(self) -> tuple[int, str, int]:
        """Its place in the list: graduation first, then degree; by code, then version."""
        return (0 if self.kind == "graduation" else 1, self.code, self.version)


def rule_set_entries(stored: list[GraduationRules], degree_code: str) -> list[RuleSetEntry]:
    """Every graduation rule set version (shipped and stored), then every degree rule set, in order.
    A graduation version is in use when it is the latest of its code; a degree rule set when it is
    the university's choice."""
    graduation = [*SHIPPED_GRADUATION, *stored]
    latest: dict[str, int] = {}
    for rules in graduation:
        latest[rules.code] = max(latest.get(rules.code, 0), rules.version)
    shipped_codes = {r.code for r in SHIPPED_GRADUATION}
    entries = [
        RuleSetEntry(
            code=r.code,
            version=r.version,
            kind="graduation",
            source="shipped" if r.code in shipped_codes else "stored",
            in_use=latest[r.code] == r.version,
            data=r.as_data(),
        )
        for r in graduation
    ]
    entries += [
        RuleSetEntry(
            code=d.code,
            version=d.version,
            kind="degree",
            source="shipped",
            in_use=d.code == degree_code,
            data={k: v for k, v in asdict(d).items() if k not in ("code", "version")},
        )
        for d in SHIPPED_DEGREE
    ]
    return sorted(entries, key=lambda e: e.key)
