"""The certificate rules, no I/O: numbers and their validator, distribution deadlines, working
days, the replacement rule and what public verification may show."""

from gradops_certificates.domain.numbers import (
    DEGREE_CODES,
    EDUCATION_TYPE_CODES,
    LEVEL_CODES,
    MAX_SERIAL,
    REPLACEMENT_SERIES,
    CertificateNumber,
    DegreeNumber,
    ParsedNumber,
    ReplacementNumber,
    level_code,
    make_degree_number,
    make_number,
    make_replacement_number,
    parse_number,
    validate_number,
)

__all__ = [
    "DEGREE_CODES",
    "EDUCATION_TYPE_CODES",
    "LEVEL_CODES",
    "MAX_SERIAL",
    "REPLACEMENT_SERIES",
    "CertificateNumber",
    "DegreeNumber",
    "ParsedNumber",
    "ReplacementNumber",
    "level_code",
    "make_degree_number",
    "make_number",
    "make_replacement_number",
    "parse_number",
    "validate_number",
]
