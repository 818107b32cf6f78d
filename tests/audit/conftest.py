"""Fixtures of the audit's integration tests: its runtime and settings on real PostgreSQL and
Kafka, on the test's own topics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gradops_audit.app import DEFINITION as AUDIT
from gradops_audit.settings import AuditSettings
from gradops_shared.bus import KafkaBus
from gradops_shared.db import Database
from gradops_shared.runtime import Runtime, ensure_worker_topics


@pytest.fixture
async def audit_rt(postgres_url: str, kafka_bootstrap: str) -> AsyncIterator[Runtime]:
    audit_rt = Runtime(db=Database(postgres_url, "audit"), bus=KafkaBus(kafka_bootstrap))
    yield audit_rt
    await audit_rt.db.dispose()


@pytest.fixture
async def audit_settings(
    audit_rt: Runtime, postgres_url: str, kafka_bootstrap: str, topic_prefix: str
) -> AuditSettings:
    audit_settings = AuditSettings(
        database_url=postgres_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix
    )
    await ensure_worker_topics(AUDIT, audit_settings, audit_rt.bus)
    return audit_settings
