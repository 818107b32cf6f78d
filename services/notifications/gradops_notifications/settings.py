"""The notifications service's settings (`GRADOPS_NOTIFICATIONS_<FIELD>`, falling back to
`GRADOPS_<FIELD>`).

The webhook settings used to be the gateway's: their old names (`GRADOPS_GATEWAY_WEBHOOK_*`) still
work, because deploy files and operators' environments use them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AliasChoices, Field, IPvAnyNetwork, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from gradops_shared.settings import ServiceSettings

PREFIX = "GRADOPS_NOTIFICATIONS_"
OLD_PREFIX = "GRADOPS_GATEWAY_"


def _env(field: str) -> AliasChoices:
    """`GRADOPS_NOTIFICATIONS_<FIELD>`, or the gateway's old name for it."""
    return AliasChoices(PREFIX + field.upper(), OLD_PREFIX + field.upper())


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True, populate_by_name=True)

    webhook_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=120,
        description="Per delivery attempt.",
        validation_alias=_env("webhook_timeout_seconds"),
    )
    webhook_concurrency_per_subscription: int = Field(
        4, ge=1, le=64, validation_alias=_env("webhook_concurrency_per_subscription")
    )
    webhook_max_in_flight: int = Field(64, ge=1, le=1024, validation_alias=_env("webhook_max_in_flight"))
    webhook_retry_hours: float = Field(24.0, gt=0, le=24 * 7, validation_alias=_env("webhook_retry_hours"))
    webhook_first_retry_seconds: float = Field(
        10.0, gt=0, validation_alias=_env("webhook_first_retry_seconds")
    )
    webhook_max_backoff_seconds: float = Field(
        3600.0, gt=0, validation_alias=_env("webhook_max_backoff_seconds")
    )
    webhook_poll_seconds: float = Field(1.0, gt=0, le=60, validation_alias=_env("webhook_poll_seconds"))
    webhook_allow_http: bool = Field(
        False,
        description="Accept http:// webhook URLs. Off: https only (the embedded default turns it on).",
        validation_alias=_env("webhook_allow_http"),
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names webhooks may target even when they resolve to loopback, private, "
        "link-local or reserved addresses (comma-separated or a JSON list).",
        validation_alias=_env("webhook_allowed_hosts"),
    )
    webhook_allowed_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Networks (CIDR, e.g. 10.20.0.0/16 or 127.0.0.1/32) webhooks may target even "
        "though they are not public (comma-separated or a JSON list).",
        validation_alias=_env("webhook_allowed_networks"),
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
