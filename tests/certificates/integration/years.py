"""Number years for the integration tests: each test gets a year of its own in this run, so two tests
never share a serial series (a random year each collided 1 time in 800 and made a gapless-series test
see another test's certificates). The database is recreated per run, so a run starts anywhere."""

from __future__ import annotations

import itertools
import uuid

_YEARS = itertools.count(2100 + uuid.uuid4().int % 700)


def unique_year() -> int:
    return next(_YEARS)
