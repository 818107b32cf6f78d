from gradops_gateway.models import metadata
from gradops_gateway.settings import GatewaySettings
from gradops_shared.migrations import run_migrations

run_migrations(metadata, GatewaySettings)
