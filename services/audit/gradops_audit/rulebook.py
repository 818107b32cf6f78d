"""The rule sets in force: the shipped ones plus the versions a university stored."""

from __future__ import annotations

from dataclasses import dataclass

from gradops_audit.domain.rules import (
    SHIPPED_DEGREE,
    SHIPPED_GRADUATION,
    DegreeRules,
    GraduationRules,
    select_graduation_rules,
)
from gradops_audit.repository import AuditRepository


@dataclass
class RuleBook:
    graduation: list[GraduationRules]
    degree: DegreeRules

    def graduation_rules_for(
        self, *, level: str | None, category: str | None, major: str | None, enrolment_term: str | None
    ) -> GraduationRules | None:
        return select_graduation_rules(
            self.graduation, level=level, category=category, major=major, enrolment_term=enrolment_term
        )


def shipped_degree(code: str) -> DegreeRules:
    return max((r for r in SHIPPED_DEGREE if r.code == code), key=lambda r: r.version)


async def load_rule_book(repo: AuditRepository, degree_code: str) -> RuleBook:
    stored = [GraduationRules.from_data(r.code, r.version, r.data) for r in await repo.rule_set_versions()]
    return RuleBook(graduation=[*SHIPPED_GRADUATION, *stored], degree=shipped_degree(degree_code))
