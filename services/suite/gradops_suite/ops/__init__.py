"""The operator CLI (`gradops`, typer): commands that talk to a deployment's API (roster and photo
imports, batches, audits, the CHSI export, the timeline), its processes' `/readyz` and `/metrics`
(health), and Kafka itself (dead-letter replay). `app.py` combines them with the process commands
of `gradops_suite.cli` (run, serve, migrate, stack, openapi, keys)."""
