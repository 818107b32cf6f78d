from gradops_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_REGISTRY_")
