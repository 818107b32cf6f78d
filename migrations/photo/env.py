from gradops_photo.models import Base
from gradops_photo.settings import PhotoSettings
from gradops_shared.migrations import run_migrations

run_migrations(Base.metadata, PhotoSettings)
