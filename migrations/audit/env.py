from gradops_audit.models import Base
from gradops_audit.settings import AuditSettings
from gradops_shared.migrations import run_migrations

run_migrations(Base.metadata, AuditSettings)
