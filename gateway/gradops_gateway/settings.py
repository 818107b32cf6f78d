"""The gateway's settings (`GRADOPS_GATEWAY_<FIELD>`, falling back to `GRADOPS_<FIELD>`).

It subclasses the services' settings because the gateway has the same plumbing: its own schema
(`gateway`: API keys, idempotency records). The webhook settings moved to the notifications service
(`GRADOPS_NOTIFICATIONS_WEBHOOK_*`, which still reads the old `GRADOPS_GATEWAY_WEBHOOK_*` names).
"""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

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
            "notifications": "http://127.0.0.1:8105",
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

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        from gradops_gateway.edges import parse_networks

        parse_networks(value)  # raises on a bad entry: fail at start, not at the first request
        return value
