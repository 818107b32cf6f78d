"""The photo life-cycle on real PostgreSQL: the state machine with its log and events, expiry on the
working-day calendar, re-open and CHSI states, and the bulk-import job with every zip attack.

The registry is answered by a small HTTP stand-in (its own tests cover it); the database is real."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from gradops_photo.models import PhotoImport, PhotoImportFile, PhotoSubmission, SubmissionTransition
from gradops_photo.qc import PROFILES, run_checks
from gradops_photo.qc.pool import QcPool
from gradops_photo.service import reviews, submissions
from gradops_photo.service.history import Deadlines, get_submission
from gradops_photo.service.import_runner import ImportRunner
from gradops_photo.service.imports import ImportOptions, create_import, fail_stale_imports, limits_of
from gradops_photo.settings import PhotoSettings
from gradops_shared.bus import KafkaBus
from gradops_shared.db import Database
from gradops_shared.errors import Conflict, InvalidInput, NotFound
from gradops_shared.principal import SCOPES, Principal
from gradops_shared.runtime import Runtime
from gradops_shared.workdays import WorkCalendar
from tests.factories import graduation_photo, jpeg, student_no
from tests.photo.zips import GBK_FOLDER_NAME, GBK_TOP_NAME, attack_zip, build_zip

HQ = Principal(subject="reviewer-1", scopes=frozenset(SCOPES))
CENTRE_A = Principal(subject="centre-a", scopes=frozenset(SCOPES), centres=frozenset({"5135701"}))
CENTRE_B = Principal(subject="centre-b", scopes=frozenset(SCOPES), centres=frozenset({"9999999"}))
DEADLINES = Deadlines(WorkCalendar.of())


class RegistryStandIn:
    """Answers GET /api/v1/students/{no} like the registry, honouring the signed caller's centres."""

    def __init__(self) -> None:
        self.students: dict[str, dict[str, Any]] = {}
        self.list_calls = 0

    def add(self, number: str, status: str = "enrolled", centre: str = "5135701", **extra: Any) -> str:
        self.students[number] = {
            "student_no": number,
            "status": status,
            "learning_centre": centre,
            "level": "junior_college",
            "id_number_masked": "**************1234",
            "name": "张三",
            **extra,
        }
        return number

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            claims = json.loads(_unb64(request.headers["x-gradops-principal"].split(".")[0]))
            if request.url.path == "/api/v1/students":  # the roster, one page (filters: centre)
                self.list_calls += 1
                centres = set(request.url.params.get_list("centre")) or None
                reach = None if claims["ctr"] is None else set(claims["ctr"])
                items = [
                    s
                    for s in self.students.values()
                    if (centres is None or s["learning_centre"] in centres)
                    and (reach is None or s["learning_centre"] in reach)
                ]
                return httpx.Response(200, json={"items": items, "next_cursor": None, "count": len(items)})
            number = request.url.path.rsplit("/", 1)[-1]
            student = self.students.get(number)
            if student is None or (
                claims["ctr"] is not None and student["learning_centre"] not in claims["ctr"]
            ):
                return httpx.Response(404, json={"code": "registry.student_not_found"})
            return httpx.Response(200, json=student)

        return httpx.MockTransport(handle)


def _unb64(text_: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))


@pytest.fixture
async def registry() -> RegistryStandIn:
    return RegistryStandIn()


@pytest.fixture
async def photo_rt(
    postgres_url: str, kafka_bootstrap: str, registry: RegistryStandIn
) -> AsyncIterator[Runtime]:
    runtime = Runtime(
        db=Database(postgres_url, "photo"),
        bus=KafkaBus(kafka_bootstrap),
        peer_transports={"registry": registry.transport()},
    )
    yield runtime
    await runtime.close_peers()
    await runtime.db.dispose()


async def _submit(runtime: Runtime, number: str, photo: bytes | None = None, centre: str = "5135701") -> str:
    data = photo or graduation_photo()
    report = run_checks(data, PROFILES["ouc-platform"], None)
    async with runtime.db.transaction() as session:
        submission = await submissions.submit_photo(
            session,
            student_no=number,
            kind="graduation",
            source="centre_upload",
            data=data,
            judged=report,
            qc_report=report.as_dict(),
            actor="centre-a",
            learning_centre=centre,
            deadlines=DEADLINES,
        )
        return submission.id


async def _state(runtime: Runtime, submission_id: str) -> PhotoSubmission:
    async with runtime.db.session() as session:
        submission = await session.get(PhotoSubmission, submission_id)
        assert submission is not None
        return submission


async def _events(runtime: Runtime, number: str) -> list[tuple[str, dict[str, Any]]]:
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                text("select event_type, payload from photo.outbox where key = :k order by seq"),
                {"k": number},
            )
        ).all()
    return [(row[0], json.loads(bytes(row[1]))["data"]) for row in rows]


async def test_review_path_logs_every_transition_and_emits_what_the_audit_needs(photo_rt: Runtime) -> None:
    number = student_no()
    submission_id = await _submit(photo_rt, number)
    pending = await _state(photo_rt, submission_id)
    assert pending.state == "pending_review"
    assert pending.review_due_at is not None and pending.review_due_at > pending.created_at + timedelta(
        days=1
    )

    async with photo_rt.db.transaction() as session:
        await reviews.approve(session, submission_id, HQ, comment="good")
    approved = await _state(photo_rt, submission_id)
    assert approved.state == "approved" and approved.reviewer == "reviewer-1"

    async with photo_rt.db.session() as session:
        log = (
            await session.execute(
                select(SubmissionTransition)
                .where(SubmissionTransition.submission_id == submission_id)
                .order_by(SubmissionTransition.id)
            )
        ).scalars()
        steps = [(t.from_state, t.to_state, t.actor) for t in log]
    assert steps == [
        (None, "submitted", "centre-a"),
        ("submitted", "pending_review", "qc"),
        ("pending_review", "approved", "reviewer-1"),
    ]
    events = await _events(photo_rt, number)
    assert [e[0] for e in events] == ["PhotoSubmitted", "PhotoApproved"]
    assert events[1][1]["submission_id"] == submission_id
    assert events[1][1]["sha256"] == approved.sha256 and events[1][1]["kind"] == "graduation"


async def test_approved_is_locked_until_reopened_and_illegal_moves_are_refused(photo_rt: Runtime) -> None:
    number = student_no()
    first = await _submit(photo_rt, number)
    async with photo_rt.db.transaction() as session:
        await reviews.approve(session, first, HQ, comment=None)
    with pytest.raises(Conflict) as locked:
        await _submit(photo_rt, number, graduation_photo("astronaut"))
    assert locked.value.code == "photo.locked"
    for target in ("approved", "rejected"):
        with pytest.raises(Conflict) as illegal:
            async with photo_rt.db.transaction() as session:
                if target == "approved":
                    await reviews.approve(session, first, HQ, comment=None)
                else:
                    await reviews.reject(
                        session, first, HQ, reasons=["photo.other"], comment=None, deadlines=DEADLINES
                    )
        assert illegal.value.code == "photo.illegal_transition"
    assert (await _state(photo_rt, first)).state == "approved"

    async with photo_rt.db.transaction() as session:
        await reviews.reopen(session, first, HQ, reason="补拍: 眼镜反光")
    assert (await _state(photo_rt, first)).state == "reopened"
    second = await _submit(photo_rt, number)
    assert (await _state(photo_rt, second)).state == "pending_review"
    assert [e[0] for e in await _events(photo_rt, number)][-2:] == ["PhotoReopened", "PhotoSubmitted"]


async def test_chsi_states_follow_approval_and_a_chsi_rejection_unlocks(photo_rt: Runtime) -> None:
    number = student_no()
    submission_id = await _submit(photo_rt, number)
    async with photo_rt.db.transaction() as session:
        submission = await get_submission(session, submission_id, HQ, for_update=True)
        with pytest.raises(Conflict):
            await reviews.record_chsi_state(session, submission, "on_chsi", actor="registrar", reason=None)
    async with photo_rt.db.transaction() as session:
        await reviews.approve(session, submission_id, HQ, comment=None)
    async with photo_rt.db.transaction() as session:
        submission = await get_submission(session, submission_id, HQ, for_update=True)
        await reviews.record_chsi_state(session, submission, "on_chsi", actor="registrar", reason=None)
    with pytest.raises(Conflict):
        await _submit(photo_rt, number)  # on CHSI: still locked
    async with photo_rt.db.transaction() as session:
        submission = await get_submission(session, submission_id, HQ, for_update=True)
        await reviews.record_chsi_state(
            session, submission, "chsi_rejected", actor="registrar", reason="人像比对不通过"
        )
    assert (await _state(photo_rt, await _submit(photo_rt, number))).state == "pending_review"
    chsi = [data for kind, data in await _events(photo_rt, number) if kind == "PhotoChsiStatusChanged"]
    assert [c["chsi_state"] for c in chsi] == ["on_chsi", "chsi_rejected"]


async def test_rejection_expires_after_two_working_days_unless_the_student_resubmits(
    photo_rt: Runtime,
) -> None:
    lazy, diligent = student_no(), student_no()
    lazy_id = await _submit(photo_rt, lazy)
    diligent_id = await _submit(photo_rt, diligent)
    with pytest.raises(InvalidInput):
        async with photo_rt.db.transaction() as session:
            await reviews.reject(
                session, lazy_id, HQ, reasons=["photo.made_up"], comment=None, deadlines=DEADLINES
            )
    for submission_id in (lazy_id, diligent_id):
        async with photo_rt.db.transaction() as session:
            await reviews.reject(
                session,
                submission_id,
                HQ,
                reasons=["photo.background_colour", "photo.other"],
                comment="背景偏白",
                deadlines=DEADLINES,
            )
    rejected = await _state(photo_rt, lazy_id)
    assert rejected.resubmit_by is not None and rejected.review_reasons == [
        "photo.background_colour",
        "photo.other",
    ]
    await _submit(photo_rt, diligent)
    async with photo_rt.db.transaction() as session:
        assert await reviews.expire_overdue(session, rejected.resubmit_by - timedelta(minutes=1)) == 0
    async with photo_rt.db.transaction() as session:
        await reviews.expire_overdue(session, rejected.resubmit_by + timedelta(minutes=1))
    assert (await _state(photo_rt, lazy_id)).state == "expired"
    assert (await _state(photo_rt, diligent_id)).state == "rejected"


async def test_a_new_upload_supersedes_the_one_waiting_and_tenancy_hides_other_centres(
    photo_rt: Runtime,
) -> None:
    number = student_no()
    first = await _submit(photo_rt, number)
    second = await _submit(photo_rt, number, graduation_photo("astronaut"))
    assert (await _state(photo_rt, first)).state == "superseded"
    async with photo_rt.db.session() as session:
        assert (await get_submission(session, second, CENTRE_A)).id == second
        with pytest.raises(NotFound):
            await get_submission(session, second, CENTRE_B)
    with pytest.raises(NotFound):
        async with photo_rt.db.transaction() as session:
            await reviews.approve(session, second, CENTRE_B, comment=None)
    assert (await _state(photo_rt, second)).state == "pending_review"


# ---- the import job ---------------------------------------------------------------------------


def _settings(postgres_url: str) -> PhotoSettings:
    return PhotoSettings(database_url=postgres_url, qc_workers=0)


async def _run_import(
    runtime: Runtime, settings: PhotoSettings, data: bytes, principal: Principal, **options: Any
) -> tuple[PhotoImport, dict[str, PhotoImportFile]]:
    async with runtime.db.transaction() as session:
        job = await create_import(
            session,
            data=data,
            options=ImportOptions(**options),
            principal=principal,
            limits=limits_of(settings),
        )
    pool = QcPool(0)
    runner = ImportRunner(runtime, pool, settings)
    await asyncio.wait_for(runner.start(job.id, data), 120)
    async with runtime.db.session() as session:
        done = await session.get(PhotoImport, job.id)
        files = (
            await session.execute(select(PhotoImportFile).where(PhotoImportFile.import_id == job.id))
        ).scalars()
        assert done is not None
        return done, {f.name: f for f in files}


async def test_import_reports_every_zip_attack_per_file_and_stores_the_good_ones(
    photo_rt: Runtime, registry: RegistryStandIn, postgres_url: str
) -> None:
    good = [registry.add(student_no()) for _ in range(2)]
    target = student_no()
    registry.add(f"{target}z")  # its entry is corrupt: the registry knows the student
    data = attack_zip({f"{number}.jpg": graduation_photo() for number in good}, target)
    job, files = await _run_import(photo_rt, _settings(postgres_url), data, CENTRE_A)
    # Two entries carry exactly the same name, so the by-name view has one fewer.
    assert job.status == "done" and job.processed == job.total == len(files) + 1
    expected = {
        "../../etc/cron.d/evil.jpg": ("rejected", "photo_import.path_traversal"),
        "/etc/passwd.jpg": ("rejected", "photo_import.absolute_path"),
        "C:/Windows/win.jpg": ("rejected", "photo_import.absolute_path"),
        "link.jpg": ("rejected", "photo_import.symlink"),
        "locked.jpg": ("rejected", "photo_import.encrypted"),
        f"{target}x.jpg": ("rejected", "photo_import.zip_bomb"),
        f"{target}y.jpg": ("rejected", "photo_import.zip_bomb"),
        f"{target}z.jpg": ("rejected", "photo_import.corrupt_entry"),
        f"{good[0].upper()}.JPG": ("skipped", "photo_import.duplicate_name"),
        f"folder/{good[0]}.jpg": ("skipped", "photo_import.in_folder"),
        "readme.txt": ("skipped", "photo_import.not_jpg"),
        GBK_FOLDER_NAME: ("skipped", "photo_import.in_folder"),
        GBK_TOP_NAME: ("skipped", "photo_import.bad_name"),
    }
    for name, (outcome, reason) in expected.items():
        assert (files[name].outcome, files[name].reason) == (outcome, reason), name
    stored = [f for f in files.values() if f.outcome == "stored"]
    assert sorted(f.student_no for f in stored if f.student_no) == sorted(good)
    assert files[f"{good[0]}.jpg"].outcome in ("stored", "skipped")  # the exact twin shares the name
    assert job.counts["stored"] == 2 and sum(job.counts.values()) == job.total
    for entry in stored:
        assert entry.submission_id is not None
        assert (await _state(photo_rt, entry.submission_id)).state == "pending_review"


async def test_import_options_status_rules_qc_failures_and_dry_run(
    photo_rt: Runtime, registry: RegistryStandIn, postgres_url: str
) -> None:
    settings = _settings(postgres_url)
    enrolled = registry.add(student_no())
    graduated = registry.add(student_no(), status="graduated")
    bachelor = registry.add(student_no(), level="bachelor")
    elsewhere = registry.add(student_no(), centre="9999999")
    bad_photo = registry.add(student_no())
    not_jpeg = registry.add(student_no())
    has_photo = registry.add(student_no())
    await _submit(photo_rt, has_photo)
    unknown = student_no()
    data = build_zip(
        [
            (f"{enrolled}.jpg", graduation_photo()),
            (f"{graduated}.jpg", graduation_photo()),
            (f"{bachelor}.jpg", graduation_photo()),
            (f"{elsewhere}.jpg", graduation_photo()),
            (f"{bad_photo}.jpeg", jpeg()),
            (f"{not_jpeg}.jpg", b"GIF89a not a jpeg at all"),
            (f"{has_photo}.jpg", graduation_photo()),
            (f"{unknown}.jpg", graduation_photo()),
        ]
    )
    dry, files = await _run_import(photo_rt, settings, data, CENTRE_A, level="junior_college", dry_run=True)
    assert dry.status == "done"
    outcome = {name.split(".")[0]: (f.outcome, f.reason) for name, f in files.items()}
    assert outcome[enrolled] == ("accepted", None)
    assert outcome[graduated] == ("skipped", "photo_import.student_not_enrolled")
    assert outcome[bachelor] == ("skipped", "photo_import.level_mismatch")
    assert outcome[elsewhere] == ("skipped", "photo_import.student_not_found")  # outside the centre's reach
    assert outcome[unknown] == ("skipped", "photo_import.student_not_found")
    assert outcome[bad_photo][0] == "rejected" and outcome[bad_photo][1] == "photo_import.qc_failed"
    assert files[f"{bad_photo}.jpeg"].failed_checks and "photo.face_count" in (
        files[f"{bad_photo}.jpeg"].failed_checks or []
    )
    assert outcome[not_jpeg] == ("rejected", "photo.format")
    assert outcome[has_photo] == ("skipped", "photo_import.already_has_photo")
    async with photo_rt.db.session() as session:
        stored = (
            await session.execute(select(PhotoSubmission).where(PhotoSubmission.student_no == enrolled))
        ).scalars()
        assert list(stored) == []  # dry run: nothing stored

    real, files = await _run_import(photo_rt, settings, data, CENTRE_A, overwrite=True)
    assert files[f"{enrolled}.jpg"].outcome == "stored"
    assert files[f"{has_photo}.jpg"].outcome == "stored"  # overwrite: replaces the photo waiting
    assert real.counts["stored"] == 3  # enrolled, has_photo and the bachelor (no level filter)


async def test_a_large_import_lists_the_roster_instead_of_asking_per_picture(
    photo_rt: Runtime, registry: RegistryStandIn, postgres_url: str
) -> None:
    mine = [registry.add(student_no()) for _ in range(22)]
    elsewhere = registry.add(student_no(), centre="9999999")
    suspended = registry.add(student_no(), status="suspended")
    photo = graduation_photo()
    data = build_zip([(f"{n}.jpg", photo) for n in [*mine, elsewhere, suspended, student_no()]])
    job, files = await _run_import(photo_rt, _settings(postgres_url), data, CENTRE_A, dry_run=True)
    assert registry.list_calls == 1
    outcome = {f.student_no: (f.outcome, f.reason) for f in files.values()}
    assert all(outcome[n] == ("accepted", None) for n in mine)
    assert outcome[elsewhere] == ("skipped", "photo_import.student_not_found")
    assert outcome[suspended] == ("skipped", "photo_import.student_not_enrolled")
    assert job.counts["accepted"] == 22 and job.processed == 25


async def test_an_import_whose_process_died_is_marked_failed_not_left_running(
    photo_rt: Runtime, postgres_url: str
) -> None:
    settings = _settings(postgres_url)
    async with photo_rt.db.transaction() as session:
        job = await create_import(
            session,
            data=build_zip([("1.jpg", b"x")]),
            options=ImportOptions(),
            principal=HQ,
            limits=limits_of(settings),
        )
        job.status = "running"
        job.heartbeat_at = datetime.now(UTC) - timedelta(minutes=10)
    async with photo_rt.db.transaction() as session:
        assert await fail_stale_imports(session, settings.import_stale_seconds) >= 1
    async with photo_rt.db.session() as session:
        failed = await session.get(PhotoImport, job.id)
        assert failed is not None and failed.status == "failed" and "interrupted" in (failed.error or "")


async def test_a_zip_that_is_not_a_zip_is_refused_at_once(photo_rt: Runtime, postgres_url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        async with photo_rt.db.transaction() as session:
            await create_import(
                session,
                data=b"PK\x03\x04 but not really",
                options=ImportOptions(),
                principal=HQ,
                limits=limits_of(_settings(postgres_url)),
            )
    assert refused.value.code == "photo_import.not_a_zip"
