"""The organisation tree (学习中心, 分部/学院)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gradops_registry.api.deps import OrgCode, Reader, SettingsDep, Writer
from gradops_registry.api.views import org_out
from gradops_registry.schemas import OrgUnitIn, OrgUnitOut
from gradops_registry.service import org
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.put(
    "/learning-centres/{code}",
    response_model=OrgUnitOut,
    responses={201: {"model": OrgUnitOut, "description": "Created"}},
    summary="Create or update a unit of the organisation tree (学习中心, 分部/学院)",
)
async def put_learning_centre(
    code: OrgCode,
    payload: OrgUnitIn,
    response: Response,
    session: WriteSessionDep,
    settings: SettingsDep,
    principal: Writer,
) -> OrgUnitOut:
    unit, created = await org.put_org_unit(session, settings, principal, code, payload)
    response.status_code = 201 if created else 200
    return org_out(unit)


@router.get("/learning-centres/{code}", response_model=OrgUnitOut, summary="Read a unit of the tree")
async def get_learning_centre(
    code: OrgCode, session: SessionDep, settings: SettingsDep, principal: Reader
) -> OrgUnitOut:
    return org_out(await org.get_org_unit(session, settings, principal, code))
