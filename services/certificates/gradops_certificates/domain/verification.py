"""What public verification may say (masked name, school, level, major, graduation date) and how a
name is compared. A wrong name must read exactly like an unknown number."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Literal

# `not_yet_valid`: a valid certificate asked about before its issue date (the day its registration
# becomes queryable, rule of 2014 art. 18); it must not read as valid yet.
VerificationResult = Literal["valid", "superseded", "revoked", "unknown", "not_yet_valid"]


def normalise_name(name: str) -> str:
    # Full-width letters, stray spaces and the middle dot of minority names (·/•) compare equal.
    text = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in text if not ch.isspace()).replace("•", "·").casefold()


def names_match(given: str, registered: str) -> bool:
    return bool(given.strip()) and normalise_name(given) == normalise_name(registered)


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳明 → 欧*明, 欧阳明月 → 欧**月: enough to recognise, not to learn the name."""
    chars = list(name.strip())
    if len(chars) <= 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def result_of(status: str, issue_date: date | None = None, today: date | None = None) -> VerificationResult:
    """The public answer for a certificate's status; a valid one is `not_yet_valid` before its issue
    date (superseded and revoked say so whatever the date)."""
    if status == "valid":
        if issue_date is not None and today is not None and today < issue_date:
            return "not_yet_valid"
        return "valid"
    if status == "superseded":
        return "superseded"
    if status == "revoked":
        return "revoked"
    return "unknown"
