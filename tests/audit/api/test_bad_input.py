"""The audit under bad input (issue 13): refused at the edge with a 422 that names the item, never a
5xx, and nothing stored; the registry's "this input is bad" is not reported as an outage; a batch's
issue date is its graduation date; every list pages by cursor."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gradops_shared.text import encode_cursor
from tests.audit.api.test_audit_api import (
    BATCH,
    Suite,
    apply,
    approve_graduation_photo,
    until_audit,
    with_open_batch,
)
from tests.e2e.slice import assert_problem
from tests.factories import create_student, open_batch_payload, transcript_payload
from tests.support.suite import Suite as SharedSuite


@pytest.fixture
async def env(suite: SharedSuite) -> Suite:
    return await with_open_batch(suite)


def refused_field(response: httpx.Response) -> list[str]:
    body = assert_problem(response, 422, "request.validation_failed")
    return [e["field"] for e in body["errors"]]


# student numbers --------------------------------------------------------------------------------


async def test_a_malformed_student_number_in_a_list_is_refused_naming_the_item(env: Suite) -> None:
    client = env.client
    number = await create_student(client)
    await client.put(f"/api/v1/students/{number}/transcript", json=transcript_payload())
    for bad in ["12\x00", "2021\x1b1", "a b", " 12", "学号", "1" * 33, ""]:
        assert refused_field(await apply(client, [number, bad])) == ["student_nos.1"], bad
        signed = await client.post(
            f"/api/v1/graduation-batches/{BATCH}/sign-offs", json={"student_nos": [bad]}
        )
        assert refused_field(signed) == ["student_nos.0"]
        bulk = await client.put(
            "/api/v1/transcripts", json={"transcripts": [{"student_no": bad, **transcript_payload()}]}
        )
        assert refused_field(bulk) == ["transcripts.0.student_no"]
    # Nothing was applied for: the valid number of the refused request is not in the batch.
    listed = (await client.get(f"/api/v1/graduation-batches/{BATCH}/audits")).json()
    assert listed["count"] == 0


async def test_the_audit_service_refuses_control_characters_in_every_path_parameter(env: Suite) -> None:
    # Straight to the service (percent-encoded, as a proxy forwards them): a 422 naming the parameter.
    paths = {
        "/api/v1/students/%04x/audit": "student_no",
        "/api/v1/students/a%00/exceptions": "student_no",
        "/api/v1/students/2021000001/exceptions/%1b" + "0" * 35: "exception_id",
        "/api/v1/audits/%1b" + "0" * 35: "audit_id",
        "/api/v1/graduation-batches/2026%0a2/audits": "code",
        "/api/v1/rule-sets/r%0d": "code",
    }
    async with env.as_centre("5135701") as audit:
        for path, field in paths.items():
            method = "DELETE" if "/exceptions/" in path else "PUT" if "/rule-sets/" in path else "GET"
            answer = await audit.request(
                method, path, json={"level": "bachelor"} if method == "PUT" else None
            )
            assert field in refused_field(answer), path


def registry_answering(status: int) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if status == 0:
            raise httpx.ConnectError("registry down", request=request)
        return httpx.Response(status, json={"code": "registry.whatever"})

    return httpx.MockTransport(answer)


REGISTRY_ANSWERS = [
    (422, 422, "audit.student_no_invalid"),
    (400, 422, "audit.student_no_invalid"),
    (404, 404, "audit.student_not_found"),
    (403, 404, "audit.student_not_found"),
    (503, 503, "audit.registry_unavailable"),
    (500, 503, "audit.registry_unavailable"),
    (0, 503, "audit.registry_unavailable"),  # not reachable at all
]


async def test_the_registry_refusing_a_number_is_the_clients_error_only_its_failure_is_an_outage(
    env: Suite,
) -> None:
    runtime = env.suite.runtimes["audit"]
    unknown = "2099000001"  # not in the audit's projection: the audit asks the registry
    for registry_status, status, code in REGISTRY_ANSWERS:
        runtime.peer_transports["registry"] = registry_answering(registry_status)
        runtime._clients.pop("registry", None)  # the next call builds its client on the new transport
        body = assert_problem(await apply(env.client, [unknown]), status, code)
        if status == 422:
            assert body["student_no"] == unknown
        put = await env.client.put(f"/api/v1/students/{unknown}/transcript", json=transcript_payload())
        assert_problem(put, status, code)
        assert_problem(await env.client.get(f"/api/v1/students/{unknown}/transcript"), 404)


# control characters in text fields --------------------------------------------------------------


def _course(**changes: Any) -> dict[str, Any]:
    payload = transcript_payload()
    payload["courses"][0].update(changes)
    return payload


TEXT_CASES: list[tuple[str, str, Any, str]] = [
    ("PUT", "/students/{no}/transcript", _course(name="机械\x00制图"), "courses.0.name"),
    ("PUT", "/students/{no}/transcript", _course(code="R\x1b[31m"), "courses.0.code"),
    ("PUT", "/students/{no}/transcript", _course(name="机械制图\t"), "courses.0.name"),
    (
        "PUT",
        "/students/{no}/transcript",
        {**transcript_payload(), "degree_english": {"exam": "cet4\x85", "passed": True}},
        "degree_english.exam",
    ),
    ("PUT", "/students/{no}/transcript", {**transcript_payload(), "source": "lms\u2028"}, "source"),
    (
        "PUT",
        "/transcripts",
        {"transcripts": [{"student_no": "{no}", **_course(name="\x7f")}]},
        "transcripts.0.courses.0.name",
    ),
    ("PUT", f"/graduation-batches/{BATCH}", open_batch_payload(name="第四\x00季度"), "name"),
    (
        "PUT",
        f"/graduation-batches/{BATCH}",
        open_batch_payload(cohort_cutoff_term="2021\x08春"),
        "cohort_cutoff_term",
    ),
    (
        "POST",
        "/students/{no}/exceptions",
        {"kind": "waive_check", "check_code": "audit.credits_practice", "approver": "王\x1b", "reason": "r"},
        "approver",
    ),
    (
        "POST",
        "/students/{no}/exceptions",
        {"kind": "waive_check", "check_code": "audit.credits_practice", "approver": "王", "reason": "a\x00b"},
        "reason",
    ),
    ("POST", "/students/{no}/what-if-audits", {"major": "会计\x9b"}, "major"),
    (
        "POST",
        "/students/{no}/what-if-audits",
        {"courses": [{"code": "X1", "name": "论文\x0c", "credits": 4, "category": "thesis"}]},
        "courses.0.name",
    ),
    ("PUT", "/rule-sets/uni-rules", {"level": "bachelor", "description": "\x1b[2J"}, "description"),
    (
        "PUT",
        "/rule-sets/uni-rules",
        {"level": "bachelor", "required_courses": ["R\x00"]},
        "required_courses.0",
    ),
    (
        "POST",
        f"/graduation-batches/{BATCH}/applications",
        {"type": "graduate", "student_nos": ["{no}"], "secondary_vocational_proof": "证\x00"},
        "secondary_vocational_proof",
    ),
]


def _fill(value: Any, number: str) -> Any:
    if isinstance(value, str):
        return value.replace("{no}", number)
    if isinstance(value, list):
        return [_fill(v, number) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, number) for k, v in value.items()}
    return value


async def test_control_characters_in_any_audit_text_are_refused_naming_the_field_and_store_nothing(
    env: Suite,
) -> None:
    client = env.client
    batch_before = (await client.get(f"/api/v1/graduation-batches/{BATCH}")).json()
    for method, path, body, field in TEXT_CASES:
        number = await create_student(client)
        answer = await client.request(method, "/api/v1" + _fill(path, number), json=_fill(body, number))
        assert refused_field(answer) == [field], answer.text
        assert "control characters" in answer.json()["errors"][0]["message"]
        assert_problem(await client.get(f"/api/v1/students/{number}/transcript"), 404)
        assert (await client.get(f"/api/v1/students/{number}/exceptions")).json()["count"] == 0
        audits = await client.get(f"/api/v1/students/{number}/audits", params={"kind": "all"})
        assert audits.json()["count"] == 0
    assert (await client.get(f"/api/v1/graduation-batches/{BATCH}")).json() == batch_before
    rule_sets = (await client.get("/api/v1/rule-sets")).json()["items"]
    assert "uni-rules" not in {r["code"] for r in rule_sets}
    assert (await client.get(f"/api/v1/graduation-batches/{BATCH}/audits")).json()["count"] == 0


async def test_a_reason_may_span_lines(env: Suite) -> None:
    number = await create_student(env.client)
    granted = await env.client.post(
        f"/api/v1/students/{number}/exceptions",
        json={
            "kind": "waive_check",
            "check_code": "audit.credits_practice",
            "approver": "王老师",
            "reason": "经教务处批准\n见 2024-03 会议纪要",
        },
    )
    assert granted.status_code == 201 and granted.json()["reason"] == "经教务处批准\n见 2024-03 会议纪要"


# issue date = graduation date ---------------------------------------------------------------------


MISMATCHES: list[tuple[str, dict[str, Any], str]] = [
    ("202406", {}, "2023-01-01"),  # the one accepted before: a June batch graduates on 31 July
    ("202612", {}, "2026-12-31"),
    ("202303", {}, "2023-07-31"),  # March batches graduate on 31 January
    ("202307", {"graduation_date_rule": "fixed", "graduation_date": "2023-07-20"}, "2023-07-21"),
]


async def test_an_issue_date_other_than_the_graduation_date_is_refused_and_changes_nothing(
    env: Suite,
) -> None:
    for code, changes, issue_date in MISMATCHES:
        before = await env.client.get(f"/api/v1/graduation-batches/{code}")
        payload = open_batch_payload(batch=code, **changes, issue_date=issue_date)
        refused = await env.client.put(f"/api/v1/graduation-batches/{code}", json=payload)
        body = assert_problem(refused, 422, "audit.issue_date_mismatch")
        assert body["issue_date"] == issue_date and body["graduation_date"] != issue_date
        after = await env.client.get(f"/api/v1/graduation-batches/{code}")
        assert (after.status_code, after.json()) == (before.status_code, before.json())


async def test_the_readme_batch_passes_and_an_omitted_issue_date_is_the_graduation_date(env: Suite) -> None:
    client = env.client
    readme = {
        "cohort_cutoff_term": "2021-spring",
        "issue_date": "2027-01-31",
        "graduation_date_rule": "quarterly",
        "rounds": [{"number": 1, "opens_on": "2026-11-01", "closes_on": "2026-12-20"}],
    }
    created = await client.put("/api/v1/graduation-batches/202612", json=readme)
    assert created.status_code in (200, 201), created.text
    assert created.json()["issue_date"] == created.json()["graduation_date"] == "2027-01-31"
    omitted = {k: v for k, v in readme.items() if k != "issue_date"}
    june = await client.put("/api/v1/graduation-batches/202406", json=omitted)
    assert june.status_code == 201 and june.json()["issue_date"] == "2024-07-31"
    fixed = await client.put(
        "/api/v1/graduation-batches/202307",
        json={**omitted, "graduation_date_rule": "fixed", "graduation_date": "2023-07-20"},
    )
    assert fixed.status_code == 201 and fixed.json()["issue_date"] == "2023-07-20"


# cursor pages -------------------------------------------------------------------------------------


async def walk(client: httpx.AsyncClient, path: str, limit: int, **params: Any) -> tuple[list[Any], int]:
    items: list[Any] = []
    cursor = None
    while True:
        page = await client.get(
            path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items, body["count"]


async def test_batches_exceptions_and_rule_sets_page_by_cursor(env: Suite) -> None:
    client = env.client
    for code in ("202403", "202406", "202409"):
        assert (
            await client.put(f"/api/v1/graduation-batches/{code}", json=open_batch_payload(batch=code))
        ).status_code == 201
    batches, count = await walk(client, "/api/v1/graduation-batches", 2)
    codes = [b["code"] for b in batches]
    assert (
        count == 4 and codes == sorted(codes, reverse=True) and set(codes) >= {"202403", "202406", "202409"}
    )

    number = await create_student(client)
    for check in ("audit.credits_practice", "audit.credits_total", "audit.thesis"):
        granted = await client.post(
            f"/api/v1/students/{number}/exceptions",
            json={"kind": "waive_check", "check_code": check, "approver": "王", "reason": "批准"},
        )
        assert granted.status_code == 201, granted.text
    exceptions, count = await walk(client, f"/api/v1/students/{number}/exceptions", 1)
    assert count == 3 and [e["check_code"] for e in exceptions] == [
        "audit.credits_practice",
        "audit.credits_total",
        "audit.thesis",
    ]

    for _ in range(2):
        stored = await client.put(
            "/api/v1/rule-sets/uni-rules", json={"level": "bachelor", "min_total_credits": 150}
        )
        assert stored.status_code == 201
    whole = (await client.get("/api/v1/rule-sets")).json()
    paged, count = await walk(client, "/api/v1/rule-sets", 2)
    assert paged == whole["items"] and count == whole["count"] == len(paged)
    assert [(r["code"], r["version"]) for r in paged if r["code"] == "uni-rules"] == [
        ("uni-rules", 1),
        ("uni-rules", 2),
    ]


FOREIGN_CURSORS = [
    "²",  # not ASCII (and a digit to str.isdigit)
    "%%%",
    encode_cursor("\x00"),
    encode_cursor("²"),
    encode_cursor("99999999999999999999999"),  # past a bigint
    encode_cursor("2024-01-01T00:00:00|00000000-0000-4000-8000-000000000000"),  # no offset
    encode_cursor("not|a|position"),
    "A" * 600,
]


async def test_a_cursor_this_api_did_not_give_is_a_422(env: Suite) -> None:
    number = await create_student(env.client)
    for path in (
        "/api/v1/graduation-batches",
        f"/api/v1/graduation-batches/{BATCH}/audits",
        f"/api/v1/students/{number}/audits",
        f"/api/v1/students/{number}/exceptions",
        "/api/v1/rule-sets",
    ):
        for cursor in FOREIGN_CURSORS:
            answer = await env.client.get(path, params={"cursor": cursor})
            assert answer.status_code == 422, (path, cursor, answer.text)
            assert answer.json()["code"] in ("audit.cursor_invalid", "request.validation_failed")


# sign-off that waits for the pending re-audit ----------------------------------------------------


def practice_missing() -> dict[str, Any]:
    short = transcript_payload()
    short["courses"] = [c for c in short["courses"] if c["category"] != "practice"]
    return short


async def failing_on_the_transcript(env: Suite) -> str:
    """A student with an approved photo whose open application fails on practice credits alone."""
    client = env.client
    number = await create_student(client)
    assert (
        await client.put(f"/api/v1/students/{number}/transcript", json=practice_missing())
    ).status_code == 200
    await approve_graduation_photo(client, number)
    applied = await apply(client, [number])
    assert applied.status_code == 201, applied.text
    await until_audit(client, number, lambda a: a["failed_checks"] == ["audit.credits_practice"])
    return number


class HeldWait:
    """Replaces the sign-off's pause: the first pause tells the test the wait has begun and holds
    until the test has applied its re-audit, so the order of events is fixed, not timed."""

    def __init__(self) -> None:
        self.began = asyncio.Event()
        self.release = asyncio.Event()
        self.pauses = 0

    async def __call__(self, seconds: float) -> None:
        self.pauses += 1
        self.began.set()
        await self.release.wait()


async def sign_off_while(
    env: Suite, number: str, held: HeldWait, transcript: dict[str, Any]
) -> httpx.Response:
    """Signs off with a wait; once the sign-off is waiting, a transcript PUT re-audits the student."""
    signing = asyncio.create_task(
        env.client.post(
            f"/api/v1/graduation-batches/{BATCH}/sign-offs",
            json={"student_nos": [number], "wait_seconds": 20},
        )
    )
    await held.began.wait()  # the sign-off saw the failing audit and waits for a newer one
    assert (await env.client.put(f"/api/v1/students/{number}/transcript", json=transcript)).status_code == 200
    held.release.set()
    return await signing


async def test_a_sign_off_that_waits_signs_off_on_the_re_audit_that_arrives_meanwhile(
    env: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradops_audit.service import sign_offs

    number = await failing_on_the_transcript(env)
    held = HeldWait()
    monkeypatch.setattr(sign_offs, "pause", held)
    signed = await sign_off_while(env, number, held, transcript_payload())
    assert signed.status_code == 200, signed.text
    assert signed.json()["signed_off"] == [number] and signed.json()["skipped"] == []
    assert held.pauses == 1  # it waited once, then found the newer, passing audit
    assert (await env.audit_events(number))[-1] == "AuditPassed"


async def test_a_newer_audit_that_still_fails_ends_the_wait_and_is_reported(
    env: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradops_audit.service import sign_offs

    number = await failing_on_the_transcript(env)
    held = HeldWait()
    monkeypatch.setattr(sign_offs, "pause", held)
    still_short = practice_missing()
    still_short["courses"] = still_short["courses"][1:]
    signed = await sign_off_while(env, number, held, still_short)
    assert signed.json()["signed_off"] == []
    assert [s["code"] for s in signed.json()["skipped"]] == ["audit.not_passing"]
    assert held.pauses == 1


async def test_without_a_newer_audit_the_wait_ends_and_a_passing_student_is_not_kept_waiting(
    env: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradops_audit.service import sign_offs

    client = env.client
    number = await failing_on_the_transcript(env)
    path = f"/api/v1/graduation-batches/{BATCH}/sign-offs"
    unchanged = await client.post(path, json={"student_nos": [number], "wait_seconds": 0.3})
    assert [s["code"] for s in unchanged.json()["skipped"]] == ["audit.not_passing"]

    pauses: list[float] = []

    async def counted(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(sign_offs, "pause", counted)
    assert (
        await client.put(f"/api/v1/students/{number}/transcript", json=transcript_payload())
    ).status_code == 200
    passing = await client.post(path, json={"student_nos": [number], "wait_seconds": 20})
    assert passing.json()["signed_off"] == [number] and pauses == []

    assert_problem(
        await client.post(path, json={"all_passing": True, "wait_seconds": 5}),
        422,
        "audit.sign_off_wait_needs_students",
    )
    for bad in (21, -1, "soon"):
        assert refused_field(
            await client.post(path, json={"student_nos": [number], "wait_seconds": bad})
        ) == ["wait_seconds"]
