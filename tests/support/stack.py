"""The real stack (every service, relay and consumer as its own process), started once per test run
and shared by every module that needs it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gradops_suite import stack
from tests.support.databases import KAFKA_BOOTSTRAP, fresh_database

BASE_PORT = int(os.environ.get("GRADOPS_TEST_STACK_PORT", "18000"))


@pytest.fixture(scope="session")
async def stack_config(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> AsyncIterator[stack.StackConfig]:
    url = await fresh_database("gradops_e2e")
    config = stack.StackConfig(
        base_port=BASE_PORT,
        state_dir=Path(tmp_path_factory.mktemp("stack")),
        database_url=url,
        kafka_bootstrap=KAFKA_BOOTSTRAP,
        topic_prefix=f"e2e{uuid.uuid4().hex[:8]}.",
        # The security matrix sends a few hundred requests with a handful of keys in seconds.
        extra_env=(
            ("GRADOPS_GATEWAY_RATE_LIMIT_PER_SECOND", "1000"),
            ("GRADOPS_GATEWAY_RATE_LIMIT_BURST", "2000"),
            ("GRADOPS_GATEWAY_PUBLIC_RATE_LIMIT_BURST", "200"),
            # The CHSI registration export needs the principal's name (the matrix exports a batch).
            ("GRADOPS_CERTIFICATES_PRINCIPAL_NAME", "李校长"),
            # The webhook tests' receivers listen on loopback over http: allowed here only.
            ("GRADOPS_NOTIFICATIONS_WEBHOOK_ALLOW_HTTP", "true"),
            ("GRADOPS_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32"),
        ),
    )
    try:
        stack.start(config, timeout_s=90)
    except RuntimeError:
        for log in sorted(config.log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")
        stack.stop(config)
        raise
    yield config
    stack.stop(config)
