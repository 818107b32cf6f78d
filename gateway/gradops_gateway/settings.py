from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gradops_shared.settings import DEV_PRINCIPAL_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]


class GatewaySettings(BaseSettings):
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
    log_level: str = "INFO"
    principal_secret: SecretStr = Field(
        SecretStr(DEV_PRINCIPAL_SECRET),
        validation_alias=AliasChoices("GRADOPS_GATEWAY_PRINCIPAL_SECRET", "GRADOPS_PRINCIPAL_SECRET"),
        description="HMAC key to sign the caller's principal for the services (same value as theirs).",
    )
    bootstrap_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("GRADOPS_BOOTSTRAP_API_KEY"),
        description="An HQ key with every scope, for a fresh install and for scripts.",
    )
