"""The check report: one entry per check, each saying what was measured, what was expected and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

# error: the photo fails; warning: worth fixing, does not fail; review: a human must look (a best-effort
# check that could not decide, or found something a machine should not judge alone).
Severity = Literal["error", "warning", "review"]

# The stable codes, in report order (part of the contract with the mini-program).
CHECK_CODES: tuple[str, ...] = (
    "photo.format",
    "photo.colour_mode",
    "photo.dimensions",
    "photo.file_size",
    "photo.dpi",
    "photo.background_colour",
    "photo.background_uniformity",
    "photo.face_count",
    "photo.face_size",
    "photo.face_position",
    "photo.head_pose",
    "photo.eyes_open",
    "photo.mouth_closed",
    "photo.sharpness",
    "photo.exposure",
    "photo.clothing_contrast",
    "photo.glasses",
    "photo.ears_eyebrows_visible",
    "photo.same_as_admission",
    "photo.face_match",
)


@dataclass(frozen=True)
class Check:
    code: str
    passed: bool
    measured: Any
    expected: Any
    severity: Severity
    fixable: bool
    message_zh: str
    message_en: str
    hint: str | None = None  # what to do, in Chinese (the mini-program's language)
    hint_en: str | None = None  # the same in English

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QcReport:
    profile: str
    checks: tuple[Check, ...]
    decodable_jpeg: bool

    @property
    def passed(self) -> bool:
        """No failed `error` and no failed `review`: a photo a human must look at has not passed yet."""
        return all(c.passed or c.severity == "warning" for c in self.checks)

    @property
    def rejected(self) -> bool:
        """Fails automatically: at least one `error` check failed."""
        return any(not c.passed and c.severity == "error" for c in self.checks)

    def failed_codes(self, *severities: Severity) -> list[str]:
        wanted = severities or ("error", "warning", "review")
        return [c.code for c in self.checks if not c.passed and c.severity in wanted]

    def check(self, code: str) -> Check | None:
        return next((c for c in self.checks if c.code == code), None)

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "profile": self.profile, "checks": [c.as_dict() for c in self.checks]}
