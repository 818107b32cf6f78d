"""The security matrix, generated from the merged OpenAPI spec (openapi/gradops.json, which the
drift test keeps equal to the code): every operation × {no key, expired key, revoked key, wrong
scope} is refused (401/401/401/403), and every operation with a path parameter × {other centre}
answers 404 — the same as for a resource that does not exist — so existence never leaks.

Run against the real stack (processes on PostgreSQL + Kafka) and the embedded suite.

A new endpoint is covered automatically. If it has a path parameter nobody has taught this test to
make, the test FAILS and says so: add a maker to RESOURCE_MAKERS (a few lines: create the resource
as HQ for a student of centre A, return the parameter's value; key it `"<collection>/{param}"` when
the parameter's name is ambiguous, like `{code}`). A public endpoint (no key) must be listed in
PUBLIC_OPERATIONS, or the test fails too.

Two kinds of operation are not "another centre's resource → 404" and are modelled explicitly:
HQ_ONLY (the service refuses every centre-bound key with 403 `<svc>.hq_only`, whatever the
resource) and NOT_CENTRE_OWNED (the resource, e.g. a graduation batch, belongs to no centre: the
centre key is served, and where the answer lists students it must not list centre A's). Two answers
also hide nothing and are accepted: a list under a path that is empty exactly as a missing
student's is (200 []), and a create-by-PUT (CREATED_BY_PUT) refused as not found, leaving the
record unchanged (a taken number cannot answer like a free one: that one would be created).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gradops_shared.principal import SCOPES
from gradops_suite import stack
from gradops_suite.embedded import embedded_client
from tests.e2e.slice import run_vertical_slice
from tests.factories import (
    create_student,
    ensure_learning_centre,
    jpeg,
    open_batch_payload,
    png,
    student_no,
    student_payload,
    transcript_payload,
)
from tests.support.gateway_tools import bearer, create_key

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "gradops.json"
CENTRE_A = "5135701"  # owns every resource the makers create
CENTRE_B = "5135702"  # the intruder's centre

# Operations anyone may call without a key. Anything else without a security requirement fails.
PUBLIC_OPERATIONS = frozenset(
    {
        "GET /api/v1/verify/{number}",  # issue 7: verification by number and name, no key
        "GET /api/v1/verify/codes/{code}",  # issue 7: verification by the holder's share code, no key
    }
)

# Operations whose service does not check the caller's centres yet. Strict xfail: once a service
# enforces it, its entry here makes the test fail, so remove it then (the lead, when merging).
TENANCY_PENDING: dict[str, str] = {}

# PUT creates an unknown student number, so a number taken by another centre cannot answer like a
# missing one (that would create it): it must be refused as not found, and stay unchanged.
CREATED_BY_PUT: dict[str, str] = {"put_student": "registry.student_not_found"}

# HQ-only operations: a centre-bound key is refused with 403 and this code, whatever the resource
# (so nothing leaks: centre A's resource and a missing one get the same answer).
HQ_ONLY: dict[str, str] = {
    "notify_batch": "certificates.hq_only",  # HQ sends the collection notice
    "revoke_certificate": "certificates.hq_only",  # 学历撤销
    "decide_replacement": "certificates.hq_only",  # HQ decides 毕业证明书 applications
    "put_graduation_batch": "audit.hq_only",
    "post_audit_run": "audit.hq_only",
    "post_sign_offs": "audit.hq_only",
    "post_exception": "audit.hq_only",  # exceptions are HQ's (审批)
    "revoke_exception": "audit.hq_only",
    "put_rule_set": "audit.hq_only",
    "list_verification_lookups": "certificates.hq_only",  # the log holds verifiers' addresses
}


@dataclass(frozen=True)
class CentreView:
    """What a centre-B key gets for a resource that belongs to no centre."""

    reason: str
    status: int
    code: str | None = None  # the problem's code when refused
    hides_centre_a: bool = False  # the answer lists students: none of centre A's may be in it
    # The request body naming a student (centre A's, then an unknown one for the comparison).
    body: Callable[[str], dict[str, Any]] | None = None


NOT_CENTRE_OWNED: dict[str, CentreView] = {
    "get_graduation_batch": CentreView("a batch's definition (dates, rounds) is the university's", 200),
    "list_batch_audits": CentreView(
        "the batch is the university's; its audits are filtered to the key's centres",
        200,
        hides_centre_a=True,
    ),
    "post_applications": CentreView(
        "a centre applies for its own students; centre A's student reads as unknown",
        404,
        "audit.student_not_found",
        body=lambda student: {"json": {"type": "graduate", "student_nos": [student]}},
    ),
    "export_chsi_registration": CentreView(
        "the batch is the university's; the export holds only the key's centres' graduates",
        200,
        hides_centre_a=True,
    ),
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    scopes: tuple[str, ...] | None  # None: public
    path_params: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, values: dict[str, str]) -> str:
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", values[name])
        return path


def load_operations() -> list[Operation]:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    operations: list[Operation] = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            security = op.get("security") or []
            scopes = (
                tuple(sorted({s for req in security[:1] for ss in req.values() for s in ss}))
                if security
                else None
            )
            params = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "path")
            operations.append(Operation(method.upper(), path, op["operationId"], scopes, params))
    return operations


OPERATIONS = load_operations()
PROTECTED = [op for op in OPERATIONS if op.scopes is not None]
WITH_PATH_PARAMS = [op for op in PROTECTED if op.path_params]


# ------------------------------------------------------------------------------------ the makers


@dataclass
class Target:
    """One running suite (stack or embedded) with the keys the matrix needs."""

    name: str
    hq: httpx.AsyncClient
    keys: dict[str, str] = field(default_factory=dict)
    made: dict[str, dict[str, str]] = field(default_factory=dict)

    async def key_without(self, scopes: tuple[str, ...]) -> str:
        name = "without:" + ",".join(scopes)
        if name not in self.keys:
            granted = sorted(set(SCOPES) - set(scopes))
            self.keys[name] = (await create_key(self.hq, granted, name=name))["api_key"]
        return self.keys[name]


Maker = Callable[[Target], Awaitable[dict[str, str]]]


async def graduate_of_centre_a(target: Target) -> dict[str, str]:
    """A student of centre A with something in every service: photo, audit, certificate."""
    if "_graduate" not in target.made:
        slice_result = await run_vertical_slice(target.hq)  # its student is in centre A
        assert student_payload()["learning_centre"] == CENTRE_A
        target.made["_graduate"] = {
            "student_no": slice_result["student_no"],
            "number": slice_result["certificate"]["number"],
            "batch_code": slice_result["certificate"]["batch_code"],
        }
    return target.made["_graduate"]


async def student_of_centre_a(target: Target) -> dict[str, str]:
    return {"student_no": (await graduate_of_centre_a(target))["student_no"]}


async def photo_submission_of_centre_a(target: Target) -> dict[str, str]:
    number = await create_student(target.hq, learning_centre=CENTRE_A)
    response = await target.hq.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "graduation"},
        files={"file": ("p.jpg", jpeg(), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    return {"submission_id": response.json()["id"]}


async def capture_session_of_centre_a(target: Target) -> dict[str, str]:
    """A mini-program capture session for a centre-A student (collection code + last 4 ID digits)."""
    number = student_no()
    payload = student_payload(learning_centre=CENTRE_A)
    await ensure_learning_centre(target.hq, CENTRE_A)
    assert (await target.hq.put(f"/api/v1/students/{number}", json=payload)).status_code == 201
    issued = await target.hq.post(f"/api/v1/students/{number}/collection-code")
    assert issued.status_code in (200, 201), issued.text
    opened = await target.hq.post(
        "/api/v1/capture-sessions",
        json={"collection_code": issued.json()["code"], "id_last4": payload["id_number"][-4:]},
    )
    assert opened.status_code == 201, opened.text
    return {"session_id": opened.json()["id"]}


async def photo_import_of_centre_a(target: Target) -> dict[str, str]:
    """A bulk import job started with a centre-A key (a job belongs to the centres of its key)."""
    key = await create_key(target.hq, ["photos:write", "photos:read"], name="centre A", centres=[CENTRE_A])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("2099999999.jpg", jpeg())
    started = await target.hq.post(
        "/api/v1/photo-imports",
        headers=bearer(key["api_key"]),
        data={"dry_run": "true"},
        files={"file": ("photos.zip", buffer.getvalue(), "application/zip")},
    )
    assert started.status_code in (201, 202), started.text
    return {"import_id": started.json()["id"]}


async def certificate_of_centre_a(target: Target) -> dict[str, str]:
    return {"number": (await graduate_of_centre_a(target))["number"]}


async def audit_of_centre_a(target: Target) -> dict[str, str]:
    student = await student_of_centre_a(target)
    response = await target.hq.get(f"/api/v1/students/{student['student_no']}/audit")
    assert response.status_code == 200, response.text
    return {"audit_id": response.json()["id"]}


async def batch_of_centre_a_graduate(target: Target) -> dict[str, str]:
    """Graduation batches (and their certificate batches) belong to no centre: see NOT_CENTRE_OWNED."""
    return {"code": (await graduate_of_centre_a(target))["batch_code"]}


async def certificate_batch_of_centre_a_graduate(target: Target) -> dict[str, str]:
    return {"batch_code": (await graduate_of_centre_a(target))["batch_code"]}


async def replacement_of_centre_a(target: Target) -> dict[str, str]:
    """A 毕业证明书 application (left `applied`) for centre A's certificate."""
    number = (await certificate_of_centre_a(target))["number"]
    response = await target.hq.post(
        f"/api/v1/certificates/{number}/replacements",
        data={"reason": "lost"},
        files={"form": ("form.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 201, response.text
    return {"replacement_id": response.json()["id"]}


async def share_code_of_centre_a(target: Target) -> dict[str, str]:
    number = (await certificate_of_centre_a(target))["number"]
    response = await target.hq.post(f"/api/v1/certificates/{number}/share-codes", json={"valid_days": 30})
    assert response.status_code == 201, response.text
    return {"code": response.json()["code"]}


async def learning_centre_a(target: Target) -> dict[str, str]:
    """A centre's own tree node: a centre-bound key sees (and renames) only its own centres."""
    await ensure_learning_centre(target.hq, CENTRE_A)
    return {"code": CENTRE_A}


async def a_rule_set(target: Target) -> dict[str, str]:
    # Rule sets belong to no centre; writing them is HQ's (see HQ_ONLY).
    return {"code": "matrix-rules"}


async def exception_of_centre_a(target: Target) -> dict[str, str]:
    number = await create_student(target.hq, learning_centre=CENTRE_A)
    response = await target.hq.post(f"/api/v1/students/{number}/exceptions", json=WAIVER)
    assert response.status_code == 201, response.text
    return {"student_no": number, "exception_id": response.json()["id"]}


async def evidence_of_centre_a(target: Target) -> dict[str, str]:
    """A prior-education review's evidence file of a centre A student."""
    number = await create_student(target.hq, learning_centre=CENTRE_A, level="bachelor_from_junior_college")
    path = f"/api/v1/students/{number}/prior-education-review"
    assert (await target.hq.post(path, data={"action": "flag"})).status_code == 200
    reviewed = await target.hq.post(
        path,
        data={
            "action": "first_review",
            "outcome": "passed",
            "prior_graduation_year": "2001",
            "evidence_type": "credential_report",
        },
        files={"evidence": ("r.pdf", PDF, "application/pdf")},
    )
    assert reviewed.status_code == 200, reviewed.text
    return {"student_no": number, "sha256": reviewed.json()["steps"][-1]["evidence"][0]["sha256"]}


async def webhook_of_another_key(target: Target) -> dict[str, str]:
    response = await target.hq.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hq", "event_types": ["PhotoApproved"]}
    )
    assert response.status_code == 201, response.text
    return {"webhook_id": response.json()["id"]}


async def webhook_delivery_of_another_key(target: Target) -> dict[str, str]:
    response = await target.hq.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hq", "event_types": ["StudentRegistered"]}
    )
    webhook_id = response.json()["id"]
    await create_student(target.hq, learning_centre=CENTRE_A)
    deadline = time.monotonic() + 30
    while not (items := (await target.hq.get(f"/api/v1/webhooks/{webhook_id}/deliveries")).json()["items"]):
        assert time.monotonic() < deadline, "no webhook delivery was created"
        await asyncio.sleep(0.2)
    return {"webhook_id": webhook_id, "delivery_id": items[0]["id"]}


async def an_api_key(target: Target) -> dict[str, str]:
    # API keys belong to no centre: only HQ keys may hold `admin` (see the expectation below).
    return {"key_id": "key_bootstrap"}


# Path parameter -> how to make such a resource belonging to centre A (or to another key). A key
# "<collection>/{param}" wins over "param" (several collections call their parameter `code`).
RESOURCE_MAKERS: dict[str, Maker] = {
    "student_no": student_of_centre_a,
    "submission_id": photo_submission_of_centre_a,
    "session_id": capture_session_of_centre_a,
    "import_id": photo_import_of_centre_a,
    "number": certificate_of_centre_a,
    "audit_id": audit_of_centre_a,
    "batch_code": certificate_batch_of_centre_a_graduate,
    "replacement_id": replacement_of_centre_a,
    "share-codes/{code}": share_code_of_centre_a,
    "graduation-batches/{code}": batch_of_centre_a_graduate,
    "learning-centres/{code}": learning_centre_a,
    "rule-sets/{code}": a_rule_set,
    "exception_id": exception_of_centre_a,
    "sha256": evidence_of_centre_a,
    "webhook_id": webhook_of_another_key,
    "delivery_id": webhook_delivery_of_another_key,
    "key_id": an_api_key,
}
# Makers that return several parameters (a delivery and its webhook) win over single ones.
COMPOUND_MAKERS = ("delivery_id", "exception_id", "sha256")

PDF = b"%PDF-1.4\n% matrix\n"
WAIVER = {
    "kind": "waive_check",
    "check_code": "audit.credits_practice",
    "approver": "教务处 王老师",
    "reason": "安全矩阵测试",
}

# Bodies that pass validation, so the request reaches the tenancy check (operation id -> httpx kwargs).
REQUEST_BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    # Centre B's own centre: the key may write there, so only the student's centre can refuse it.
    "put_student": lambda: {"json": student_payload(learning_centre=CENTRE_B, name="冒名顶替")},
    "submit_student_photo": lambda: {
        "data": {"kind": "graduation"},
        "files": {"file": ("p.jpg", jpeg(), "image/jpeg")},
    },
    "reject_photo_submission": lambda: {"json": {"reasons": ["photo.background_not_blue"]}},
    "approve_photo_submission": lambda: {"json": {}},
    "export_chsi_registration": lambda: {"params": {"format": "csv"}},
    "notify_batch": lambda: {"json": {}},
    "decide_replacement": lambda: {"json": {"approve": False, "note": "matrix"}},
    "record_distribution_event": lambda: {"data": {"event": "notified"}},
    "apply_for_replacement": lambda: {
        "data": {"reason": "damaged"},
        "files": {"form": ("form.png", png(), "image/png")},
    },
    "revoke_certificate": lambda: {"json": {"reason": "安全矩阵测试"}},
    "create_share_code": lambda: {"json": {"valid_days": 7}},
    "extend_share_code": lambda: {"json": {"valid_days": 7}},
    "put_graduation_batch": lambda: {"json": open_batch_payload()},
    "post_sign_offs": lambda: {"json": {"all_passing": True}},
    "put_learning_centre": lambda: {
        "json": {"name": "安全矩阵学习中心", "parent": CENTRE_A[:5], "kind": "learning_centre"}
    },
    "put_rule_set": lambda: {"json": {"level": "junior_college", "min_total_credits": 80}},
    "post_exception": lambda: {"json": WAIVER},
    "post_identity_flag": lambda: {"json": {"in_doubt": True, "kind": "uncertain", "reason": "安全矩阵测试"}},
    "post_prior_education_review": lambda: {"data": {"action": "flag"}},
    "post_status_change": lambda: {"json": {"change_type": "suspend", "reason": "安全矩阵测试"}},
    "put_student_transcript": lambda: {"json": transcript_payload()},
    "post_what_if": lambda: {"json": {"major": "会计"}},
    "diff_audits": lambda: {"params": {"against": NONEXISTENT["audit_id"]}},
    "reopen_photo_submission": lambda: {"json": {"reason": "补拍"}},
    "record_photo_chsi_status": lambda: {"json": {"chsi_state": "on_chsi"}},
    "proofread_photo": lambda: {"json": {"action": "confirm"}},
    # The token is checked after the session's reach, so any token shows the tenancy answer.
    "upload_capture_photo": lambda: {
        "json": {"image_base64": base64.b64encode(jpeg()).decode()},
        "headers": {"x-capture-token": "not-this-sessions-token"},
    },
}
# A well-formed value nothing has (a malformed one would be refused with 422 before any lookup).
NONEXISTENT: dict[str, str] = {
    "student_no": "2099999999",
    "number": "513576209906000001",
    "audit_id": "00000000-0000-4000-8000-000000000000",
    "exception_id": "00000000-0000-4000-8000-000000000000",
    "replacement_id": "00000000-0000-4000-8000-000000000000",
    "submission_id": "00000000-0000-4000-8000-000000000000",
    "session_id": "00000000-0000-4000-8000-000000000000",
    "import_id": "00000000-0000-4000-8000-000000000000",
    "batch_code": "209912",
    "graduation-batches/{code}": "209912",
    "share-codes/{code}": "ZZZZZZZZZZZZ",
    "learning-centres/{code}": "5135799",
    "rule-sets/{code}": "matrix-nothing",
    "sha256": "0" * 64,
}


def maker_key(op: Operation, param: str) -> str:
    collection = op.path.split("/{" + param + "}")[0].rsplit("/", 1)[-1]
    qualified = f"{collection}/{{{param}}}"
    return qualified if qualified in RESOURCE_MAKERS or qualified in NONEXISTENT else param


def nothing_url(op: Operation) -> str:
    return op.url({p: NONEXISTENT.get(maker_key(op, p), "nonexistent0") for p in op.path_params})


async def make(target: Target, op: Operation) -> dict[str, str]:
    missing = [p for p in op.path_params if maker_key(op, p) not in RESOURCE_MAKERS]
    if missing:
        pytest.fail(
            f"{op.label} ({op.operation_id}) has path parameter(s) {missing} without a resource maker: add "
            f"one to RESOURCE_MAKERS in {Path(__file__).name} (create it as HQ for a student of centre "
            "A and return its value), so the matrix can prove another centre's key gets 404.",
            pytrace=False,
        )
    values: dict[str, str] = {}
    for name in sorted(op.path_params, key=lambda p: p in COMPOUND_MAKERS):
        key = maker_key(op, name)
        if key not in target.made:
            made = await RESOURCE_MAKERS[key](target)
            target.made[key] = {name: made[name], **{k: v for k, v in made.items() if k != name}}
        values.update(target.made[key])
    return {name: values[name] for name in op.path_params}


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
async def stack_target(stack_config: stack.StackConfig) -> AsyncIterator[Target]:
    async with httpx.AsyncClient(
        base_url=stack_config.gateway_url(), timeout=60, headers=bearer(stack_config.bootstrap_api_key)
    ) as hq:
        yield await _prepared(Target("stack", hq))


@pytest.fixture(scope="module")
async def embedded_target(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Target]:
    overrides: dict[str, object] = {
        "rate_limit_per_second": 1000.0,
        "rate_limit_burst": 2000,
    }
    async with embedded_client(
        tmp_path_factory.mktemp("matrix"),
        gateway_overrides=overrides,
        service_overrides={
            "certificates": {"principal_name": "李校长"},
            # the matrix's webhooks point at loopback
            "notifications": {"webhook_allowed_networks": ["127.0.0.1/32"]},
        },
    ) as hq:
        yield await _prepared(Target("embedded", hq))


@pytest.fixture(scope="module", params=["stack", "embedded"])
def target(request: pytest.FixtureRequest) -> Target:
    """Only the chosen suite is started (`-k embedded` runs without the stack)."""
    chosen: Target = request.getfixturevalue(f"{request.param}_target")
    return chosen


async def _prepared(target: Target) -> Target:
    everything_but_admin = sorted(set(SCOPES) - {"admin"})
    expired = await create_key(target.hq, sorted(SCOPES), name="expired", expires_in=timedelta(seconds=2))
    revoked = await create_key(target.hq, sorted(SCOPES), name="revoked")
    assert (await target.hq.post(f"/api/v1/admin/api-keys/{revoked['id']}/revoke")).status_code == 200
    target.keys["expired"] = expired["api_key"]
    target.keys["revoked"] = revoked["api_key"]
    await ensure_learning_centre(target.hq, CENTRE_B)
    target.keys["centre_b"] = (
        await create_key(target.hq, everything_but_admin, name="centre B", centres=[CENTRE_B])
    )["api_key"]
    await asyncio.sleep(2.2)  # until the expired key has expired
    return target


# ------------------------------------------------------------------------------------ the tests


def test_operations_without_a_key_are_exactly_the_allowed_public_ones() -> None:
    public = {op.label for op in OPERATIONS if op.scopes is None}
    assert public <= PUBLIC_OPERATIONS, (
        f"{sorted(public - PUBLIC_OPERATIONS)} need no API key. Give each `requires(<scope>)`, or, if it "
        "really is public, add it to PUBLIC_OPERATIONS."
    )
    assert len(PROTECTED) >= 20, "the spec lost operations?"


def test_the_tables_name_operations_of_the_spec() -> None:
    """A renamed or removed operation must leave the tables too (or they would excuse nothing)."""
    ids = {op.operation_id for op in OPERATIONS}
    for table in (TENANCY_PENDING, HQ_ONLY, NOT_CENTRE_OWNED, CREATED_BY_PUT, REQUEST_BODIES):
        assert set(table) <= ids, sorted(set(table) - ids)
    assert not set(HQ_ONLY) & set(NOT_CENTRE_OWNED), "an operation is HQ-only or served to centres"


@pytest.mark.parametrize(
    "op",
    [op for op in PROTECTED if op.operation_id in HQ_ONLY and not op.path_params],
    ids=lambda op: op.operation_id,
)
async def test_hq_only_operations_without_a_resource_refuse_a_centre_key(
    target: Target, op: Operation
) -> None:
    body = REQUEST_BODIES.get(op.operation_id, lambda: {})()
    response = await target.hq.request(op.method, op.path, headers=bearer(target.keys["centre_b"]), **body)
    assert (response.status_code, response.json()["code"]) == (403, HQ_ONLY[op.operation_id]), response.text


def _request_for(op: Operation) -> tuple[str, str, dict[str, Any]]:
    return op.method, nothing_url(op), {"json": {}} if op.method in ("POST", "PUT", "PATCH") else {}


@pytest.mark.parametrize("case", ["no key", "expired key", "revoked key", "wrong scope"])
@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: op.operation_id)
async def test_every_operation_refuses_a_caller_without_a_valid_key_or_scope(
    target: Target, op: Operation, case: str
) -> None:
    method, url, kwargs = _request_for(op)
    assert op.scopes is not None
    if case == "no key":
        headers = {"authorization": ""}
    elif case == "wrong scope":
        headers = bearer(await target.key_without(op.scopes))
    else:
        headers = bearer(target.keys[case.split()[0]])
    response = await target.hq.request(method, url, headers=headers, **kwargs)
    expected = (403, "auth.scope_missing") if case == "wrong scope" else (401, "auth.unauthenticated")
    assert (response.status_code, response.json().get("code")) == expected, f"{op.label}: {response.text}"


@pytest.mark.parametrize(
    "op",
    [
        pytest.param(
            op,
            id=op.operation_id,
            marks=[pytest.mark.xfail(strict=True, reason=TENANCY_PENDING[op.operation_id])]
            if op.operation_id in TENANCY_PENDING
            else [],
        )
        for op in WITH_PATH_PARAMS
    ],
)
async def test_a_key_of_another_centre_gets_404_as_if_nothing_were_there(
    target: Target, op: Operation
) -> None:
    values = await make(target, op)
    intruder = bearer(target.keys["centre_b"])
    view = NOT_CENTRE_OWNED.get(op.operation_id)
    if view is not None and view.body is not None:
        student = (await student_of_centre_a(target))["student_no"]
        body, nothing_body = view.body(student), view.body(NONEXISTENT["student_no"])
    else:
        body = nothing_body = REQUEST_BODIES.get(op.operation_id, lambda: {})()
    intruder = {**intruder, **body.pop("headers", {})}  # e.g. a capture session's token
    response = await target.hq.request(op.method, op.url(values), headers=intruder, **body)
    if op.scopes and "admin" in op.scopes:
        # A centre-bound key can never hold `admin` (key management is university-wide).
        assert response.status_code == 403, response.text
        return
    if op.operation_id in HQ_ONLY:
        assert (response.status_code, response.json()["code"]) == (403, HQ_ONLY[op.operation_id]), (
            response.text
        )
        return
    if view is not None:
        await _assert_centre_view(target, op, view, response, nothing_body)
        return
    if op.operation_id in CREATED_BY_PUT:
        assert (response.status_code, response.json()["code"]) == (404, CREATED_BY_PUT[op.operation_id])
        unchanged = await target.hq.get(op.url(values))
        assert unchanged.json()["learning_centre"] == CENTRE_A, unchanged.text
        return
    nothing = await target.hq.request(op.method, nothing_url(op), headers=intruder, **nothing_body)
    if op.method == "GET" and response.status_code == 200 and _empty_list(response.json()):
        # A list under a path: an empty page, exactly what a missing student gets, hides nothing.
        assert (nothing.status_code, nothing.json()) == (200, response.json()), nothing.text
        return
    assert response.status_code == 404, f"{op.label} let centre B at centre A's resource: {response.text}"
    assert response.json()["code"] == nothing.json()["code"], "the answer differs from a missing resource's"


def _empty_list(body: Any) -> bool:
    """An empty list answer: a bare `[]`, or a last page with no items (`{"items": [], ...}`)."""
    if isinstance(body, dict):
        return body.get("items") == [] and body.get("next_cursor") is None and body.get("count", 0) == 0
    return isinstance(body, list) and not body


async def _assert_centre_view(
    target: Target, op: Operation, view: CentreView, response: httpx.Response, nothing_body: dict[str, Any]
) -> None:
    assert response.status_code == view.status, f"{op.label} ({view.reason}): {response.text}"
    if view.code is not None:
        assert response.json()["code"] == view.code, response.text
        nothing = await target.hq.request(
            op.method, op.url(await make(target, op)), headers=bearer(target.keys["centre_b"]), **nothing_body
        )
        assert (nothing.status_code, nothing.json()["code"]) == (view.status, view.code), nothing.text
    if view.hides_centre_a:
        student = (await student_of_centre_a(target))["student_no"]
        assert student not in response.text, f"{op.label} showed centre A's student to centre B"
        page = response.json() if "json" in response.headers["content-type"] else None
        if isinstance(page, dict) and page.get("next_cursor") is None:
            assert page["count"] == len(page["items"]), f"{op.label} counts what it does not show: {page}"
        # ...while HQ, asking the same, does see it (so the check above can fail).
        body = REQUEST_BODIES.get(op.operation_id, lambda: {})()
        as_hq = await target.hq.request(op.method, op.url(await make(target, op)), **body)
        assert as_hq.status_code == 200 and student in as_hq.text, as_hq.text


async def test_public_operations_answer_without_a_key(target: Target) -> None:
    public = [op for op in OPERATIONS if op.scopes is None]
    assert public, "the public verification endpoints are gone from the spec?"
    for op in public:
        method, url, kwargs = _request_for(op)
        response = await target.hq.request(method, url, headers={"authorization": ""}, **kwargs)
        assert response.status_code not in (401, 403), f"{op.label}: {response.text}"
