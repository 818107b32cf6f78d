"""Photo service: graduation and admission photos, their quality control and review."""
