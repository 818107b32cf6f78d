"""The domain counters move with the product: a vertical slice counts one failed and one passed
audit and one certificate; a rolled-back transaction counts nothing (real PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from gradops_shared.db import Database
from gradops_shared.metrics import count_after_commit, sample_value
from gradops_suite.embedded import embedded_client
from tests.e2e.slice import run_vertical_slice


def value(name: str, **labels: str) -> float:
    return sample_value(f"gradops_{name}_total", labels) or 0.0


async def test_the_slice_counts_its_audits_and_its_certificate(tmp_path: Path) -> None:
    passed, failed = value("audit_outcomes", outcome="passed"), value("audit_outcomes", outcome="failed")
    issued = value("certificates_issued", level="junior_college")
    async with embedded_client(tmp_path) as client:
        await run_vertical_slice(client)
        scraped = (await client.get("/metrics")).text
    # Every audit run counts: the application (no photo yet: failed), re-audits on the registry's
    # events (still failed) and on PhotoApproved (passed).
    assert value("audit_outcomes", outcome="failed") >= failed + 1
    assert value("audit_outcomes", outcome="passed") >= passed + 1
    assert value("certificates_issued", level="junior_college") == issued + 1
    assert 'gradops_certificates_issued_total{level="junior_college"}' in scraped


async def test_a_rolled_back_transaction_counts_nothing(postgres_url: str) -> None:
    db = Database(postgres_url, "public")
    before = value("certificates_issued", level="bachelor")
    try:
        try:
            async with db.transaction() as session:
                count_after_commit(session, "certificates_issued", 3, level="bachelor")
                await session.execute(text("SELECT 1"))
                raise RuntimeError("the use case fails after counting")
        except RuntimeError:
            pass
        assert value("certificates_issued", level="bachelor") == before
        async with db.transaction() as session:
            count_after_commit(session, "certificates_issued", 2, level="bachelor")
            assert value("certificates_issued", level="bachelor") == before  # not before the commit
        assert value("certificates_issued", level="bachelor") == before + 2
    finally:
        await db.dispose()
