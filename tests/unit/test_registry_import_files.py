"""Roster files: CSV in UTF-8 or GB18030, XLSX, Chinese or English headers."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from gradops_registry.imports import _read_xlsx_with_openpyxl, parse_rows, read_table
from gradops_registry.xlsx import UnreadableSheet, read_first_sheet
from gradops_shared.errors import InvalidInput

HEADER_ZH = "学号,姓名,性别,证件号码,学习中心,层次,学生类别,专业,入学年度学期,学习形式"
ROW = "2021510001,张三,女,11010519491231002X,5135701,专科,开放教育,机电一体化技术,2021春,业余"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_either_encoding_reads_the_same(encoding: str) -> None:
    rows, shown = parse_rows(read_table(f"{HEADER_ZH}\n{ROW}\n".encode(encoding)))
    assert rows[0].student_no == "2021510001"
    assert rows[0].values["name"] == "张三" and rows[0].values["gender"] == "female"
    assert rows[0].values["level"] == "junior_college"
    assert shown["gender"] == "性别" and rows[0].line == 2


def test_english_headers_and_blank_lines() -> None:
    header = "student_no,name,gender,id_number,learning_centre,level,category,major,enrolment_term,study_form"
    content = f"{header}\n\n2021510001,Li,male,X,5135701,bachelor,open_education,law,2021-spring,part_time\n"
    rows, _ = parse_rows(read_table(content.encode()))
    assert len(rows) == 1 and rows[0].values["gender"] == "male"


def test_xlsx_cells_become_text() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER_ZH.split(","))
    values: list[object] = list(ROW.split(","))
    values[0] = 2021510001  # Excel keeps student numbers as numbers
    sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows, _ = parse_rows(read_table(buffer.getvalue()))
    assert rows[0].student_no == "2021510001"
    assert rows[0].values["id_number"] == "11010519491231002X"


def test_unknown_and_missing_columns_refuse_the_file() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rows(read_table(f"{HEADER_ZH},爱好\n{ROW},游泳\n".encode()))
    assert raised.value.code == "registry.import_unknown_column"
    with pytest.raises(InvalidInput) as raised:
        parse_rows(read_table("学号,姓名\n1,张三\n".encode()))
    assert raised.value.code == "registry.import_missing_column"
    assert "gender" in raised.value.extra["missing_columns"]


def test_an_unreadable_xlsx_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_table(b"PK\x03\x04 not really a zip")
    assert raised.value.code == "registry.import_malformed"


def _workbook(rows: list[list[object]], *, write_only: bool = False) -> bytes:
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet() if write_only else workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("write_only", [False, True])
def test_the_streaming_xlsx_reader_reads_what_openpyxl_reads(write_only: bool) -> None:
    content = _workbook(
        [
            ["学号", "出生日期", "学制", "班级", "在读", "备注"],
            [2021510001, date(1990, 5, 17), 2.5, None, True, "张三"],
            ["2021510002", datetime(1949, 12, 31, 0, 0), 3, "1班", False, None],
            [None, None, None, None, None, "只有备注"],
        ],
        write_only=write_only,
    )

    def trimmed(rows: list[list[str]]) -> list[list[str]]:
        out = []
        for row in rows:
            while row and row[-1] == "":
                row = row[:-1]
            out.append(row)
        return out

    fast = trimmed(read_first_sheet(content))
    assert fast == trimmed(_read_xlsx_with_openpyxl(content))
    assert fast[1] == ["2021510001", "1990-05-17", "2.5", "", "True", "张三"]
    assert fast[2][:3] == ["2021510002", "1949-12-31", "3"]


def test_a_sheet_the_streaming_reader_cannot_parse_goes_to_openpyxl() -> None:
    content = _workbook([["a"]])
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, b"<not xml" if item.filename.startswith("xl/worksheets/") else data)
    with pytest.raises(UnreadableSheet):
        read_first_sheet(broken.getvalue())
    with pytest.raises(InvalidInput) as raised:  # openpyxl cannot read it either
        read_table(broken.getvalue())
    assert raised.value.code == "registry.import_malformed"
