from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings


class PhotoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_PHOTO_")

    registry_url: str = Field("http://127.0.0.1:8101", description="Base URL of the registry service.")
    qc_profile: Literal["ouc-platform", "chsi-2017", "studio-30-40"] = "ouc-platform"
    max_upload_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Uploads above this are refused (413)."
    )
