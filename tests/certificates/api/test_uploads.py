"""Scan uploads through the certificates API: a scan over 10 MB is refused while it is read (413,
before the certificate is even looked up), and the limit is the one the shared upload helper applies."""

from __future__ import annotations

from tests.e2e.slice import assert_problem
from tests.support.suite import Suite

UNKNOWN = "513575202306000001"


async def test_a_scan_over_10_mb_is_a_413_before_anything_else(suite: Suite) -> None:
    client = suite.services["certificates"]
    headers = suite.headers("certificates:read", "certificates:write")
    too_large = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    refused = await client.post(
        f"/api/v1/certificates/{UNKNOWN}/replacements",
        data={"reason": "lost"},
        files={"form": ("form.pdf", too_large, "application/pdf")},
        headers=headers,
    )
    body = assert_problem(refused, 413, "certificates.scan_too_large")
    assert body["limit_bytes"] == 10 * 1024 * 1024
    receipt = await client.post(
        f"/api/v1/certificates/{UNKNOWN}/distribution-events",
        data={"event": "handed_to_student"},
        files={"receipt": ("r.pdf", too_large, "application/pdf")},
        headers=headers,
    )
    assert_problem(receipt, 413, "certificates.scan_too_large")
    # Within the limit, the same request reaches the use case (which does not know the number).
    small = await client.post(
        f"/api/v1/certificates/{UNKNOWN}/replacements",
        data={"reason": "lost"},
        files={"form": ("form.pdf", b"%PDF-1.4\n", "application/pdf")},
        headers=headers,
    )
    assert_problem(small, 404, "certificates.not_found")
