"""Pure rules of the photo life-cycle: the working-day calendar (holidays and 调休), the state
machine's guards, zip entry names (GBK) and the feedback sheet's order and wording."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from gradops_photo import domain
from gradops_photo.domain.archive import (
    ArchiveLimits,
    Directory,
    NotAZip,
    TooManyEntries,
    check_directory,
    decode_name,
    plan_archive,
    read_directory_end,
)
from gradops_photo.domain.proofreading import (
    CORRECT,
    NOT_DONE,
    completion_status,
    sheet_csv,
    sheet_rows,
    sheet_title,
    sheet_xlsx,
)
from gradops_shared.errors import Conflict
from gradops_shared.workdays import WorkCalendar
from tests.photo.zips import GBK_FOLDER_NAME, GBK_TOP_NAME, build_zip, declaring, many_entries_zip

# National Day 2026: 1-7 October off, Sunday 27 September and Saturday 10 October worked (调休).
NATIONAL_DAY = WorkCalendar.of(
    holidays=[date(2026, 10, d) for d in range(1, 8)],
    makeup_workdays=[date(2026, 9, 27), date(2026, 10, 10)],
)


def test_weekends_are_skipped() -> None:
    calendar = WorkCalendar.of()
    assert calendar.add_workdays(date(2026, 11, 20), 2) == date(2026, 11, 24)  # Friday -> Tuesday
    assert calendar.add_workdays(date(2026, 11, 21), 1) == date(2026, 11, 23)  # Saturday -> Monday


def test_holidays_are_skipped_and_make_up_days_count() -> None:
    assert NATIONAL_DAY.is_workday(date(2026, 9, 27))  # a Sunday worked
    assert not NATIONAL_DAY.is_workday(date(2026, 10, 5))  # a Monday off
    # Wednesday 30 September + 2 working days: 1-7 October off -> Thursday 8, Friday 9 October.
    assert NATIONAL_DAY.add_workdays(date(2026, 9, 30), 2) == date(2026, 10, 9)
    # Friday 9 October + 1: the make-up Saturday 10 October.
    assert NATIONAL_DAY.add_workdays(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert NATIONAL_DAY.workdays_between(date(2026, 9, 30), date(2026, 10, 9)) == 2


def test_deadline_is_the_end_of_the_working_day_in_beijing() -> None:
    # Friday 23:30 in Beijing is 15:30 UTC: due at the end of Tuesday, Beijing time.
    due = WorkCalendar.of().deadline(datetime(2026, 11, 20, 15, 30, tzinfo=UTC), 2)
    assert due == datetime(2026, 11, 24, 15, 59, 59, 999999, tzinfo=UTC)
    with pytest.raises(ValueError):
        WorkCalendar.of().deadline(datetime(2026, 11, 20), 2)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("approved", "rejected"),
        ("approved", "pending_review"),
        ("auto_rejected", "approved"),
        ("expired", "pending_review"),
        ("reopened", "approved"),
        ("pending_review", "on_chsi"),
        ("rejected", "approved"),
    ],
)
def test_illegal_transitions_are_refused_with_a_stable_code(current: str, target: str) -> None:
    with pytest.raises(Conflict) as refused:
        domain.transition(current, target)
    assert refused.value.code == "photo.illegal_transition"


def test_review_reasons_are_the_qc_catalogue_plus_human_ones() -> None:
    assert domain.unknown_review_reasons(["photo.background_colour", "photo.selfie", "photo.nope"]) == [
        "photo.nope"
    ]


def test_gbk_names_from_chinese_windows_tools_are_decoded() -> None:
    data = build_zip([("ascii.jpg", b"x")], gbk=[(GBK_FOLDER_NAME, b"x"), (GBK_TOP_NAME, b"x")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [decode_name(info) for info in archive.infolist()]
    assert names == ["ascii.jpg", GBK_FOLDER_NAME, GBK_TOP_NAME]
    plans = {p.name: p for p in plan_archive(data, ArchiveLimits())}
    assert plans[GBK_FOLDER_NAME].reason == "photo_import.in_folder"
    assert plans[GBK_TOP_NAME].reason == "photo_import.bad_name"


def test_total_inflated_size_is_bounded_across_entries() -> None:
    data = build_zip([(f"20210000{i:02d}.jpg", b"\xff" * 4000) for i in range(5)])
    plans = plan_archive(data, ArchiveLimits(max_total_bytes=10_000, max_ratio=10_000))
    assert [p.reason for p in plans] == [None, None, *["photo_import.zip_bomb"] * 3]


class _Photo:
    def __init__(self, state: str, proofread_state: str | None = None, detail: str | None = None) -> None:
        self.state, self.proofread_state, self.proofread_detail = state, proofread_state, detail


def test_feedback_sheet_rows_run_by_student_number_descending() -> None:
    students = [{"student_no": n, "name": f"学生{n[-1]}"} for n in ("2021001", "2021003", "2021002")]
    photos = {
        "2021001": [_Photo("approved", "confirmed")],
        "2021003": [_Photo("on_chsi", "error_reported", "姓名有误")],
    }
    rows = sheet_rows(students, photos)
    assert rows == [
        ["1", "2021003", "学生3", "姓名有误", ""],
        ["2", "2021002", "学生2", NOT_DONE, ""],
        ["3", "2021001", "学生1", CORRECT, ""],
    ]


def test_completion_status_prefers_what_chsi_holds() -> None:
    assert completion_status([_Photo("rejected"), _Photo("on_chsi")]) == "on_chsi"
    assert completion_status([_Photo("approved"), _Photo("rejected")]) == "approved"
    assert completion_status([_Photo("pending_review"), _Photo("expired")]) == "pending_review"
    assert completion_status([_Photo("auto_rejected")]) == "none"
    assert completion_status([]) == "none"


# ---- the zip's directory is judged from its end record before it is parsed ------------------


def test_a_zip_declaring_too_many_entries_is_refused_before_its_directory_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = many_entries_zip(5001)
    assert read_directory_end(data) == Directory(5001, read_directory_end(data).size)
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 5001  # a real, readable zip

    def parsed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", parsed)
    with pytest.raises(TooManyEntries, match="5001 entries"):
        plan_archive(data, ArchiveLimits(max_entries=5000))


def test_the_issues_700000_entries_are_refused_from_the_zip64_end_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = many_entries_zip(3, declared=700_000)
    assert read_directory_end(data).entries == 700_000
    monkeypatch.setattr(zipfile, "ZipFile", None)
    with pytest.raises(TooManyEntries, match="700000 entries"):
        plan_archive(data, ArchiveLimits())


def test_a_directory_larger_than_its_entries_could_need_is_refused() -> None:
    data = declaring(many_entries_zip(3), directory_size=5000 * 1024 + 1)
    with pytest.raises(TooManyEntries, match="central directory"):
        check_directory(data, ArchiveLimits(max_entries=5000))


def test_a_lying_count_is_still_caught_once_the_directory_is_parsed() -> None:
    data = many_entries_zip(60, declared=1)
    with pytest.raises(TooManyEntries, match="60 entries"):
        plan_archive(data, ArchiveLimits(max_entries=50))


@pytest.mark.parametrize("garbage", [b"", b"PK\x05\x06", b"not a zip" * 100, b"PK\x05\x06" + b"\x00" * 5])
def test_no_end_record_is_not_a_zip(garbage: bytes) -> None:
    with pytest.raises(NotAZip):
        plan_archive(garbage, ArchiveLimits())


def test_a_broken_zip64_end_record_is_not_a_zip() -> None:
    data = many_entries_zip(3, declared=700_000)
    with pytest.raises(NotAZip):
        read_directory_end(data[:-42] + b"\x00" * 20 + data[-22:])  # the locator wiped


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx", "a\x00b\x1b[31m\x9b", "＝1"]
)
def test_the_feedback_sheet_defuses_formulas_and_drops_control_characters(name: str) -> None:
    rows = [["1", "2021001", name, f"{name}!", ""]]
    title = sheet_title(f"21班{name}")
    book = load_workbook(io.BytesIO(sheet_xlsx(title, rows))).active
    assert book is not None
    for cell in (book["C3"], book["D3"], book["A1"]):
        assert cell.data_type == "s"
        assert not str(cell.value).startswith(("=", "+", "-", "@", "\t", "＝"))
        assert not any((ord(c) < 32 and c not in "\t\n\r") or 0x7F <= ord(c) <= 0x9F for c in str(cell.value))
    text = sheet_csv(title, rows).decode("utf-8-sig")
    for line in list(csv.reader(io.StringIO(text)))[2:]:
        assert not line[2].startswith(("=", "+", "-", "@", "\t")) and "\x00" not in line[2]
