"""Roster files: CSV in UTF-8 or GB18030, XLSX, Chinese or English headers."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from gradops_registry.service.imports import SheetLimits, parse_rows, read_first_sheet, read_table
from gradops_shared.errors import InvalidInput, PayloadTooLarge
from tests.registry import bombs as registry_bombs

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


def _openpyxl_rows(content: bytes) -> list[list[str]]:
    """The reference: what openpyxl reads, as the text the import works with."""
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    out = []
    for row in workbook.worksheets[0].iter_rows(values_only=True):
        cells = []
        for value in row:
            if value is None:
                cells.append("")
            elif isinstance(value, datetime):
                cells.append(value.date().isoformat())
            elif isinstance(value, float) and value.is_integer():
                cells.append(str(int(value)))
            else:
                cells.append(str(value))
        out.append(cells)
    workbook.close()
    return out


@pytest.mark.parametrize("write_only", [False, True])
def test_the_calamine_reader_reads_what_openpyxl_reads(write_only: bool) -> None:
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
    assert fast == trimmed(_openpyxl_rows(content))
    assert fast[1] == ["2021510001", "1990-05-17", "2.5", "", "True", "张三"]
    assert fast[2][:3] == ["2021510002", "1949-12-31", "3"]


def test_a_sheet_that_is_not_xml_is_refused() -> None:
    content = _workbook([["a"]])
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, b"<not xml" if item.filename.startswith("xl/worksheets/") else data)
    with pytest.raises(InvalidInput) as raised:
        read_table(broken.getvalue())
    assert raised.value.code == "registry.import_malformed"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("sparse_cell_xfd1048576", "registry.import_too_many_rows"),
        ("wide_rows_2000x16384", "registry.import_too_many_columns"),
        ("inflating_part_400mb", "registry.import_part_too_large"),
        ("lying_size_400mb_declared_1kb", "registry.import_malformed"),
        ("shared_strings_4m", "registry.import_too_many_shared_strings"),
        ("many_rows_1m", "registry.import_malformed"),
        ("many_entries_100k", "registry.import_too_many_entries"),
        ("missing_sheet_part", "registry.import_sheet_missing"),
    ],
)
def test_every_bomb_is_refused_with_its_code(name: str, code: str) -> None:
    with pytest.raises((InvalidInput, PayloadTooLarge)) as raised:
        read_table(registry_bombs.CORPUS[name]())
    assert raised.value.code == code


def test_a_workbook_within_the_limits_is_read_and_one_row_over_is_refused() -> None:
    limits = SheetLimits(max_rows=3)
    rows: list[list[object]] = [["学号"], ["0"], ["1"], ["2"]]
    assert len(read_table(_workbook(rows), limits)) == 4
    with pytest.raises(PayloadTooLarge) as raised:
        read_table(_workbook([*rows, ["9"]]), limits)
    assert raised.value.code == "registry.import_too_many_rows"
    with pytest.raises(PayloadTooLarge) as raised:
        read_table(("学号\n" + "1\n" * 4).encode(), limits)
    assert raised.value.code == "registry.import_too_many_rows"
    with pytest.raises(PayloadTooLarge) as raised:
        read_table(("," * 40 + "\n").encode(), limits)
    assert raised.value.code == "registry.import_too_many_columns"


def test_cell_references_out_of_the_usual_order_are_still_bounded() -> None:
    """`r` not first, or a namespace prefix: the general patterns see the reference."""
    head = registry_bombs.SHEET_HEAD
    for cell in (b'<c s="0" r="XFD1"><v>1</v></c>', b'<c  r="A1"><v>1</v></c><c r="A2000000"><v>1</v></c>'):
        content = registry_bombs.workbook(
            registry_bombs.deflated(
                "xl/worksheets/sheet1.xml", head + b"<row>" + cell + b"</row>" + registry_bombs.SHEET_TAIL
            )
        )
        with pytest.raises(PayloadTooLarge):
            read_table(content)
    prefixed = (
        b'<x:worksheet xmlns:x="' + registry_bombs.MAIN.encode() + b'"><x:sheetData><x:row>'
        b'<x:c r="ZZ1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    with pytest.raises(PayloadTooLarge):
        read_table(registry_bombs.workbook(registry_bombs.deflated("xl/worksheets/sheet1.xml", prefixed)))
