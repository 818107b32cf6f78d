"""Turns a StudentIn into the record's normalised fields, collecting every field's problem at once
(the API answers them all in `errors[]`; the import reports them per row and column)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from gradops_registry import domain
from gradops_registry.errors import BIRTH_DATE_FUTURE, problem
from gradops_registry.schemas import StudentIn
from gradops_shared.errors import InvalidInput

T = TypeVar("T")

# Columns of `students` a client writes (the rest are derived or owned by workflows).
RECORD_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_type",
    "learning_centre",
    "level",
    "category",
    "major",
    "enrolment_term",
    "study_form",
    "former_name",
    "ethnicity",
    "political_status",
    "exam_no",
    "class_code",
    "duration_years",
    "education_type",
    "expected_graduation_date",
    "mobile",
    "email",
    "work_unit",
)


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str
    message_en: str
    message_zh: str


@dataclass
class ValidatedRecord:
    fields: dict[str, Any]
    id_number: str
    problems: list[FieldProblem] = field(default_factory=list)

    def raise_if_invalid(self) -> None:
        if not self.problems:
            return
        first = self.problems[0]
        raise problem(first.code)(
            "; ".join(f"{p.field}: {p.message_en}" for p in self.problems),
            message_zh="；".join(p.message_zh for p in self.problems),
            extra={
                "errors": [
                    {"field": p.field, "in": "body", "type": p.code, "message": p.message_en}
                    for p in self.problems
                ]
            },
        )


def validate_record(payload: StudentIn, *, today: date) -> ValidatedRecord:
    fields: dict[str, Any] = payload.model_dump(include=set(RECORD_FIELDS))
    problems: list[FieldProblem] = []

    def check(field_name: str, rule: Callable[[], T]) -> T | None:
        try:
            return rule()
        except InvalidInput as exc:
            problems.append(FieldProblem(field_name, exc.code, exc.detail, exc.message_zh))
            return None

    term = check("enrolment_term", lambda: domain.normalise_term(payload.enrolment_term))
    fields["enrolment_term"] = term
    fields["category"] = check("category", lambda: domain.normalise_code("category", payload.category))
    fields["study_form"] = check(
        "study_form", lambda: domain.normalise_code("study_form", payload.study_form)
    )
    if payload.education_type is not None:
        education_type = payload.education_type
        fields["education_type"] = check(
            "education_type", lambda: domain.normalise_code("education_type", education_type)
        )

    number = payload.id_number.strip().upper()
    if payload.id_type == "resident_id":
        resident_id = check("id_number", lambda: domain.parse_resident_id(payload.id_number, today=today))
        if resident_id is not None:
            number = resident_id.number
            check(
                "birth_date",
                lambda: domain.check_identity_consistency(
                    resident_id, birth_date=payload.birth_date, gender=None
                ),
            )
            check(
                "gender",
                lambda: domain.check_identity_consistency(
                    resident_id, birth_date=None, gender=payload.gender
                ),
            )
            fields["birth_date"] = payload.birth_date or resident_id.birth_date
    else:
        normalised = check("id_number", lambda: domain.normalise_other_id(payload.id_type, payload.id_number))
        number = normalised or number

    if term is not None:
        check(
            "enrolment_term",
            lambda: domain.check_term_plausible(term, birth_date=fields["birth_date"], today=today),
        )
    if payload.birth_date is not None and payload.birth_date > today:
        problems.append(
            FieldProblem(
                "birth_date", BIRTH_DATE_FUTURE.code, "birth_date is in the future.", "出生日期晚于今天"
            )
        )
    return ValidatedRecord(fields=fields, id_number=number, problems=problems)
