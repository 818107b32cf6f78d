from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gradops_shared.settings import ServiceSettings

# Only for a developer's machine; set real keys in production (the README says how).
DEV_PII_KEY = "gradops-dev-pii-key-change-me"
DEV_COLLECTION_CODE_KEY = "gradops-dev-collection-code-key-change-me"


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GRADOPS_REGISTRY_")
    # Refused outside the embedded default (gradops_shared.settings): a real deployment sets both.
    development_secrets: ClassVar[dict[str, str]] = {
        "pii_key": DEV_PII_KEY,
        "collection_code_key": DEV_COLLECTION_CODE_KEY,
    }

    school_code: str = Field("51357", pattern=r"^\d{5}$", description="5-digit national school code.")
    school_name: str = Field("昆明开放学院", min_length=1, description="Shown on the collection code.")
    pii_key: SecretStr = Field(
        SecretStr(DEV_PII_KEY),
        description="Secret the ID-number encryption key and lookup-hash key derive from. Changing it "
        "makes stored numbers unreadable: rotate by re-encrypting.",
    )
    collection_code_key: SecretStr = Field(
        SecretStr(DEV_COLLECTION_CODE_KEY),
        description="HMAC key of collection codes; the photo service must hold the same one.",
    )
    collection_code_ttl_days: int = Field(30, ge=1, le=400)
    collection_code_font_path: str | None = Field(
        None, description="A TrueType/OpenType font with CJK glyphs for the text under the QR code."
    )
    max_import_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Roster files above are refused.")
    max_evidence_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Evidence files above are refused."
    )
    import_batch_rows: int = Field(2000, ge=1, le=50_000, description="Rows per bulk insert of an import.")
    import_max_rows: int = Field(
        100_000, ge=1, le=1_000_000, description="Roster rows (header not counted) above are refused (413)."
    )
    import_max_columns: int = Field(32, ge=25, le=256, description="Roster columns above are refused (413).")
    import_max_xlsx_entries: int = Field(64, ge=8, le=10_000, description="Zip entries of an XLSX roster.")
    import_max_xlsx_part_bytes: int = Field(
        256 * 1024 * 1024, ge=1024, description="Inflated size of any one part of an XLSX roster."
    )
    import_max_xlsx_total_bytes: int = Field(
        320 * 1024 * 1024, ge=1024, description="Inflated size of all parts of an XLSX roster together."
    )
    import_max_shared_strings: int = Field(
        1_000_000, ge=1, description="Shared strings of an XLSX roster (calamine holds them all)."
    )
