"""Working days (工作日) as Chinese offices count them: Monday to Friday, minus public holidays, plus the
make-up working days (调休) that fall on weekends. Pure, no I/O; the holidays come from settings.

Deadlines such as "review within 2 working days" are counted on the calendar of Beijing time, so a
photo submitted on Friday 23:30 Beijing time (15:30 UTC) is due on Tuesday, not on Monday.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, holidays: Iterable[date] = (), makeup_workdays: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(makeup_workdays))

    def is_workday(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_workdays(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself is not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = day
        remaining = count
        while remaining:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def deadline(self, start: datetime, workdays: int) -> datetime:
        """End of the `workdays`-th working day after `start` (23:59:59.999999 Beijing time), in UTC's
        zone of `start`. Something started on a holiday still gets full working days."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        local_day = start.astimezone(CHINA).date()
        last_day = self.add_workdays(local_day, workdays)
        end_local = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), CHINA)
        return (end_local - timedelta(microseconds=1)).astimezone(start.tzinfo)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.workdays_between(end, start)
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_workday(start + timedelta(days=n)))
