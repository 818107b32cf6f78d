"""The graduation audit through the gateway on the embedded default: batches, transcripts,
applications, explained results, exceptions, what-if, history, sign-off, tenancy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gradops_audit.models import outbox
from tests.e2e.slice import assert_problem
from tests.factories import (
    create_student,
    graduation_photo,
    open_batch_code,
    open_batch_payload,
    transcript_payload,
)
from tests.support.suite import Suite as SharedSuite

BATCH = open_batch_code()


@dataclass
class Suite:
    """The shared embedded suite with this module's batch open, and what the audit's tests ask of it."""

    client: httpx.AsyncClient  # the gateway, with HQ's key
    suite: SharedSuite

    @asynccontextmanager
    async def as_centre(self, *centres: str) -> AsyncIterator[httpx.AsyncClient]:
        """The client straight to the audit service, signed as a key bound to these centres."""
        audit = self.suite.services["audit"]
        signed = self.suite.headers("audit:read", "audit:write", centres=set(centres), subject="centre-key")
        audit.headers.update(signed)
        try:
            yield audit
        finally:
            for name in signed:
                audit.headers.pop(name, None)

    async def audit_events(self, number: str) -> list[str]:
        async with self.suite.runtimes["audit"].db.session() as session:
            rows = await session.execute(
                select(outbox.c.event_type).where(outbox.c.key == number).order_by(outbox.c.seq)
            )
            return [row[0] for row in rows]


async def with_open_batch(suite: SharedSuite) -> Suite:
    """The shared suite with this module's batch open (HQ's key)."""
    opened = await suite.gateway.put(f"/api/v1/graduation-batches/{BATCH}", json=open_batch_payload())
    assert opened.status_code == 201, opened.text
    return Suite(suite.gateway, suite)


@pytest.fixture
async def env(suite: SharedSuite) -> Suite:
    return await with_open_batch(suite)


async def approve_graduation_photo(client: httpx.AsyncClient, number: str) -> None:
    submitted = await client.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "graduation"},
        files={"file": ("p.jpg", graduation_photo(), "image/jpeg")},
    )
    assert submitted.status_code == 201, submitted.text
    assert (
        await client.post(f"/api/v1/photo-submissions/{submitted.json()['id']}/approve")
    ).status_code == 200


async def until_audit(client: httpx.AsyncClient, number: str, predicate: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        response = await client.get(f"/api/v1/students/{number}/audit")
        if response.status_code == 200 and predicate(response.json()):
            return dict(response.json())
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.05)


async def apply(
    client: httpx.AsyncClient, numbers: list[str], kind: str = "graduate", **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/graduation-batches/{BATCH}/applications",
        json={"type": kind, "student_nos": numbers, **extra},
    )


async def test_batches_are_validated_and_replaced_by_put(env: Suite) -> None:
    client = env.client
    again = await client.put(f"/api/v1/graduation-batches/{BATCH}", json=open_batch_payload(name="第四季度"))
    assert again.status_code == 200 and again.json()["name"] == "第四季度"
    fixed = await client.put(
        "/api/v1/graduation-batches/202307",
        json=open_batch_payload(
            cohort_cutoff_term="2021春",
            graduation_date_rule="fixed",
            graduation_date="2023-07-20",
            issue_date="2023-07-20",
        ),
    )
    assert fixed.status_code == 201
    assert (
        fixed.json()["graduation_date"] == "2023-07-20"
        and fixed.json()["cohort_cutoff_term"] == "2021-spring"
    )
    assert_problem(
        await client.put("/api/v1/graduation-batches/202307", json=open_batch_payload()),
        422,
        "audit.quarterly_rule_month",
    )
    assert_problem(
        await client.put("/api/v1/graduation-batches/202313", json=open_batch_payload()),
        422,
        "request.validation_failed",  # the path's pattern says YYYYMM with a month 01-12
    )
    overlapping = open_batch_payload()
    overlapping["rounds"].append({**overlapping["rounds"][0], "number": 2})
    assert_problem(
        await client.put(f"/api/v1/graduation-batches/{BATCH}", json=overlapping),
        422,
        "audit.batch_rounds_invalid",
    )
    assert (await client.get(f"/api/v1/graduation-batches/{BATCH}")).json()["name"] == "第四季度"
    assert [b["code"] for b in (await client.get("/api/v1/graduation-batches")).json()["items"]] == [
        BATCH,
        "202307",
    ]
    assert_problem(await client.get("/api/v1/graduation-batches/209912"), 404, "audit.batch_not_found")


async def test_applications_outside_the_window_or_the_cohort_are_refused_and_change_nothing(
    env: Suite,
) -> None:
    client = env.client
    number = await create_student(client)
    today = datetime.now(UTC).date()
    closed = open_batch_payload(
        batch="203006",
        rounds=[
            {
                "number": 1,
                "opens_on": str(today - timedelta(days=60)),
                "closes_on": str(today - timedelta(days=1)),
            }
        ],
    )
    assert (await client.put("/api/v1/graduation-batches/203006", json=closed)).status_code == 201
    refused = await client.post(
        "/api/v1/graduation-batches/203006/applications", json={"type": "graduate", "student_nos": [number]}
    )
    body = assert_problem(refused, 409, "audit.application_window_closed")
    assert body["windows"][0]["round"] == 1

    late = await create_student(client, enrolment_term="2026-spring")
    assert_problem(await apply(client, [late]), 409, "audit.not_in_cohort")
    assert_problem(await apply(client, [number, late]), 409, "audit.not_in_cohort")  # all or nothing
    assert_problem(await apply(client, [number], "graduate_with_degree"), 409, "audit.degree_not_available")
    assert_problem(await apply(client, ["2099999999"]), 404, "audit.student_not_found")
    assert_problem(await client.get(f"/api/v1/students/{number}/audit"), 404, "audit.not_found")
    twice = transcript_payload()
    twice["courses"].append(dict(twice["courses"][0]))
    assert_problem(
        await client.put(f"/api/v1/students/{number}/transcript", json=twice),
        422,
        "audit.transcript_duplicate_course",
    )
    assert_problem(
        await client.get(f"/api/v1/students/{number}/transcript"), 404, "audit.transcript_not_found"
    )
    listed = (await client.get(f"/api/v1/graduation-batches/{BATCH}/audits")).json()
    assert listed == {"items": [], "next_cursor": None, "count": 0}


async def test_an_audit_explains_every_check_and_a_fact_re_audits_it_at_once(env: Suite) -> None:
    client = env.client
    number = await create_student(client)
    short = transcript_payload()
    short["courses"] = [c for c in short["courses"] if c["category"] != "practice"]
    short["courses"][0]["score"] = 41
    assert (await client.put(f"/api/v1/students/{number}/transcript", json=short)).status_code == 200
    applied = await apply(client, [number])
    assert applied.status_code == 201, applied.text
    item = applied.json()["items"][0]
    assert item["result"] == "failed" and item["round"] == 1 and item["state"] == "open"

    audit = (await client.get(f"/api/v1/students/{number}/audit")).json()
    checks = {c["code"]: c for c in audit["checks"]}
    assert audit["failed_checks"] == [
        "audit.graduation_photo_approved",
        "audit.credits_practice",
        "audit.required_courses",
    ]
    assert checks["audit.required_courses"]["missing"] == ["R001"]
    assert (
        checks["audit.credits_practice"]["measured"] == 0
        and checks["audit.credits_practice"]["expected"] == 4
    )
    assert checks["audit.chsi_photos"]["outcome"] == "not_applicable"
    assert checks["audit.required_courses"]["hint_zh"] and checks["audit.required_courses"]["hint_en"]
    assert checks["audit.status_enrolled"]["hint_zh"] is None
    assert audit["rule_set"] == {"code": "default-junior-college", "version": 1}
    # The registry's StudentRegistered may land after the application and re-audit (same result).
    assert len(audit["inputs_digest"]) == 64
    assert audit["trigger"] in ("ApplicationSubmitted", "StudentRegistered")

    failed = (
        await client.get(f"/api/v1/graduation-batches/{BATCH}/audits", params={"result": "failed"})
    ).json()
    assert [i["student_no"] for i in failed["items"]] == [number] and failed["count"] == 1
    assert (
        await client.get(f"/api/v1/graduation-batches/{BATCH}/audits", params={"result": "passed"})
    ).json()["count"] == 0

    # The LMS sends the missing grades; the photo is approved: the audit follows by itself.
    assert (
        await client.put(f"/api/v1/students/{number}/transcript", json=transcript_payload())
    ).status_code == 200
    await approve_graduation_photo(client, number)
    passed = await until_audit(client, number, lambda a: a["result"] == "passed")
    assert passed["trigger"] == "PhotoApproved"

    history = (await client.get(f"/api/v1/students/{number}/audits")).json()
    # Application, transcript, photo (and StudentRegistered when it arrived after the application).
    assert history["count"] >= 3 and passed["id"] in [a["id"] for a in history["items"]]
    diff = (await client.get(f"/api/v1/audits/{passed['id']}/diff", params={"against": audit["id"]})).json()
    assert diff["result_before"] == "failed" and diff["result_after"] == "passed" and diff["digest_changed"]
    assert {c["code"] for c in diff["changes"]} >= {
        "audit.graduation_photo_approved",
        "audit.credits_practice",
        "audit.required_courses",
    }
    first_page = (await client.get(f"/api/v1/students/{number}/audits", params={"limit": 2})).json()
    rest = (
        await client.get(
            f"/api/v1/students/{number}/audits", params={"limit": 2, "cursor": first_page["next_cursor"]}
        )
    ).json()
    assert [a["id"] for a in first_page["items"] + rest["items"]] == [a["id"] for a in history["items"]]
    assert rest["next_cursor"] is None

    # AuditFailed on the first failure only; nothing when passing, AuditPassed only on sign-off.
    assert await env.audit_events(number) == ["AuditFailed"]
    signed = await client.post(
        f"/api/v1/graduation-batches/{BATCH}/sign-offs", json={"student_nos": [number]}
    )
    assert signed.json()["signed_off"] == [number]
    assert await env.audit_events(number) == ["AuditFailed", "AuditPassed"]


async def test_exceptions_waive_and_substitute_and_what_if_changes_nothing(env: Suite) -> None:
    client = env.client
    number = await create_student(client)
    payload = transcript_payload()
    payload["courses"] = [c for c in payload["courses"] if c["category"] != "practice"]
    payload["courses"][0]["score"] = 30
    payload["courses"].append(
        {"code": "S900", "name": "替代课程", "credits": 6, "category": "elective", "score": 90}
    )
    await client.put(f"/api/v1/students/{number}/transcript", json=payload)
    await approve_graduation_photo(client, number)
    assert (await apply(client, [number])).status_code == 201
    await until_audit(client, number, lambda a: "audit.graduation_photo_approved" not in a["failed_checks"])
    events_before = await env.audit_events(number)

    # What-if: with a future practice grade the student would still miss R001; nothing changes.
    what_if = await client.post(
        f"/api/v1/students/{number}/what-if-audits",
        json={
            "courses": [{"code": "P9", "name": "实践", "credits": 6, "category": "practice", "passed": True}]
        },
    )
    assert what_if.status_code == 201, what_if.text
    assert what_if.json()["what_if"] is True and what_if.json()["failed_checks"] == ["audit.required_courses"]
    assert what_if.json()["scenario"]["courses"][0]["code"] == "P9"
    assert (await client.get(f"/api/v1/students/{number}/audit")).json()["id"] != what_if.json()["id"]
    assert [
        a["id"]
        for a in (await client.get(f"/api/v1/students/{number}/audits", params={"kind": "what_if"})).json()[
            "items"
        ]
    ] == [what_if.json()["id"]]
    assert await env.audit_events(number) == events_before

    waive = {
        "kind": "waive_check",
        "check_code": "audit.credits_practice",
        "approver": "教务处 王老师",
        "reason": "实践已在原单位完成",
    }
    granted = await client.post(f"/api/v1/students/{number}/exceptions", json=waive)
    assert granted.status_code == 201, granted.text
    substitute = {
        "kind": "substitute_course",
        "course_code": "R001",
        "substitute_code": "S900",
        "approver": "教务处 王老师",
        "reason": "课程停开，以相近课程替代",
    }
    assert (await client.post(f"/api/v1/students/{number}/exceptions", json=substitute)).status_code == 201
    audit = (await client.get(f"/api/v1/students/{number}/audit")).json()
    assert audit["result"] == "passed"
    practice = next(c for c in audit["checks"] if c["code"] == "audit.credits_practice")
    assert practice["outcome"] == "waived" and practice["exception_id"] == granted.json()["id"]
    assert {e["status"] for e in audit["exceptions"]} == {"applied"}

    not_waivable = {**waive, "check_code": "audit.identity_not_in_doubt"}
    assert_problem(
        await client.post(f"/api/v1/students/{number}/exceptions", json=not_waivable),
        422,
        "audit.exception_not_waivable",
    )

    # A change of major to one whose rule set has no practice minimum: the waiver lapses, and says so.
    rule_set = {"level": "junior_college", "major": "会计", "min_total_credits": 70}
    stored = await client.put("/api/v1/rule-sets/accounting-jc", json=rule_set)
    assert stored.status_code == 201 and stored.json()["version"] == 1
    assert (await client.put("/api/v1/rule-sets/accounting-jc", json=rule_set)).json()["version"] == 2
    assert_problem(
        await client.put("/api/v1/rule-sets/default-bachelor", json=rule_set), 409, "audit.rule_set_shipped"
    )
    moved = await client.post(f"/api/v1/students/{number}/what-if-audits", json={"major": "会计"})
    assert moved.json()["rule_set"] == {"code": "accounting-jc", "version": 2}
    lapsed = next(e for e in moved.json()["exceptions"] if e["id"] == granted.json()["id"])
    assert lapsed["status"] == "lapsed" and "change of major" in lapsed["note_en"]

    revoked = await client.delete(f"/api/v1/students/{number}/exceptions/{granted.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = (await client.get(f"/api/v1/students/{number}/audit")).json()
    assert after["failed_checks"] == ["audit.credits_practice"] and after["trigger"] == "ExceptionRevoked"
    assert (await client.get(f"/api/v1/students/{number}/exceptions")).json()["count"] == 2


async def test_bulk_transcripts_and_applications_by_selection_then_bulk_sign_off(env: Suite) -> None:
    client = env.client
    ready, no_photo, short = [await create_student(client) for _ in range(3)]
    lacking = transcript_payload()
    lacking["courses"] = lacking["courses"][:5]
    bulk = await client.put(
        "/api/v1/transcripts",
        json={
            "transcripts": [
                {"student_no": ready, **transcript_payload()},
                {"student_no": no_photo, **transcript_payload()},
                {"student_no": short, **lacking},
            ]
        },
    )
    assert bulk.status_code == 200 and bulk.json() == {"count": 3, "reaudited": 0}
    await approve_graduation_photo(client, ready)
    await approve_graduation_photo(client, short)
    # The audit learns of the photos by events: wait until the selection sees both.
    deadline = time.monotonic() + 20
    while True:
        selected = await client.post(
            f"/api/v1/graduation-batches/{BATCH}/applications",
            json={
                "type": "graduate",
                "selection": {
                    "enrolment_terms": ["2021春"],
                    "has_graduation_photo": True,
                    "meets_graduation_conditions": True,
                },
            },
        )
        if selected.status_code == 201 and selected.json()["count"]:
            break
        assert time.monotonic() < deadline, selected.text
        await asyncio.sleep(0.1)
    assert [i["student_no"] for i in selected.json()["items"]] == [ready]
    deferred = await apply(client, [no_photo], "defer")
    assert deferred.json()["items"][0]["state"] == "deferred"
    assert (
        await client.get(f"/api/v1/graduation-batches/{BATCH}/audits", params={"result": "deferred"})
    ).json()["count"] == 1
    everyone = await client.post(
        f"/api/v1/graduation-batches/{BATCH}/applications", json={"type": "graduate", "selection": {}}
    )
    assert [i["student_no"] for i in everyone.json()["items"]] == [short]
    assert {s["code"] for s in everyone.json()["skipped"]} == {"audit.application_exists"}

    page = (await client.get(f"/api/v1/graduation-batches/{BATCH}/audits", params={"limit": 2})).json()
    assert page["count"] == 3 and len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await client.get(
            f"/api/v1/graduation-batches/{BATCH}/audits", params={"limit": 2, "cursor": page["next_cursor"]}
        )
    ).json()
    order = [i["student_no"] for i in page["items"] + rest["items"]]
    assert order == [ready, no_photo, short]  # submission order

    run = await client.post(f"/api/v1/graduation-batches/{BATCH}/audit-runs")
    assert run.json()["audited"] == 2 and run.json()["passed"] == 1 and run.json()["events"] == 0
    signed = await client.post(f"/api/v1/graduation-batches/{BATCH}/sign-offs", json={"all_passing": True})
    assert signed.json()["signed_off"] == [ready]
    certificate = await client.get(f"/api/v1/students/{ready}/certificate")
    deadline = time.monotonic() + 20
    while certificate.status_code != 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        certificate = await client.get(f"/api/v1/students/{ready}/certificate")
    assert certificate.status_code == 200, certificate.text
    not_passing = (
        await client.post(f"/api/v1/graduation-batches/{BATCH}/sign-offs", json={"student_nos": [short]})
    ).json()
    assert not_passing["signed_off"] == [] and not_passing["skipped"][0]["code"] == "audit.not_passing"


async def test_a_centre_sees_only_its_own_students(env: Suite) -> None:
    client = env.client
    mine = await create_student(client, learning_centre="5135701")
    theirs = await create_student(client, learning_centre="5135702")
    for number in (mine, theirs):
        await client.put(f"/api/v1/students/{number}/transcript", json=transcript_payload())
        assert (await apply(client, [number])).status_code == 201
    async with env.as_centre("5135701") as centre:
        assert (await centre.get(f"/api/v1/students/{mine}/audit")).status_code == 200
        assert_problem(await centre.get(f"/api/v1/students/{theirs}/audit"), 404, "audit.student_not_found")
        assert_problem(
            await centre.put(f"/api/v1/students/{theirs}/transcript", json=transcript_payload()),
            404,
            "audit.student_not_found",
        )
        listed = (await centre.get(f"/api/v1/graduation-batches/{BATCH}/audits")).json()
        assert [i["student_no"] for i in listed["items"]] == [mine] and listed["count"] == 1
        other_audit = (await client.get(f"/api/v1/students/{theirs}/audit")).json()["id"]
        assert_problem(await centre.get(f"/api/v1/audits/{other_audit}"), 404, "audit.audit_not_found")
        assert_problem(
            await centre.put(f"/api/v1/graduation-batches/{BATCH}", json=open_batch_payload()),
            403,
            "audit.hq_only",
        )
