"""The check report: one entry per check, each saying what was measured, what was expected and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

# error: the photo fails; warning: worth fixing, does not fail; review: a human must look (a best-effort
# check that could not decide, or found something a machine should not judge alone).
Severity = Literal["error", "warning", "review"]

# The stable codes, in report order (part of the contract with the mini-program; the API schema uses
# the same Literal).
CheckCode = Literal[
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
]
CHECK_CODES: tuple[str, ...] = get_args(CheckCode)


# One line per code for the API documentation (the README has the full table).
CHECK_MEANINGS: dict[str, str] = {
    "photo.format": "a real, complete JPEG by its bytes; quality factor at least the profile's minimum",
    "photo.colour_mode": "24-bit RGB with colour in the pixels (not CMYK, not greyscale)",
    "photo.dimensions": "exactly the profile's pixel size (480×640)",
    "photo.file_size": "inside the profile's KB window",
    "photo.dpi": "the profile's dpi in the header (300)",
    "photo.background_colour": "background (above and beside the head) close to an allowed colour",
    "photo.background_uniformity": "no shadows, gradients, creases or objects in the background",
    "photo.face_count": "exactly one face",
    "photo.face_size": "face width (cheek to cheek) within the profile's band",
    "photo.face_position": "head top, eye line and horizontal centre within the profile's bands",
    "photo.head_pose": "head upright (roll) and facing the camera (yaw, pitch estimated)",
    "photo.eyes_open": "both eyes open",
    "photo.mouth_closed": "mouth closed",
    "photo.sharpness": "the face is in focus",
    "photo.exposure": "face neither too dark nor too bright, not clipped, evenly lit left and right",
    "photo.clothing_contrast": "clothes not in the background's colour family",
    "photo.glasses": "no glasses (best effort: review when unsure)",
    "photo.ears_eyebrows_visible": "eyebrows and ears not covered by hair (best effort: review when unsure)",
    "photo.same_as_admission": "not the same picture as the admission photo (with admission_photo)",
    "photo.face_match": "the same person as in the admission photo (with admission_photo)",
}


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
