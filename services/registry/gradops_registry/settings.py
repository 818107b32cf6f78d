from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_REGISTRY_")
