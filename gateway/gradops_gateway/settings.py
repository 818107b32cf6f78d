from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_GATEWAY_", extra="ignore", frozen=True)

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
