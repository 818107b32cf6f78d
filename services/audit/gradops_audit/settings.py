from typing import Literal

from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_AUDIT_")

    # Until batches are managed, a passing audit joins the batch the quarterly rule gives for today.
    default_application_type: Literal["graduate", "graduate_with_degree"] = "graduate"
