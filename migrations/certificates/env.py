from gradops_certificates.models import Base
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.migrations import run_migrations

run_migrations(Base.metadata, CertificatesSettings)
