"""The gateway's settings (`GRADOPS_GATEWAY_<FIELD>`, falling back to `GRADOPS_<FIELD>`).

It subclasses the services' settings because the gateway now has the same plumbing: its own schema
(`gateway`: API keys, idempotency records, webhooks) and, for the webhook worker, the event bus.
"""

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from gradops_shared.settings import ServiceSettings

REPO_ROOT = Path(__file__).resolve().parents[2]


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRADOPS_GATEWAY_", extra="ignore", frozen=True, populate_by_name=True
    )

    services: dict[str, str] = Field(
        default={
            "registry": "http://127.0.0.1:8101",
            "photo": "http://127.0.0.1:8102",
            "audit": "http://127.0.0.1:8103",
            "certificates": "http://127.0.0.1:8104",
        },
        description="Service name -> base URL (JSON in GRADOPS_GATEWAY_SERVICES).",
    )
    openapi_dir: Path = Field(REPO_ROOT / "openapi", description="Where the committed service specs live.")
    connect_timeout_seconds: float = Field(2.0, gt=0)
    read_timeout_seconds: float = Field(30.0, gt=0)
    upstream_concurrency: int = Field(
        64, ge=1, le=1000, description="Requests in flight to each service at once; more wait their turn."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of the reverse proxies in front of the gateway (JSON list "
        'in GRADOPS_GATEWAY_TRUSTED_PROXIES, e.g. ["10.0.0.0/8"]). Only from these is X-Forwarded-For '
        "believed; by default nobody's, and the socket peer is the client (per-IP limits, logs).",
    )
    bootstrap_api_key: str | None = Field(
        None,
        description="GRADOPS_BOOTSTRAP_API_KEY: an HQ key with every scope, ensured in the key store "
        "at start.",
        repr=False,
    )

    # --- API keys
    key_cache_seconds: float = Field(
        5.0,
        ge=0,
        le=60,
        description="How long a key lookup is cached: a revocation takes effect within this window.",
    )

    # --- rate limits (token buckets, in-process: each gateway replica has its own buckets)
    rate_limit_per_second: float = Field(50.0, gt=0, description="Sustained requests per second per API key.")
    rate_limit_burst: int = Field(100, ge=1, description="Requests a key may send at once (bucket size).")
    public_rate_limit_per_second: float = Field(
        5.0, gt=0, description="Per client IP, for public operations (no key), e.g. certificate verification."
    )
    public_rate_limit_burst: int = Field(20, ge=1)

    # --- idempotency
    idempotency_ttl_hours: float = Field(24.0, gt=0, le=24 * 7)
    idempotency_max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Responses up to this size are stored for replay; request bodies beyond it are "
        "spooled to a temporary file while hashed, never held in memory.",
    )

    # --- webhooks
    webhooks_in_process: bool = Field(
        False, description="Run the webhook worker inside the gateway (the embedded default does)."
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Per delivery attempt.")
    webhook_concurrency_per_subscription: int = Field(4, ge=1, le=64)
    webhook_max_in_flight: int = Field(64, ge=1, le=1024)
    webhook_retry_hours: float = Field(24.0, gt=0, le=24 * 7)
    webhook_first_retry_seconds: float = Field(10.0, gt=0)
    webhook_max_backoff_seconds: float = Field(3600.0, gt=0)
    webhook_poll_seconds: float = Field(1.0, gt=0, le=60)
    webhook_allow_http: bool = Field(
        False,
        description="Accept http:// webhook URLs. Off: https only (the embedded default turns it on).",
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names webhooks may target even when they resolve to loopback, private, "
        "link-local or reserved addresses (comma-separated or a JSON list).",
    )
    webhook_allowed_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Networks (CIDR, e.g. 10.20.0.0/16 or 127.0.0.1/32) webhooks may target even "
        "though they are not public (comma-separated or a JSON list).",
    )

    @field_validator("webhook_allowed_hosts", "webhook_allowed_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return (
                json.loads(text)
                if text.startswith("[")
                else [v.strip() for v in text.split(",") if v.strip()]
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        from gradops_gateway.edges import parse_networks

        parse_networks(value)  # raises on a bad entry: fail at start, not at the first request
        return value
