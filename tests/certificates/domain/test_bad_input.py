"""Issue 13 in the certificates service, without a server: the approved deliverable photo however it
came, exports that never run what a student typed, dates that cannot be in the future or out of
order, verification that is not `valid` before the issue date, and cursors that are refused, not 500."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import replace
from datetime import date

import httpx
import pytest
from openpyxl import load_workbook

from gradops_certificates import rendering
from gradops_certificates.domain.distribution import DistributionStatus, apply_event, ensure_not_future
from gradops_certificates.domain.printout_text import chsi_row
from gradops_certificates.domain.verification import result_of
from gradops_certificates.errors import CURSOR_INVALID
from gradops_certificates.service.distribution import read_overdue_cursor
from gradops_certificates.service.printouts import fetch_photo
from gradops_shared.errors import InvalidInput
from gradops_shared.paging import read_int, read_position
from gradops_shared.principal import Principal
from gradops_shared.text import encode_cursor
from tests.certificates.domain.test_printouts import FACTS, images_in, text_of
from tests.factories import jpeg

CALLER = Principal(subject="hq", scopes=frozenset({"photos:read"}))


async def fetched(
    handler: httpx.MockTransport, expected_sha256: str | None
) -> tuple[bytes | None, str | None]:
    async with httpx.AsyncClient(transport=handler, base_url="http://photo") as client:
        return await fetch_photo(client, FACTS.photo_submission_id, CALLER, "s", expected_sha256)


async def test_an_upload_never_standardised_is_the_photo_on_the_form() -> None:
    """Centre uploads and zip imports have no standardised version: the upload itself passed QC."""
    upload = jpeg()
    asked: list[str] = []

    def photo_service(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["variant"])
        if request.url.params["variant"] == "standardised":
            return httpx.Response(404, json={"code": "photo.file_not_found"})
        return httpx.Response(200, content=upload, headers={"content-type": "image/jpeg"})

    transport = httpx.MockTransport(photo_service)
    assert await fetched(transport, hashlib.sha256(upload).hexdigest()) == (upload, None)
    assert asked == ["standardised", "original"]
    # An upload that is not the approved one (its hash differs) is not printed as if it were.
    assert await fetched(transport, "b" * 64) == (None, "photo does not match the approved one")


async def test_a_standardised_photo_is_preferred_to_the_upload() -> None:
    standardised = jpeg()

    def photo_service(request: httpx.Request) -> httpx.Response:
        assert request.url.params["variant"] == "standardised"
        return httpx.Response(200, content=standardised, headers={"content-type": "image/jpeg"})

    assert await fetched(httpx.MockTransport(photo_service), None) == (standardised, None)


def hostile_row() -> dict[str, str]:
    facts = replace(
        FACTS, name='=HYPERLINK("http://evil.example","点我")', major="+机电\x1b一体化\x00", exam_no="@SUM(1)"
    )
    return chsi_row(
        facts,
        student_no="2021510001",
        certificate_number="513575202306000001",
        level="junior_college",
        graduation_date=date(2023, 7, 31),
        school_name="云南开放大学",
        principal_name="-李校长",
    )


def test_the_chsi_export_shows_formulas_as_text_and_drops_control_characters() -> None:
    row = hostile_row()
    [header, cells] = list(csv.reader(io.StringIO(rendering.chsi_csv([row]).decode("utf-8-sig"))))
    by_name = dict(zip(header, cells, strict=True))
    assert by_name["姓名"] == '\'=HYPERLINK("http://evil.example","点我")'
    assert by_name["专业"] == "'+机电一体化" and by_name["考生号"] == "'@SUM(1)"
    assert by_name["校长姓名"] == "'-李校长"
    assert by_name["证书编号"] == "513575202306000001"  # data stays data

    sheet = load_workbook(io.BytesIO(rendering.chsi_xlsx([row], "202307"))).active
    assert sheet is not None
    names = [cell.value for cell in sheet[1]]
    values = {names[i]: cell for i, cell in enumerate(sheet[2])}
    assert values["姓名"].data_type == "s" and str(values["姓名"].value).startswith("'=")
    assert values["专业"].value == "'+机电一体化"


def test_pdfs_print_text_with_control_characters_instead_of_failing() -> None:
    facts = replace(FACTS, name="张\x1b三\x00", major="机电\u2028一体化")
    pdf = rendering.registration_form_pdf(
        facts,
        certificate_number="513575202306000001",
        school_name="云南开放大学",
        issue_date=date(2023, 7, 31),
        graduation_date=date(2023, 7, 31),
        level="junior_college",
        photo=None,
    )
    assert "张三" in text_of(pdf) and "机电一体化" in text_of(pdf) and images_in(pdf) == 0
    proof = rendering.proof_pdf(["补证号：X", "学生张\x07三", "a", "b", "c"])
    assert "学生张三" in text_of(proof)


def test_a_valid_certificate_is_not_yet_valid_before_its_issue_date() -> None:
    issue = date(2027, 1, 31)
    assert result_of("valid", issue, date(2027, 1, 30)) == "not_yet_valid"
    assert result_of("valid", issue, issue) == "valid"
    assert result_of("valid", issue, date(2027, 2, 1)) == "valid"
    # Superseded and revoked say so whatever the date; anything else is unknown.
    assert result_of("superseded", issue, date(2020, 1, 1)) == "superseded"
    assert result_of("revoked", issue, date(2020, 1, 1)) == "revoked"
    assert result_of("draft") == "unknown"


def test_distribution_dates_cannot_be_in_the_future() -> None:
    ensure_not_future(date(2026, 12, 3), date(2026, 12, 3))
    with pytest.raises(InvalidInput) as refused:
        ensure_not_future(date(2026, 12, 4), date(2026, 12, 3))
    assert refused.value.code == "certificates.distribution_date_in_future"


def test_the_chsi_check_cannot_come_before_the_handover() -> None:
    handed = DistributionStatus(
        "handed_to_student",
        date(2026, 1, 5),
        date(2026, 1, 20),
        date(2026, 1, 10),
        date(2026, 1, 25),
        date(2026, 1, 12),
    )

    def check(on: date) -> None:
        apply_event(
            handed,
            "chsi_checked",
            on,
            explanation=None,
            has_receipt=False,
            collection_days=15,
            handover_days=15,
        )

    check(date(2026, 1, 12))
    with pytest.raises(InvalidInput) as refused:
        check(date(2026, 1, 11))
    assert refused.value.code == "certificates.distribution_date_order"


@pytest.mark.parametrize(
    "cursor",
    ["é", "%%%", "not base64!", encode_cursor("x\x00y"), "A" * 600, encode_cursor("2026-01-01"), ""],
)
def test_a_cursor_this_api_did_not_issue_is_a_422(cursor: str) -> None:
    readers = (
        lambda c: read_int(c, CURSOR_INVALID),
        lambda c: read_position(c, CURSOR_INVALID),
        read_overdue_cursor,
    )
    for read in readers:
        with pytest.raises(InvalidInput) as refused:
            read(cursor)
        assert refused.value.code == "certificates.cursor_invalid" and refused.value.status == 422


def test_cursors_read_back_what_they_name() -> None:
    assert read_int(encode_cursor("42"), CURSOR_INVALID) == 42
    moment = read_position(encode_cursor("2026-12-03T10:00:00+00:00|abc"), CURSOR_INVALID)
    assert moment[1] == "abc" and moment[0].tzinfo is not None
    assert read_overdue_cursor(encode_cursor("|5135701000000000001")) == ("", "5135701000000000001")
    assert read_overdue_cursor(encode_cursor("5135701|5135701000000000001")) == (
        "5135701",
        "5135701000000000001",
    )
