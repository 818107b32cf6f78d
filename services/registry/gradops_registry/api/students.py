"""Students (学籍): search, read, create or update, and roster import (名单导入)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from gradops_registry.api.deps import (
    Cursor,
    IfMatch,
    MaskNames,
    Reader,
    SettingsDep,
    StudentNo,
    Writer,
    expected_version,
    student_after,
)
from gradops_registry.api.views import student_out
from gradops_registry.errors import UPLOAD_TOO_LARGE
from gradops_registry.schemas import ImportReport, Level, Status, StudentIn, StudentOut, StudentPage
from gradops_registry.service import imports, students
from gradops_registry.service.students import StudentFilters
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.paging import key_cursor
from gradops_shared.text import PlainText
from gradops_shared.uploads import read_limited

router = APIRouter()


@dataclass(frozen=True)
class _Listing:
    asked: StudentFilters
    centre: list[str] | None
    id_number: str | None
    mask_names: bool
    limit: int
    after: str | None


def _listing(
    centre: Annotated[
        list[Annotated[str, Query(max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]] | None,
        Query(description="Learning centre code(s)"),
    ] = None,
    status: Status | None = None,
    level: Level | None = None,
    major: Annotated[PlainText | None, Query(max_length=100)] = None,
    enrolment_term: Annotated[
        PlainText | None, Query(max_length=32, description="2021-spring or 2021春")
    ] = None,
    class_code: Annotated[PlainText | None, Query(alias="class", max_length=64, description="班级")] = None,
    name_prefix: Annotated[PlainText | None, Query(min_length=1, max_length=100)] = None,
    student_no: Annotated[PlainText | None, Query(max_length=32)] = None,
    id_number: Annotated[
        PlainText | None, Query(max_length=32, description="Exact ID number (matched by keyed hash)")
    ] = None,
    mask_names: MaskNames = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Cursor = None,
) -> _Listing:
    """The list's query parameters (one dependency, so they keep their documented order)."""
    asked = StudentFilters(
        status=status,
        level=level,
        major=major,
        enrolment_term=enrolment_term,
        class_code=class_code,
        name_prefix=name_prefix,
        student_no=student_no,
    )
    return _Listing(asked, centre, id_number, mask_names, limit, student_after(cursor))


@router.get("/students", response_model=StudentPage, summary="Search and list students (cursor pages)")
async def list_students(
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    listing: Annotated[_Listing, Depends(_listing)],
) -> StudentPage:
    page = await students.search_students(
        session,
        settings,
        principal,
        listing.asked,
        centre=listing.centre,
        id_number=listing.id_number,
        after=listing.after,
        limit=listing.limit,
    )
    return StudentPage(
        items=[student_out(s, principal, settings, listing.mask_names) for s in page.items],
        next_cursor=key_cursor(page.next_after) if page.next_after is not None else None,
        count=page.count,
    )


@router.post(
    "/students/imports",
    response_model=ImportReport,
    summary="Import a roster (CSV/XLSX): per-row report; nothing half-imported",
    responses={422: {"description": "Invalid file, or invalid rows without partial=true (report inside)"}},
)
async def import_students(
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX, header row first")],
    session: WriteSessionDep,
    settings: SettingsDep,
    principal: Writer,
    dry_run: Annotated[bool, Query(description="Validate only; write nothing")] = False,
    partial: Annotated[bool, Query(description="Import the valid rows even if others are invalid")] = False,
) -> ImportReport:
    content = await read_limited(file, settings.max_import_bytes, UPLOAD_TOO_LARGE, what="roster file")
    return await imports.import_roster(
        session, settings, principal, content, dry_run=dry_run, partial=partial
    )


@router.put(
    "/students/{student_no}",
    response_model=StudentOut,
    status_code=200,
    responses={201: {"model": StudentOut, "description": "Created"}},
    summary="Create or update a student record (学籍)",
)
async def put_student(
    student_no: StudentNo,
    payload: StudentIn,
    response: Response,
    session: WriteSessionDep,
    settings: SettingsDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> StudentOut:
    student, created = await students.upsert_student(
        session, settings, principal, student_no, payload, expected_version=expected_version(if_match)
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = f'"{student.version}"'
    return student_out(student, principal, settings, False)


@router.get("/students/{student_no}", response_model=StudentOut, summary="Read a student record")
async def get_student(
    student_no: StudentNo,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    mask_names: MaskNames = False,
) -> StudentOut:
    student = await students.get_student(session, student_no, principal)
    response.headers["ETag"] = f'"{student.version}"'
    return student_out(student, principal, settings, mask_names)
