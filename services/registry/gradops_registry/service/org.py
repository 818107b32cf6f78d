"""The organisation tree: the university (school code), branches and learning centres."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.domain.org import check_kind_unchanged, check_placement
from gradops_registry.errors import LEARNING_CENTRE_NOT_FOUND, ORG_UNIT_NOT_FOUND
from gradops_registry.models import OrgUnit
from gradops_registry.repository import OrgRepository
from gradops_registry.schemas import OrgUnitIn
from gradops_registry.settings import RegistrySettings
from gradops_shared.errors import GradOpsError
from gradops_shared.principal import Principal


def org_not_found(code: str) -> GradOpsError:
    return ORG_UNIT_NOT_FOUND(f"No organisation unit with code {code}.", message_zh=f"组织单位 {code} 不存在")


def centre_not_found(code: str) -> GradOpsError:
    """Also for a centre outside the caller's reach: existence does not leak."""
    return LEARNING_CENTRE_NOT_FOUND(
        f"Learning centre {code} does not exist (create it with PUT /learning-centres/{code}).",
        message_zh=f"学习中心 {code} 不存在",
        extra={
            "errors": [{"field": "learning_centre", "in": "body", "type": "not_found", "message": "unknown"}]
        },
    )


def _unit(code: str, name: str, kind: str, parent: str | None) -> OrgUnit:
    now = datetime.now(UTC)
    return OrgUnit(code=code, name=name, kind=kind, parent=parent, created_at=now, updated_at=now)


def _root(settings: RegistrySettings) -> OrgUnit:
    return _unit(settings.school_code, settings.school_name, "university", None)


async def ensure_root(session: AsyncSession, settings: RegistrySettings) -> OrgUnit:
    repo = OrgRepository(session)
    root = await repo.get(settings.school_code)
    if root is None:
        root = _root(settings)
        repo.add(root)
        await repo.flush()
    return root


async def put_org_unit(
    session: AsyncSession, settings: RegistrySettings, principal: Principal, code: str, payload: OrgUnitIn
) -> tuple[OrgUnit, bool]:
    """Creates or updates a unit; returns (unit, created). A centre-bound key may only rename its
    own centres; the tree's shape belongs to HQ."""
    if not principal.is_hq and code not in (principal.centres or frozenset()):
        raise org_not_found(code)
    await ensure_root(session, settings)
    repo = OrgRepository(session)
    parent_kind = None
    if payload.parent:
        parent = await repo.get(payload.parent)
        parent_kind = parent.kind if parent else None
    check_placement(
        code=code,
        kind=payload.kind,
        parent_code=payload.parent,
        parent_kind=parent_kind,
        school_code=settings.school_code,
    )
    unit = await repo.get(code)
    if unit is None:
        unit = _unit(code, payload.name, payload.kind, payload.parent)
        repo.add(unit)
        await repo.flush()
        return unit, True
    check_kind_unchanged(unit.kind, payload.kind)
    if (unit.name, unit.parent) != (payload.name, payload.parent):
        unit.name, unit.parent, unit.updated_at = payload.name, payload.parent, datetime.now(UTC)
    return unit, False


async def get_org_unit(
    session: AsyncSession, settings: RegistrySettings, principal: Principal, code: str
) -> OrgUnit:
    """A unit within the caller's reach; the university exists before anything is written."""
    unit = await OrgRepository(session).get(code)
    if unit is None and code == settings.school_code:
        unit = _root(settings)
    if unit is None or not (principal.is_hq or code in (principal.centres or frozenset())):
        raise org_not_found(code)
    return unit


async def resolve_centre(session: AsyncSession, principal: Principal, code: str) -> tuple[str, str | None]:
    """The learning centre (must exist, be a centre, be within reach) and its branch, if any."""
    repo = OrgRepository(session)
    centre = await repo.get(code)
    if centre is None or centre.kind != "learning_centre" or not principal.sees_centre(code):
        raise centre_not_found(code)
    branch = None
    if centre.parent:
        parent = await repo.get(centre.parent)
        branch = parent.code if parent is not None and parent.kind == "branch" else None
    return code, branch
