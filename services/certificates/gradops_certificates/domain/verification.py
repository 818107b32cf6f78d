"""What public verification may say (masked name, school, level, major, graduation date) and how a
name is compared. A wrong name must read exactly like an unknown number."""

from __future__ import annotations

import unicodedata
from typing import Literal

VerificationResult = Literal["valid", "superseded", "revoked", "unknown"]


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


def result_of(status: str) -> VerificationResult:
    return status if status in ("valid", "superseded", "revoked") else "unknown"  # type: ignore[return-value]
