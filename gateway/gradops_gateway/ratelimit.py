"""Token buckets per API key and per client IP (public operations), in the gateway's memory.

In-process on purpose: no database round trip on the hot path. With several gateway replicas each
holds its own buckets, so the effective limit is the setting times the number of replicas; size the
setting for that (or pin partners to one replica at the load balancer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class TokenBuckets:
    MAX_BUCKETS = 50_000

    def __init__(self, rate_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate_per_second
        self.burst = float(burst)
        self.clock = clock
        # who -> (tokens, last refill instant)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, who: str) -> float:
        """Takes one token; returns 0 when allowed, else the seconds until a token is there."""
        now = self.clock()
        tokens, last = self._buckets.get(who, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._store(who, tokens - 1.0, now)
            return 0.0
        self._store(who, tokens, now)
        return (1.0 - tokens) / self.rate

    def _store(self, who: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= self.MAX_BUCKETS and who not in self._buckets:
            self._evict_full(now)
        self._buckets[who] = (tokens, now)

    def _evict_full(self, now: float) -> None:
        """A bucket that has refilled completely is the same as no bucket: drop those."""
        full = [w for w, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for who in full:
            del self._buckets[who]
        if len(self._buckets) >= self.MAX_BUCKETS:
            self._buckets.clear()


def retry_after_header(wait_seconds: float) -> str:
    return str(max(1, math.ceil(wait_seconds)))
