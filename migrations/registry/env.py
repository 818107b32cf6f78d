from gradops_registry.models import Base
from gradops_registry.settings import RegistrySettings
from gradops_shared.migrations import run_migrations

run_migrations(Base.metadata, RegistrySettings)
