"""Tests mirror the code: tests/<service>/ (its domain, use cases, API and integration tests),
tests/gateway/, tests/shared/, plus the cross-service tests/e2e/, tests/contract/, tests/deploy/ and
tests/fuzz/. The fixtures they share live in tests/support/ (one database, one stack, one embedded
suite). Postgres and Kafka are never faked: if they are not up, the tests that need them fail with
the reason (make test starts them first)."""

from __future__ import annotations

import os

# Tests run on PostgreSQL/Kafka with the development secrets: the explicit opt-in (never in production).
os.environ.setdefault("GRADOPS_ALLOW_DEVELOPMENT_SECRETS", "1")

pytest_plugins = ["tests.support.databases", "tests.support.stack", "tests.support.suite"]
