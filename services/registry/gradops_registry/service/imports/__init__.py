"""名单导入: read the file (`table`, `xlsx`), then compare and write in bulk (`roster`)."""

from gradops_registry.service.imports.roster import import_roster
from gradops_registry.service.imports.table import checked_rows, parse_rows, read_table
from gradops_registry.service.imports.xlsx import SheetLimits, read_first_sheet

__all__ = ["SheetLimits", "checked_rows", "import_roster", "parse_rows", "read_first_sheet", "read_table"]
