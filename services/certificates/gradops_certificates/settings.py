from datetime import date

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings


class CertificatesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_CERTIFICATES_")

    school_code: str = Field(
        "51357", pattern=r"^\d{5}$", description="5-digit national school code (学校国标代码)"
    )
    # 1 普通, 5 成人, 6 自考, 7 网络; the code for open education is not published, the university sets it.
    education_type_code: str = Field(
        "5", pattern=r"^\d$", description="School-type digit of the number (办学类型)"
    )
    school_name: str = Field("云南开放大学", min_length=1, description="School name printed and registered")
    principal_name: str = Field(
        "",
        description="校长姓名: a required field of the CHSI registration and printed on the 毕业证明书; "
        "exports and the 毕业证明书 are refused until it is set.",
    )
    # 学位证书编号: 16 digits; adult-education bachelor degrees add a "C" in front (17 characters).
    degree_number_prefix: str = Field("", pattern=r"^C?$", description='"" or "C" (成人教育学士学位)')
    photo_url: str = Field("http://127.0.0.1:8102", description="Base URL of the photo service.")
    public_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public base URL of the gateway: share-code QR images point at /api/v1/verify/codes/…",
    )
    collection_days: int = Field(
        15, ge=1, le=365, description="Days for a centre to collect (from the notice)"
    )
    handover_days: int = Field(
        15, ge=1, le=365, description="Days for a centre to hand over (from collection)"
    )
    replacement_sla_working_days: int = Field(
        15, ge=1, le=120, description="HQ decides a replacement within this many working days"
    )
    holidays: list[date] = Field(
        default_factory=list, description="Public holidays (JSON list of dates): not working days"
    )
    makeup_working_days: list[date] = Field(
        default_factory=list, description="Weekend days that are working days (调休), JSON list of dates"
    )
    share_code_max_days: int = Field(180, ge=1, le=3650, description="Longest validity of a share code")
