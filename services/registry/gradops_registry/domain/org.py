"""The organisation tree: one university (its school code) → branches (分部/学院) → learning centres."""

from __future__ import annotations

from typing import Literal

from gradops_shared.errors import Conflict, InvalidInput

OrgKind = Literal["university", "branch", "learning_centre"]
KIND_LABELS_ZH = {"university": "学校", "branch": "分部/学院", "learning_centre": "学习中心"}
# Which kinds each kind may hang under.
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    "university": frozenset(),
    "branch": frozenset({"university"}),
    "learning_centre": frozenset({"university", "branch"}),
}


def check_placement(
    *, code: str, kind: str, parent_code: str | None, parent_kind: str | None, school_code: str
) -> None:
    """The university is the root and has the school code; everything else has a parent of an
    allowed kind."""
    if (code == school_code) != (kind == "university"):
        raise InvalidInput(
            f"The university is the root of the tree and its code is the school code {school_code}.",
            code="registry.org_root",
            message_zh=f"学校是组织树的根，代码为学校代码 {school_code}",
        )
    if kind == "university":
        if parent_code:
            raise InvalidInput(
                "The university has no parent.", code="registry.org_root", message_zh="学校没有上级单位"
            )
        return
    if parent_kind is None:
        raise InvalidInput(
            f"The parent {parent_code} does not exist; create it first.",
            code="registry.org_parent_not_found",
            message_zh=f"上级单位 {parent_code} 不存在，请先创建",
            extra={"errors": [{"field": "parent", "in": "body", "type": "not_found", "message": "unknown"}]},
        )
    if parent_kind not in ALLOWED_PARENTS[kind]:
        raise InvalidInput(
            f"A {kind} cannot be placed under a {parent_kind}.",
            code="registry.org_parent_kind",
            message_zh=f"{KIND_LABELS_ZH[kind]}不能隶属于{KIND_LABELS_ZH[parent_kind]}",
        )


def check_kind_unchanged(current: str, requested: str) -> None:
    if current != requested:
        raise Conflict(
            f"This unit is a {current}; its kind cannot change to {requested}.",
            code="registry.org_kind_change",
            message_zh="组织单位的类型不能修改",
        )
