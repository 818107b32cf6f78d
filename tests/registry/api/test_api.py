"""The registry's API through the gateway (embedded suite), and tenancy/PII with signed principals
of centre-bound keys sent straight to the registry (the gateway has only the HQ key so far)."""

from __future__ import annotations

import base64
import io

import httpx
from PIL import Image

from gradops_shared.collection_code import verify_code
from tests.e2e.slice import assert_problem
from tests.factories import create_student, ensure_learning_centre, png, student_no, student_payload
from tests.registry.rosters import chinese_row, roster_csv
from tests.support.suite import Suite

PDF = b"%PDF-1.4\n% evidence\n"


def direct(suite: Suite) -> httpx.AsyncClient:
    """Straight to the registry (no gateway), for calls with a signed principal of a test's own."""
    return suite.services["registry"]


# ---- organisation tree --------------------------------------------------------------------------


async def test_the_tree_has_the_university_at_its_root(suite: Suite) -> None:
    client = suite.gateway
    root = await client.get("/api/v1/learning-centres/51357")
    assert root.status_code == 200 and root.json()["kind"] == "university"
    branch = await client.put(
        "/api/v1/learning-centres/51357B1", json={"name": "昆明分部", "parent": "51357", "kind": "branch"}
    )
    assert branch.status_code == 201
    centre = await client.put(
        "/api/v1/learning-centres/5135711",
        json={"name": "五华学习中心", "parent": "51357B1", "kind": "learning_centre"},
    )
    assert centre.status_code == 201 and centre.json()["parent"] == "51357B1"
    renamed = await client.put(
        "/api/v1/learning-centres/5135711",
        json={"name": "五华区学习中心", "parent": "51357B1", "kind": "learning_centre"},
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "五华区学习中心"

    assert_problem(
        await client.put(
            "/api/v1/learning-centres/5135712",
            json={"name": "x", "parent": "nope", "kind": "learning_centre"},
        ),
        422,
        "registry.org_parent_not_found",
    )
    assert_problem(
        await client.put(
            "/api/v1/learning-centres/5135713", json={"name": "x", "parent": "5135711", "kind": "branch"}
        ),
        422,
        "registry.org_parent_kind",
    )
    assert_problem(
        await client.put(
            "/api/v1/learning-centres/5135711", json={"name": "x", "parent": "51357", "kind": "branch"}
        ),
        409,
        "registry.org_kind_change",
    )
    assert_problem(await client.get("/api/v1/learning-centres/9999999"), 404, "registry.org_unit_not_found")

    # A student of a centre under a branch carries the branch.
    number = student_no()
    created = await client.put(f"/api/v1/students/{number}", json=student_payload(learning_centre="5135711"))
    assert created.status_code == 201
    assert (await client.get(f"/api/v1/students/{number}")).json()["branch"] == "51357B1"


async def test_a_student_needs_an_existing_learning_centre(suite: Suite) -> None:
    number = student_no()
    response = await suite.gateway.put(
        f"/api/v1/students/{number}", json=student_payload(learning_centre="5135799")
    )
    body = assert_problem(response, 422, "registry.learning_centre_not_found")
    assert body["errors"][0]["field"] == "learning_centre"
    assert_problem(await suite.gateway.get(f"/api/v1/students/{number}"), 404, "registry.student_not_found")


# ---- the record, privacy ---------------------------------------------------------------------


async def test_every_invalid_field_is_reported_at_once_and_nothing_is_written(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    number = student_no()
    payload = student_payload(category="外星教育", study_form="spaceflight", enrolment_term="2021夏")
    payload["id_number"] = payload["id_number"][:17] + ("0" if payload["id_number"][17] != "0" else "1")
    body = assert_problem(await suite.gateway.put(f"/api/v1/students/{number}", json=payload), 422)
    assert {e["field"] for e in body["errors"]} == {"category", "study_form", "enrolment_term", "id_number"}
    assert payload["id_number"] not in response_text(body)
    assert (await suite.gateway.get(f"/api/v1/students/{number}")).status_code == 404


def response_text(body: dict[str, object]) -> str:
    return repr(body)


async def test_chinese_labels_are_normalised_and_the_full_record_round_trips(suite: Suite) -> None:
    number = await create_student(
        suite.gateway,
        category="开放教育本科",
        study_form="业余",
        education_type="开放",
        enrolment_term="2021秋",
        class_code="2021秋会计1班",
        exam_no="21530102150001",
        duration_years=2.5,
        ethnicity="汉族",
    )
    student = (await suite.gateway.get(f"/api/v1/students/{number}")).json()
    assert student["category"] == "open_education_bachelor"
    assert student["study_form"] == "part_time"
    assert student["education_type"] == "open"
    assert student["enrolment_term"] == "2021-autumn"
    assert student["class_code"] == "2021秋会计1班" and student["duration_years"] == 2.5
    assert student["course_selection_allowed"] is True


async def test_id_number_is_clear_only_with_pii_read_and_names_masked_on_request(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    payload = student_payload(name="张小三")
    number = student_no()
    assert (await suite.gateway.put(f"/api/v1/students/{number}", json=payload)).status_code == 201

    with_pii = (await suite.gateway.get(f"/api/v1/students/{number}")).json()  # bootstrap key: every scope
    assert with_pii["id_number"] == payload["id_number"]
    without = await direct(suite).get(f"/api/v1/students/{number}", headers=suite.headers("registry:read"))
    assert without.json()["id_number"] is None
    assert without.json()["id_number_masked"] == "*****" + payload["id_number"][-4:]
    assert payload["id_number"] not in without.text
    masked = await suite.gateway.get(f"/api/v1/students/{number}", params={"mask_names": "true"})
    assert masked.json()["name"] == "张**三"


async def test_search_by_id_number_uses_the_keyed_hash(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    payload = student_payload()
    number = student_no()
    await suite.gateway.put(f"/api/v1/students/{number}", json=payload)
    found = (
        await suite.gateway.get("/api/v1/students", params={"id_number": payload["id_number"].lower()})
    ).json()
    assert [s["student_no"] for s in found["items"]] == [number]


# ---- tenancy ---------------------------------------------------------------------------------


async def test_a_centre_key_sees_only_its_centres_students(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway, "5135701")
    await ensure_learning_centre(suite.gateway, "5135702")
    mine = await create_student(suite.gateway, learning_centre="5135701")
    theirs = await create_student(suite.gateway, learning_centre="5135702")
    centre_a = suite.headers("registry:read", "registry:write", "registry:review", centres={"5135701"})

    assert (await direct(suite).get(f"/api/v1/students/{mine}", headers=centre_a)).status_code == 200
    for path in ("", "/status-changes", "/history", "/prior-education-review"):
        assert_problem(
            await direct(suite).get(f"/api/v1/students/{theirs}{path}", headers=centre_a),
            404,
            "registry.student_not_found",
        )
    # Updating the other centre's student: 404, and nothing changes.
    update = await direct(suite).put(
        f"/api/v1/students/{theirs}",
        json=student_payload(learning_centre="5135702", major="会计学"),
        headers=centre_a,
    )
    assert_problem(update, 404, "registry.student_not_found")
    assert (await suite.gateway.get(f"/api/v1/students/{theirs}")).json()["major"] == "机电一体化技术"
    # Creating a student in a centre out of reach is refused as if the centre did not exist.
    created = await direct(suite).put(
        f"/api/v1/students/{student_no()}", json=student_payload(learning_centre="5135702"), headers=centre_a
    )
    assert_problem(created, 422, "registry.learning_centre_not_found")
    # Transferring one's own student to a centre out of reach: same.
    transfer = await direct(suite).post(
        f"/api/v1/students/{mine}/status-changes",
        json={"change_type": "transfer_centre", "reason": "x", "learning_centre": "5135702"},
        headers=centre_a,
    )
    assert_problem(transfer, 422, "registry.learning_centre_not_found")
    # Lists are filtered, even when the other centre is asked for explicitly.
    listed = (await direct(suite).get("/api/v1/students", headers=centre_a)).json()
    assert {s["learning_centre"] for s in listed["items"]} == {"5135701"} and listed["count"] >= 1
    asked = (
        await direct(suite).get("/api/v1/students", params={"centre": "5135702"}, headers=centre_a)
    ).json()
    assert asked == {"items": [], "next_cursor": None, "count": 0}
    assert_problem(await direct(suite).get("/api/v1/learning-centres/5135702", headers=centre_a), 404)


# ---- lists -------------------------------------------------------------------------------------


async def test_lists_filter_and_page_with_a_stable_cursor(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway, "5135703")
    numbers = sorted(
        [await create_student(suite.gateway, learning_centre="5135703", class_code="C7") for _ in range(7)]
    )
    await create_student(suite.gateway, learning_centre="5135703", class_code="C8", name="李四")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"centre": "5135703", "class": "C7", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await suite.gateway.get("/api/v1/students", params=params)).json()
        assert page["count"] == 7
        seen += [s["student_no"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == numbers
    by_name = (
        await suite.gateway.get("/api/v1/students", params={"centre": "5135703", "name_prefix": "李"})
    ).json()
    assert by_name["count"] == 1 and by_name["items"][0]["name"] == "李四"
    by_term = await suite.gateway.get(
        "/api/v1/students", params={"centre": "5135703", "enrolment_term": "2021春"}
    )
    assert by_term.json()["count"] == 8
    assert_problem(
        await suite.gateway.get("/api/v1/students", params={"cursor": "%%%"}),
        422,
        "request.validation_failed",
    )
    assert_problem(
        await suite.gateway.get("/api/v1/students", params={"cursor": "bm90LWEtY3Vyc29y"}),
        422,
        "registry.cursor_invalid",
    )


# ---- status changes ----------------------------------------------------------------------------


async def test_status_changes_follow_the_rules_and_are_logged(suite: Suite) -> None:
    client = suite.gateway
    await ensure_learning_centre(client, "5135702")
    number = await create_student(client)
    base = f"/api/v1/students/{number}/status-changes"
    suspended = await client.post(
        base, json={"change_type": "suspend", "reason": "工作调动", "effective_date": "2026-03-01"}
    )
    assert suspended.status_code == 201 and suspended.json()["to_status"] == "suspended"
    assert_problem(
        await client.post(base, json={"change_type": "suspend", "reason": "again"}),
        409,
        "registry.illegal_status_change",
    )
    assert (await client.post(base, json={"change_type": "resume", "reason": "复学"})).json()[
        "to_status"
    ] == "enrolled"
    major = await client.post(
        base, json={"change_type": "change_major", "reason": "转专业", "major": "会计学"}
    )
    assert major.json()["details"] == {"major": {"from": "机电一体化技术", "to": "会计学"}}
    assert_problem(
        await client.post(base, json={"change_type": "change_major", "reason": "same"}),
        422,
        "registry.status_change_field_missing",
    )
    moved = await client.post(
        base, json={"change_type": "transfer_centre", "reason": "搬家", "learning_centre": "5135702"}
    )
    assert moved.status_code == 201
    assert (await client.post(base, json={"change_type": "withdraw", "reason": "本人申请"})).json()[
        "to_status"
    ] == "withdrawn"
    for change in ("resume", "suspend", "cancel", "withdraw"):
        assert_problem(
            await client.post(base, json={"change_type": change, "reason": "x"}),
            409,
            "registry.illegal_status_change",
        )
    assert_problem(await client.post(base, json={"change_type": "graduate", "reason": "x"}), 422)

    student = (await client.get(f"/api/v1/students/{number}")).json()
    assert (student["status"], student["major"], student["learning_centre"]) == (
        "withdrawn",
        "会计学",
        "5135702",
    )
    log = (await client.get(base)).json()["items"]
    assert [c["change_type"] for c in log] == [
        "registered", "suspend", "resume", "change_major", "transfer_centre", "withdraw"
    ]  # fmt: skip
    assert (
        log[1]["effective_date"] == "2026-03-01" and log[1]["actor"] == "key:key_bootstrap"
    )  # who: the API key


async def test_a_status_set_through_put_goes_through_the_same_rules(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    number = student_no()
    payload = student_payload()
    await suite.gateway.put(f"/api/v1/students/{number}", json=payload)
    suspended = await suite.gateway.put(f"/api/v1/students/{number}", json={**payload, "status": "suspended"})
    assert suspended.json()["status"] == "suspended"
    log = (await suite.gateway.get(f"/api/v1/students/{number}/status-changes")).json()["items"]
    assert log[-1]["change_type"] == "suspend"
    await suite.gateway.post(
        f"/api/v1/students/{number}/status-changes", json={"change_type": "cancel", "reason": "x"}
    )
    back = await suite.gateway.put(f"/api/v1/students/{number}", json={**payload, "status": "enrolled"})
    assert_problem(back, 409, "registry.illegal_status_change")


async def test_a_stale_version_is_refused(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    number = student_no()
    payload = student_payload()
    first = await suite.gateway.put(f"/api/v1/students/{number}", json=payload)
    assert first.headers["etag"] == '"1"'
    assert (
        await suite.gateway.put(
            f"/api/v1/students/{number}", json={**payload, "major": "会计学"}, headers={"if-match": "1"}
        )
    ).status_code == 200
    stale = await suite.gateway.put(
        f"/api/v1/students/{number}", json={**payload, "major": "法学"}, headers={"if-match": "1"}
    )
    body = assert_problem(stale, 409, "registry.version_conflict")
    assert body["current_version"] == 2
    stale_body = await suite.gateway.put(
        f"/api/v1/students/{number}", json={**payload, "major": "法学", "version": 1}
    )
    assert_problem(stale_body, 409, "registry.version_conflict")
    assert (await suite.gateway.get(f"/api/v1/students/{number}")).json()["major"] == "会计学"


# ---- prior-education review and identity flag -------------------------------------------------


async def test_prior_education_review_workflow_to_formal_status(suite: Suite) -> None:
    client = suite.gateway
    number = await create_student(client, level="bachelor_from_junior_college")
    path = f"/api/v1/students/{number}/prior-education-review"
    flagged = await client.post(path, data={"action": "flag", "notice_date": "2026-01-31"})
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["state"] == "pending" and flagged.json()["deadline"] == "2026-04-30"
    assert flagged.json()["course_selection_allowed"] is False
    assert (await client.get(f"/api/v1/students/{number}")).json()["course_selection_allowed"] is False

    wrong_type = await client.post(
        path,
        data={
            "action": "first_review",
            "outcome": "passed",
            "prior_graduation_year": "2001",
            "evidence_type": "registration_record",
        },
        files={"evidence": ("r.pdf", PDF, "application/pdf")},
    )
    body = assert_problem(wrong_type, 422, "registry.prior_education_evidence_type")
    assert body["required_evidence_type"] == "credential_report"
    not_a_pdf = await client.post(
        path,
        data={
            "action": "first_review",
            "outcome": "passed",
            "prior_graduation_year": "2001",
            "evidence_type": "credential_report",
        },
        files={"evidence": ("r.pdf", b"GIF89a...", "application/pdf")},
    )
    assert_problem(not_a_pdf, 415, "registry.evidence_type_unsupported")
    assert (await client.get(path)).json()["steps"][-1]["stage"] == "flagged"

    failed_first = await client.post(
        path,
        data={
            "action": "first_review",
            "outcome": "failed",
            "prior_graduation_year": "2001",
            "evidence_type": "credential_report",
        },
        files={"evidence": ("r.pdf", PDF, "application/pdf")},
    )
    assert failed_first.json()["state"] == "second_review"
    assert failed_first.json()["required_evidence"] == [
        "prior_diploma",
        "id_card",
        "identity_consistency_proof",
    ]
    evidence = failed_first.json()["steps"][-1]["evidence"][0]
    assert (
        evidence["media_type"] == "application/pdf"
        and evidence["size"] == len(PDF)
        and len(evidence["sha256"]) == 64
    )
    download = await client.get(f"{path}/evidence/{evidence['sha256']}")
    assert download.content == PDF and download.headers["content-type"] == "application/pdf"
    other = await create_student(client)
    assert_problem(
        await client.get(f"/api/v1/students/{other}/prior-education-review/evidence/{evidence['sha256']}"),
        404,
        "registry.evidence_not_found",
    )

    passed = await client.post(
        path,
        data={"action": "second_review", "outcome": "passed",
              "evidence_type": ["prior_diploma", "id_card", "identity_consistency_proof"]},
        files=[("evidence", ("a.pdf", PDF, "application/pdf")), ("evidence", ("b.png", png(), "image/png")),
               ("evidence", ("c.pdf", PDF + b"x", "application/pdf"))],
    )  # fmt: skip
    assert passed.status_code == 200, passed.text
    assert passed.json()["formal_status"] is True and passed.json()["course_selection_allowed"] is True
    history = (await client.get(f"/api/v1/students/{number}/history")).json()
    assert [s["stage"] for s in history["prior_education_reviews"]] == [
        "flagged",
        "first_review",
        "second_review",
    ]


async def test_a_failed_second_review_cancels_the_status(suite: Suite) -> None:
    client = suite.gateway
    number = await create_student(client, level="bachelor_from_junior_college")
    path = f"/api/v1/students/{number}/prior-education-review"
    await client.post(path, data={"action": "flag"})
    await client.post(
        path,
        data={
            "action": "first_review",
            "outcome": "failed",
            "abroad": "true",
            "evidence_type": "overseas_credential",
        },
        files={"evidence": ("r.jpg", b"\xff\xd8\xff\xe0 jpeg", "image/jpeg")},
    )
    failed = await client.post(
        path,
        data={"action": "second_review", "outcome": "failed",
              "evidence_type": ["prior_diploma", "id_card", "identity_consistency_proof"]},
        files=[("evidence", ("a.pdf", PDF, "application/pdf"))] * 3,
    )  # fmt: skip
    assert failed.json()["state"] == "failed"
    student = (await client.get(f"/api/v1/students/{number}")).json()
    assert student["status"] == "cancelled"
    log = (await client.get(f"/api/v1/students/{number}/status-changes")).json()["items"]
    assert log[-1]["change_type"] == "cancel"
    assert_problem(await client.post(path, data={"action": "flag"}), 409)


async def test_only_junior_to_bachelor_students_are_flagged(suite: Suite) -> None:
    number = await create_student(suite.gateway, level="junior_college")
    response = await suite.gateway.post(
        f"/api/v1/students/{number}/prior-education-review", data={"action": "flag"}
    )
    assert_problem(response, 409, "registry.prior_education_not_applicable")


async def test_overdue_reviews_are_listed(suite: Suite) -> None:
    number = await create_student(suite.gateway, level="bachelor_from_junior_college")
    await suite.gateway.post(
        f"/api/v1/students/{number}/prior-education-review",
        data={"action": "flag", "notice_date": "2020-01-01"},
    )
    overdue = (await suite.gateway.get("/api/v1/prior-education-reviews/overdue")).json()
    assert {"student_no": number, "deadline": "2020-04-01"}.items() <= next(
        o for o in overdue if o["student_no"] == number
    ).items()


async def test_identity_flag_is_set_with_a_kind_and_cleared_by_a_review(suite: Suite) -> None:
    number = await create_student(suite.gateway)
    path = f"/api/v1/students/{number}/identity-flag"
    assert_problem(
        await suite.gateway.post(path, json={"in_doubt": True, "reason": "x"}),
        422,
        "registry.identity_doubt_kind_missing",
    )
    assert_problem(
        await suite.gateway.post(path, json={"in_doubt": False, "reason": "x"}),
        409,
        "registry.identity_not_in_doubt",
    )
    flagged = await suite.gateway.post(
        path, json={"in_doubt": True, "kind": "uncertain", "reason": "学信网反馈"}
    )
    assert (
        flagged.json()["identity_in_doubt"] is True and flagged.json()["identity_doubt_kind"] == "uncertain"
    )
    reader = suite.headers("registry:read", "registry:write")
    assert_problem(
        await direct(suite).post(path, json={"in_doubt": False, "reason": "x"}, headers=reader),
        403,
    )
    cleared = await suite.gateway.post(path, json={"in_doubt": False, "reason": "复核备案，省厅同意"})
    assert cleared.json()["identity_in_doubt"] is False
    flags = (await suite.gateway.get(f"/api/v1/students/{number}/history")).json()["identity_flags"]
    assert [(f["in_doubt"], f["kind"]) for f in flags] == [(True, "uncertain"), (False, None)]


# ---- collection code ---------------------------------------------------------------------------


async def test_collection_code_is_signed_and_its_qr_is_a_png(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    payload = student_payload(name="张小三")
    number = student_no()
    await suite.gateway.put(f"/api/v1/students/{number}", json=payload)
    issued = await suite.gateway.post(f"/api/v1/students/{number}/collection-code")
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["display"]["name_masked"] == "张**三"
    assert body["display"]["id_number_masked"] == "*****" + payload["id_number"][-4:]
    assert body["display"]["level_label_zh"] == "专科"
    assert payload["id_number"] not in body["code"] and payload["id_number"][-4:] not in body["code"]
    from gradops_registry.settings import DEV_COLLECTION_CODE_KEY

    claims = verify_code(body["code"], DEV_COLLECTION_CODE_KEY)
    assert claims.student_no == number
    image = Image.open(io.BytesIO(base64.b64decode(body["qr_png_base64"])))
    assert image.format == "PNG" and image.width >= 200
    as_png = await suite.gateway.post(
        f"/api/v1/students/{number}/collection-code", headers={"accept": "image/png"}
    )
    assert as_png.headers["content-type"] == "image/png" and as_png.content.startswith(b"\x89PNG")

    await suite.gateway.post(
        f"/api/v1/students/{number}/status-changes", json={"change_type": "suspend", "reason": "x"}
    )
    assert_problem(
        await suite.gateway.post(f"/api/v1/students/{number}/collection-code"),
        409,
        "registry.collection_code_not_enrolled",
    )


# ---- import through the gateway ----------------------------------------------------------------


async def test_import_is_all_or_nothing_unless_partial(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    good, bad = student_no(), student_no()
    content = roster_csv([chinese_row(good), chinese_row(bad, 性别="男")], "gb18030")
    refused = await suite.gateway.post(
        "/api/v1/students/imports", files={"file": ("名单.csv", content, "text/csv")}
    )
    body = assert_problem(refused, 422, "registry.import_rejected")
    error = body["report"]["results"][1]["errors"][0]
    assert (error["row"], error["column"], error["code"]) == (3, "性别", "registry.gender_mismatch")
    assert (await suite.gateway.get(f"/api/v1/students/{good}")).status_code == 404

    dry = await suite.gateway.post(
        "/api/v1/students/imports", params={"dry_run": "true"}, files={"file": ("r.csv", content, "text/csv")}
    )
    assert dry.status_code == 200 and [r["outcome"] for r in dry.json()["results"]] == [
        "would_create",
        "invalid",
    ]
    assert (await suite.gateway.get(f"/api/v1/students/{good}")).status_code == 404

    partial = await suite.gateway.post(
        "/api/v1/students/imports", params={"partial": "true"}, files={"file": ("r.csv", content, "text/csv")}
    )
    assert partial.json()["created"] == 1 and partial.json()["invalid"] == 1
    student = (await suite.gateway.get(f"/api/v1/students/{good}")).json()
    assert (student["name"], student["enrolment_term"], student["gender"]) == (
        "王五",
        "2022-autumn",
        "female",
    )
