"""The audit's use cases, one module per topic. Each takes the unit of work's session (plus the
principal, settings and inputs), builds the repository, calls the domain, adds outbox events and
only flushes: the edge (a request, a consumer message) commits.

- `batches`: graduation batches. `transcripts`: transcripts from the LMS. `students`: the student
  projection and who may see whom. `exceptions`: waived checks and substituted courses.
  `rule_sets`: stored graduation rule sets. `audits`: reading runs, diffs, what-if.
- `evaluation`: rows → facts → one student's evaluation. `auditing`: auditing applications in bulk.
- `applications`: applying in a batch. `sign_offs`: HQ's sign-off (and the wait for a re-audit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One cursor page of a list: its items, the cursor after them (None on the last page), and how
    many items the whole list holds."""

    items: Sequence[T]
    next_cursor: str | None
    count: int
