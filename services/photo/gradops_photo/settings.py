from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings
from gradops_shared.workdays import WorkCalendar

# The registry's development key (the same default): a real deployment sets GRADOPS_COLLECTION_CODE_KEY.
DEV_COLLECTION_CODE_KEY = "gradops-dev-collection-code-key-change-me"


class PhotoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_PHOTO_")
    # Refused outside the embedded default (gradops_shared.settings): a real deployment sets it.
    development_secrets: ClassVar[dict[str, str]] = {"collection_code_key": DEV_COLLECTION_CODE_KEY}

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
    rejected_original_max_bytes: int = Field(
        1024 * 1024,
        ge=0,
        description="An upload that QC rejects and that is larger than this is not kept: only a "
        "640-px preview (and the report) is stored.",
    )
    qc_timeout_seconds: float = Field(30.0, gt=0, description="A QC job taking longer than this answers 503.")

    # --- life-cycle (issue 5) ---
    collection_code_key: SecretStr = Field(
        SecretStr(DEV_COLLECTION_CODE_KEY),
        description="HMAC key of collection codes, the registry's own "
        "(GRADOPS_COLLECTION_CODE_KEY sets both).",
    )
    capture_session_minutes: int = Field(
        30, ge=1, le=24 * 60, description="How long a capture session token may upload."
    )
    collection_code_max_failures: int = Field(
        5, ge=1, le=100, description="Wrong last-4 digits before a collection code is locked."
    )
    collection_code_lock_minutes: int = Field(
        15, ge=1, description="How long a locked collection code stays locked."
    )
    review_sla_workdays: int = Field(2, ge=1, le=60, description="Working days a review may take (审核时限).")
    resubmit_workdays: int = Field(
        2, ge=1, le=60, description="Working days a rejected student has to resubmit, else expired."
    )
    holidays: list[date] = Field(
        default_factory=list, description='Public holidays (JSON list of dates, e.g. ["2026-10-01"]).'
    )
    makeup_workdays: list[date] = Field(
        default_factory=list, description="Make-up working days on weekends (调休), JSON list of dates."
    )
    expiry_sweep_seconds: float = Field(
        300.0, gt=0, description="How often the API process marks overdue rejected submissions expired."
    )
    import_max_zip_bytes: int = Field(
        40 * 1024 * 1024, ge=1024, description="Bulk-import zips above this are refused (413)."
    )
    import_max_entries: int = Field(5000, ge=1, description="Zips with more entries are refused.")
    import_max_entry_bytes: int = Field(
        2 * 1024 * 1024, ge=1024, description="A picture inflating beyond this is reported as a zip bomb."
    )
    import_max_total_bytes: int = Field(
        400 * 1024 * 1024, ge=1024, description="Total uncompressed size above this: the whole zip is a bomb."
    )
    import_max_ratio: float = Field(
        100.0, gt=1, description="Compression ratio above this marks an entry as a zip bomb."
    )
    import_stale_seconds: float = Field(
        120.0, gt=0, description="A running import without progress this long (its process died) is failed."
    )

    def calendar(self) -> WorkCalendar:
        return WorkCalendar.of(self.holidays, self.makeup_workdays)
