"""The committed specs are the contract partners build against: they must match the code."""

from pathlib import Path

from gradops_gateway.openapi import load_specs
from gradops_suite.openapi_export import generated_files, write_or_check

OPENAPI_DIR = Path(__file__).resolve().parents[2] / "openapi"


def test_committed_specs_and_event_schemas_match_the_code() -> None:
    drift = write_or_check(OPENAPI_DIR, check=True)
    assert drift == [], f"run `make openapi` and commit the result: {drift}"


def test_every_operation_has_a_stable_unique_id_and_documents_problems() -> None:
    ids: list[str] = []
    for service, spec in load_specs(OPENAPI_DIR).items():
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                ids.append(operation["operationId"])
                assert path.startswith("/api/v1/"), (service, path)
                assert "404" in operation["responses"] and "422" in operation["responses"], (
                    service,
                    method,
                    path,
                )
    assert len(ids) == len(set(ids))


def test_event_schemas_cover_the_documented_events() -> None:
    names = {name.split("/")[-1] for name in generated_files() if name.startswith("events/")}
    for event in (
        "StudentRegistered",
        "StudentStatusChanged",
        "PhotoSubmitted",
        "PhotoApproved",
        "PhotoRejected",
        "AuditPassed",
        "AuditFailed",
        "CertificateIssued",
    ):
        assert f"{event}.v1.json" in names
    assert "EventEnvelope.json" in names
