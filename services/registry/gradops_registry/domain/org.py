"""The organisation tree: one university (its school code) → branches (分部/学院) → learning centres."""

from __future__ import annotations

from typing import Literal

from gradops_registry.errors import ORG_KIND_CHANGE, ORG_PARENT_KIND, ORG_PARENT_NOT_FOUND, ORG_ROOT

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
        raise ORG_ROOT(
            f"The university is the root of the tree and its code is the school code {school_code}.",
            message_zh=f"学校是组织树的根，代码为学校代码 {school_code}",
        )
    if kind == "university":
        if parent_code:
            raise ORG_ROOT("The university has no parent.", message_zh="学校没有上级单位")
        return
    if parent_kind is None:
        raise ORG_PARENT_NOT_FOUND(
            f"The parent {parent_code} does not exist; create it first.",
            message_zh=f"上级单位 {parent_code} 不存在，请先创建",
            extra={"errors": [{"field": "parent", "in": "body", "type": "not_found", "message": "unknown"}]},
        )
    if parent_kind not in ALLOWED_PARENTS[kind]:
        raise ORG_PARENT_KIND(
            f"A {kind} cannot be placed under a {parent_kind}.",
            message_zh=f"{KIND_LABELS_ZH[kind]}不能隶属于{KIND_LABELS_ZH[parent_kind]}",
        )


def check_kind_unchanged(current: str, requested: str) -> None:
    if current != requested:
        raise ORG_KIND_CHANGE(
            f"This unit is a {current}; its kind cannot change to {requested}.",
            message_zh="组织单位的类型不能修改",
        )
