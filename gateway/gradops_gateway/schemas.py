"""Request and response bodies of the gateway's own endpoints (API keys)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gradops_shared.principal import SCOPES


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "昆明学习中心 LMS",
                    "scopes": ["registry:read", "photos:write", "photos:read"],
                    "centres": ["5135701"],
                    "expires_at": "2027-07-31T00:00:00Z",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, description=f"From: {', '.join(SCOPES)}")
    centres: list[str] | None = Field(
        None,
        description="Learning-centre codes the key is bound to (exact codes; branch codes are not "
        "expanded). Omit or null for the whole university (HQ).",
    )
    expires_at: datetime | None = Field(None, description="UTC; null = never expires.")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    key_prefix: str = Field(description="The first characters of the key, to recognise it in lists.")
    scopes: list[str]
    centres: list[str] | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Recorded to the minute.")


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="The key itself. Shown only now: store it, it cannot be read again.")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None
