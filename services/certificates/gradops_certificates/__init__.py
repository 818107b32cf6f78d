"""Certificates service: numbers, issuance and reading of graduation certificates (毕业证书)."""
