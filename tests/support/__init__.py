"""Fixtures every test package shares (registered as pytest plugins in tests/conftest.py), so tests
can live beside the code they test (tests/<service>/…) and still use one database, one stack and one
embedded-suite fixture."""
