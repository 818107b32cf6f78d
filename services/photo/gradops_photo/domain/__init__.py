"""Photo rules: the submission state machine and which QC outcome decides it. Pure, no I/O.

The QC checks themselves live in the `gradops_photo.qc` package (one function per check); the rest of
the pure rules sit beside this module: `archive` (reading an import zip safely), `capture` (collection
codes and session tokens), `chsi` (the CHSI-state CSV) and `proofreading` (the feedback sheet and the
completion figures).

States (external.md 3.1, one submission = one picture):

    submitted -> auto_rejected (QC failed) | pending_review
    pending_review -> approved | rejected | superseded (a newer upload replaced it before review)
    rejected -> expired (no new upload within the resubmit window: "counts as not taken")
    approved -> on_chsi (registrar: CHSI holds it) | chsi_rejected | reopened (operator, free re-take)
    on_chsi -> chsi_rejected (CHSI face comparison failed: a new photo is needed) | reopened

`approved` and `on_chsi` lock the student's photo of that kind: no new upload replaces it until an
operator re-opens it. Every other end state lets the student upload again.
"""

from __future__ import annotations

from typing import Literal

from gradops_photo.errors import ILLEGAL_TRANSITION
from gradops_photo.qc.report import CHECK_CODES, QcReport

State = Literal[
    "submitted",
    "auto_rejected",
    "pending_review",
    "approved",
    "rejected",
    "expired",
    "superseded",
    "on_chsi",
    "chsi_rejected",
    "reopened",
]

_TRANSITIONS: dict[str, set[str]] = {
    "submitted": {"auto_rejected", "pending_review"},
    "pending_review": {"approved", "rejected", "superseded"},
    "rejected": {"expired"},
    "approved": {"on_chsi", "chsi_rejected", "reopened"},
    "on_chsi": {"chsi_rejected", "reopened"},
}

# A photo in these states is the student's photo: a new upload of the same kind is refused.
LOCKED_STATES = frozenset({"approved", "on_chsi"})
# The student "has a photo" (bulk import without overwrite skips them).
HAS_PHOTO_STATES = frozenset({"pending_review", "approved", "on_chsi"})
CHSI_STATES = ("on_chsi", "chsi_rejected")

# Reasons a reviewer may give: every QC check code plus what only a human sees (the notices'
# "三平四正五不拍" list). Free text goes in the comment.
REVIEW_REASONS: dict[str, str] = {
    **{code: "QC check" for code in CHECK_CODES},
    "photo.background_not_blue": "背景不是蓝色",
    "photo.background_objects": "背景有杂物、褶皱或阴影",
    "photo.glasses_reflective": "眼镜反光或佩戴有色眼镜、美瞳",
    "photo.accessories": "佩戴耳环、项链、头饰",
    "photo.hair_covers_face": "头发遮挡耳朵或眉毛、发型凌乱",
    "photo.clothing_blue_or_striped": "服装与背景同色系或有条纹",
    "photo.heavy_makeup": "浓妆",
    "photo.retouched": "美颜或修图",
    "photo.selfie": "手持自拍",
    "photo.not_same_person": "与入学照片不是同一人",
    "photo.other": "其他（见说明）",
}


def transition(current: str, target: str) -> str:
    if target not in _TRANSITIONS.get(current, set()):
        raise ILLEGAL_TRANSITION(
            f"A submission in state {current!r} cannot become {target!r}.",
            message_zh=f"照片当前状态为 {current}，不能变为 {target}",
            extra={"state": current, "target": target},
        )
    return target


def state_after_qc(report: QcReport) -> str:
    """A failed `error` check rejects at once; anything else (including `review` items) goes to a human."""
    return transition("submitted", "auto_rejected" if report.rejected else "pending_review")


def unknown_review_reasons(reasons: list[str]) -> list[str]:
    return [reason for reason in reasons if reason not in REVIEW_REASONS]


ProofreadAction = Literal["confirm", "report_error"]
PROOFREAD_STATES = frozenset({"approved", "on_chsi"})
PROOFREAD_CONFIRM_PROMPT_ZH = "这张照片将用于您的毕业证书电子注册，请再次确认"
