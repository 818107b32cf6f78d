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
