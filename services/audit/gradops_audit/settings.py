from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_AUDIT_")

    auto_sign_off: bool = Field(
        False, description="Sign off a passing application at once (HQ's sign-off step is skipped)."
    )
    degree_rule_set: Literal["degree-notices-70", "degree-ouc-national"] = Field(
        "degree-notices-70",
        description="Degree thresholds: the notices' 70/70/English, or the 国开 national 75/80/≤30%.",
    )
    # Nobody reports what CHSI holds until the photo life-cycle lands (PhotoChsiStatusChanged);
    # until then the check would fail everyone, so it is off and reported as not applicable.
    check_chsi_photos: bool = Field(
        False, description="Require CHSI to hold admission and graduation photos."
    )
    secondary_vocational_categories: list[str] = Field(
        default_factory=lambda: ["secondary_vocational_bridge", "中高衔接"],
        description="Student categories that are 中高衔接 and need the secondary-vocational diploma proof.",
    )
    registry_url: str = Field(
        "http://127.0.0.1:8101", description="Where the audit looks up a student it has not heard of."
    )
