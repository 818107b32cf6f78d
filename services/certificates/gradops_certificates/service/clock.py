"""The university's calendar day: an issue date or a distribution date is a day in China."""

from __future__ import annotations

from datetime import date, datetime

from gradops_shared.workdays import CHINA


def china_today() -> date:
    """Today at the university. UTC would be a day behind every morning before 08:00 in China, so a
    certificate issued today would read as not yet valid and today's handover as in the future."""
    return datetime.now(CHINA).date()
