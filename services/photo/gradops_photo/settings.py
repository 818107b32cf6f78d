from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings


class PhotoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_PHOTO_")

    registry_url: str = Field("http://127.0.0.1:8101", description="Base URL of the registry service.")
    qc_profile: Literal["ouc-platform", "chsi-2017", "studio-30-40"] = Field(
        "ouc-platform",
        description="QC profile used when a request names none (see gradops_photo.qc.profiles).",
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Uploads above this are refused (413)."
    )
    qc_workers: int = Field(
        2,
        ge=0,
        le=64,
        description="Worker processes for photo QC; 0 runs QC in a thread of the API process (only where "
        "processes cannot be started).",
    )
    qc_timeout_seconds: float = Field(30.0, gt=0, description="A QC job taking longer than this answers 503.")
