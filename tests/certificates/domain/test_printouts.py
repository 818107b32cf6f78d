"""The documents rendered for real (reportlab, openpyxl) and read back (pypdf): the text a user
sees must be there, in Chinese, extractable."""

from __future__ import annotations

import io
from datetime import date

import httpx
from openpyxl import load_workbook
from pypdf import PdfReader

from gradops_certificates import rendering
from gradops_certificates.domain.printout_text import StudentFacts, chsi_row, proof_paragraphs, study_start
from gradops_certificates.models import Certificate
from gradops_certificates.service.printouts import DocumentSubject, fetch_photo, registration_form
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, verify_principal
from tests.factories import jpeg

FACTS = StudentFacts(
    student_no="2021510001",
    name="张三",
    gender="female",
    birth_date=date(1990, 5, 17),
    major="机电一体化技术",
    level="junior_college",
    study_form="part_time",
    enrolment_term="2021-spring",
    duration_years=2.5,
    exam_no="21530101150001",
    learning_centre="5135701",
    photo_submission_id="5f0c8b9e-8a43-4d43-9d0c-2f1a3c1e9a11",
    photo_sha256="a" * 64,
)


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")


def images_in(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def form(photo: bytes | None) -> bytes:
    return rendering.registration_form_pdf(
        FACTS,
        certificate_number="513575202701000001"[:10] + "06000001",
        school_name="云南开放大学",
        issue_date=date(2027, 1, 31),
        graduation_date=date(2027, 1, 31),
        level="junior_college",
        photo=photo,
    )


def test_registration_form_is_prefilled_with_the_photo() -> None:
    pdf = form(jpeg())
    text = text_of(pdf)
    for expected in (
        "毕业生登记表",
        "张三",
        "女",
        "1990-05-17",
        "2021510001",
        "21530101150001",
        "机电一体化技术",
        "专科",
        "2.5年",
        "业余",
        "2021-03-01",
        "2027-01-31",
        "云南开放大学",
        "自我鉴定（不少于200字）",
        "学习中心意见",
        "须早于发证日期 2027-01-31",
        "总部意见",
        "日期：2027-01-31（即发证日期）",
    ):
        assert expected in text, expected
    assert images_in(pdf) == 1
    assert "请粘贴同版照片" not in text


def test_registration_form_without_photo_has_a_labelled_empty_box() -> None:
    pdf = form(None)
    assert images_in(pdf) == 0
    assert "未能获取毕业证书照片" in text_of(pdf) and "请粘贴同版照片" in text_of(pdf)


def test_proof_carries_the_wording_of_the_domain() -> None:
    paragraphs = proof_paragraphs(
        FACTS,
        original_number="513575202306000001",
        reason="损坏",
        graduation_date=date(2023, 7, 31),
        level="junior_college",
        school_name="云南开放大学",
        principal_name="李校长",
        number="51357B202606000001",
        issued_on=date(2026, 11, 23),
    )
    text = text_of(rendering.proof_pdf(paragraphs))
    for expected in (
        "毕业证明书",
        "补证号：51357B202606000001",
        "学生张三",
        "性别女",
        "1990年5月17日生",
        "于2021年3月至2023年7月",
        "机电一体化技术专业专科学习",
        "学制2.5年",
        "准予毕业",
        "原毕业证书编号：513575202306000001",
        "因损坏补发",
        "同等效力",
        "校长：李校长",
        "云南开放大学",
        "2026年11月23日",
    ):
        assert expected in text, expected


def test_chsi_row_names_what_the_rule_requires_and_is_missing() -> None:
    complete = chsi_row(
        FACTS,
        student_no="2021510001",
        certificate_number="513575202306000001",
        level="junior_college",
        graduation_date=date(2023, 7, 31),
        school_name="云南开放大学",
        principal_name="李校长",
    )
    assert complete["missing"] == ""
    assert complete["photo"] == f"{FACTS.photo_submission_id}:{'a' * 64}"
    assert (complete["study_start"], complete["study_end"], complete["duration"]) == (
        "2021-03-01",
        "2023-07-31",
        "2.5年",
    )
    unknown = chsi_row(
        None,
        student_no="2021510002",
        certificate_number="513575202306000002",
        level="bachelor",
        graduation_date=date(2023, 7, 31),
        school_name="云南开放大学",
        principal_name="李校长",
    )
    assert unknown["missing"] == "姓名、性别、出生日期、照片、入学日期、专业、学制、学习形式"
    assert unknown["level"] == "本科" and unknown["completion"] == "毕业"


def test_study_start_reads_both_term_spellings() -> None:
    assert study_start("2021-spring") == date(2021, 3, 1)
    assert study_start("2021秋") == date(2021, 9, 1)
    assert study_start("sometime") is None


def test_exports_open_in_excel_with_chinese_and_numbers_as_text() -> None:
    row = chsi_row(
        FACTS,
        student_no="2021510001",
        certificate_number="513575202306000001",
        level="junior_college",
        graduation_date=date(2023, 7, 31),
        school_name="云南开放大学",
        principal_name="李校长",
    )
    data = rendering.chsi_csv([row])
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("学号,考生号,姓名,性别,出生日期,照片,入学日期,毕业日期,专业,层次,学制")
    assert "513575202306000001" in lines[1]
    sheet = load_workbook(io.BytesIO(rendering.chsi_xlsx([row], "202307"))).active
    assert sheet is not None and sheet.title == "学历注册202307"
    values = [cell.value for cell in sheet[2]]
    assert "513575202306000001" in values and "张三" in values  # stored as text, not 5.13e17


async def test_photo_is_fetched_with_a_signed_narrow_principal() -> None:
    seen: dict[str, str] = {}

    def photo_service(request: httpx.Request) -> httpx.Response:
        seen["path"] = request.url.path
        seen["variant"] = request.url.params["variant"]
        seen["principal"] = request.headers[PRINCIPAL_HEADER]
        return httpx.Response(200, content=jpeg(), headers={"content-type": "image/jpeg"})

    caller = Principal(
        subject="centre-key", scopes=frozenset({"photos:read"}), centres=frozenset({"5135701"})
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(photo_service), base_url="http://photo"
    ) as client:
        photo, reason = await fetch_photo(client, FACTS.photo_submission_id, caller, "s3cret")
    assert photo is not None and photo.startswith(b"\xff\xd8") and reason is None
    assert seen["path"] == f"/api/v1/photo-submissions/{FACTS.photo_submission_id}/file"
    assert seen["variant"] == "standardised"
    assert verify_principal(seen["principal"], "s3cret").centres == frozenset({"5135701"})


async def test_a_photo_that_cannot_be_fetched_is_reported_not_raised() -> None:
    def missing(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "photo.submission_not_found"})

    def down(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    caller = Principal(subject="hq", scopes=frozenset({"photos:read"}))
    for handler, reason in ((missing, "photo service answered 404"), (down, "photo service unreachable")):
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(handler), base_url="http://photo"
        ) as client:
            assert await fetch_photo(client, FACTS.photo_submission_id, caller, "s") == (None, reason)
    async with httpx.AsyncClient(transport=httpx.MockTransport(missing), base_url="http://photo") as client:
        assert await fetch_photo(client, None, caller, "s") == (None, "no approved graduation photo recorded")


def test_the_form_says_what_became_of_the_photo() -> None:
    certificate = Certificate(
        number="513575202701000001"[:10] + "06000001",
        student_no=FACTS.student_no,
        issue_date=date(2027, 1, 31),
        graduation_date=date(2027, 1, 31),
        level="junior_college",
    )
    subject = DocumentSubject(certificate, FACTS)
    settings = CertificatesSettings()
    pdf, status = registration_form(subject, jpeg(), None, settings)
    assert status == "included" and images_in(pdf) == 1
    pdf, status = registration_form(subject, b"\xff\xd8 not really a jpeg", None, settings)
    assert status == "missing; photo unreadable" and images_in(pdf) == 0
    pdf, status = registration_form(subject, None, "photo service answered 404", settings)
    assert status == "missing; photo service answered 404" and "请粘贴同版照片" in text_of(pdf)
