"""One cursor page of a list: its items and the cursor of the next page (None on the last page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(rows: Sequence[T], limit: int, cursor_after: Callable[[T], str]) -> Page[T]:
    """`rows` were fetched with `limit + 1`: one more than the page means another page follows."""
    items = list(rows[:limit])
    return Page(items, cursor_after(items[-1]) if len(rows) > limit else None)
