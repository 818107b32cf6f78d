"""Working days for the replacement SLA: Monday to Friday, less the configured public holidays,
plus the weekend days made working days (调休). Kept simple on purpose: the list is configuration."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: Collection[date] = field(default_factory=frozenset)
    makeup_working_days: Collection[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The day on which `days` working days after `start` have passed (start itself not counted)."""
        day = start
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(n)))
