"""What a search of the roster asks for (a value object the repository turns into a query)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudentFilters:
    centres: frozenset[str] | None = None  # None: every centre (HQ); empty: none at all
    status: str | None = None
    level: str | None = None
    major: str | None = None
    enrolment_term: str | None = None
    class_code: str | None = None
    name_prefix: str | None = None
    student_no: str | None = None
    id_number_hash: str | None = None
