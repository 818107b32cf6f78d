"""Batches, rule sets, exceptions and what-if runs, called as use cases on real PostgreSQL (rolled
back per test)."""

from __future__ import annotations

import pytest

from gradops_audit import schemas
from gradops_audit.models import Audit
from gradops_audit.service import applications, audits, batches, exceptions, rule_sets, transcripts
from gradops_shared.errors import Conflict, InvalidInput, NotFound
from tests.audit.usecases.builders import (
    HQ,
    SETTINGS,
    FakeRegistry,
    a_batch,
    a_student,
    application_of,
    emitted,
    with_transcript,
)
from tests.factories import open_batch_payload, transcript_payload
from tests.support.databases import RolledBack


async def test_a_batch_is_created_then_replaced_and_unknown_ones_are_a_catalogued_404(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("audit") as session:
        code = "209912"
        data = schemas.BatchIn.model_validate(open_batch_payload(batch=code, name="first"))
        batch, created = await batches.put_batch(session, code, data, "hq")
        assert created and batch.name == "first"
        again = schemas.BatchIn.model_validate(open_batch_payload(batch=code, name="second"))
        batch, created = await batches.put_batch(session, code, again, "hq")
        assert not created and batch.name == "second"
        assert (await batches.get_batch(session, code)).name == "second"
        listed = await batches.list_batches(session, limit=500, cursor=None)
        codes = [b.code for b in listed.items]
        assert code in codes and codes == sorted(codes, reverse=True)  # newest first
        first = await batches.list_batches(session, limit=1, cursor=None)
        assert first.count == listed.count and [b.code for b in first.items] == codes[:1]
        if first.next_cursor is not None:
            rest = await batches.list_batches(session, limit=500, cursor=first.next_cursor)
            assert [b.code for b in rest.items] == codes[1:]
        with pytest.raises(NotFound) as missing:
            await batches.get_batch(session, "209811")
        assert missing.value.code == "audit.batch_not_found"


async def test_a_cursor_the_api_did_not_give_is_the_audits_own_422(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        with pytest.raises(InvalidInput) as refused:
            await batches.list_batches(session, limit=10, cursor="bm90LWEtYmF0Y2g")
        assert refused.value.code == "audit.cursor_invalid"


async def test_rule_set_versions_count_up_and_shipped_codes_are_refused(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        data = schemas.RuleSetIn.model_validate({"level": "bachelor", "min_total_credits": 150})
        first = await rule_sets.put_rule_set(session, "uc-test-rules", data, "hq")
        second = await rule_sets.put_rule_set(session, "uc-test-rules", data, "hq")
        assert (first.version, second.version) == (1, 2)
        listed = await rule_sets.list_rule_sets(session, SETTINGS.degree_rule_set, limit=500, cursor=None)
        mine = [(e.version, e.in_use) for e in listed.items if e.code == "uc-test-rules"]
        assert mine == [(1, False), (2, True)]
        with pytest.raises(Conflict) as shipped:
            await rule_sets.put_rule_set(session, "default-bachelor", data, "hq")
        assert shipped.value.code == "audit.rule_set_shipped"


async def test_a_waiver_re_audits_and_its_revocation_restores_the_failure(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        number = await a_student(session)
        without_practice = transcript_payload()
        without_practice["courses"] = [c for c in without_practice["courses"] if c["category"] != "practice"]
        await transcripts.put_transcript(
            session, number, schemas.TranscriptIn.model_validate(without_practice), "lms", SETTINGS
        )
        body = schemas.ApplicationsIn.model_validate({"type": "graduate", "student_nos": [number]})
        await applications.apply(session, FakeRegistry(), batch, body, HQ, SETTINGS)
        assert "audit.credits_practice" in ((await application_of(session, number)).failed_checks or [])

        waiver = schemas.ExceptionIn.model_validate(
            {
                "kind": "waive_check",
                "check_code": "audit.credits_practice",
                "approver": "教务处",
                "reason": "x",
            }
        )
        granted = await exceptions.grant_exception(session, FakeRegistry(), HQ, number, waiver, SETTINGS)
        assert "audit.credits_practice" not in ((await application_of(session, number)).failed_checks or [])
        revoked = await exceptions.revoke_exception(session, number, granted.id, "hq", SETTINGS)
        assert revoked.revoked_by == "hq"
        assert "audit.credits_practice" in ((await application_of(session, number)).failed_checks or [])
        listed = await exceptions.list_exceptions(session, HQ, number, limit=10, cursor=None)
        assert [e.id for e in listed.items] == [granted.id] and listed.count == 1


async def test_an_eligibility_check_cannot_be_waived(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        number = await a_student(session)
        waiver = schemas.ExceptionIn.model_validate(
            {
                "kind": "waive_check",
                "check_code": "audit.status_enrolled",
                "approver": "教务处",
                "reason": "x",
            }
        )
        with pytest.raises(InvalidInput) as refused:
            await exceptions.grant_exception(session, FakeRegistry(), HQ, number, waiver, SETTINGS)
        assert refused.value.code == "audit.exception_not_waivable"


async def test_a_what_if_run_is_stored_with_its_inputs_and_emits_nothing(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        number = await a_student(session)
        await with_transcript(session, number)
        scenario = schemas.WhatIfIn.model_validate({"major": "会计学"})
        run = await audits.what_if(session, FakeRegistry(), HQ, number, scenario, SETTINGS)
        stored = await session.get(Audit, run.id)
        assert stored is not None and stored.what_if and stored.trigger == "WhatIf"
        assert stored.scenario is not None and stored.scenario["inputs"] == {"major": "会计学"}
        assert await emitted(session, number) == []
        history = await audits.list_audits(session, HQ, number, what_if=True, limit=10, cursor=None)
        assert [a.id for a in history.items] == [run.id]
        with pytest.raises(NotFound) as none_yet:
            await audits.current_audit(session, HQ, number)  # a what-if is not the student's audit
        assert none_yet.value.code == "audit.not_found"
