"""Writes the committed specs: each service's OpenAPI, the merged gateway spec, event schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradops_gateway.api import gateway_openapi
from gradops_gateway.openapi import GATEWAY, merge_specs
from gradops_shared.contracts import json_schemas
from gradops_shared.errors import catalogue_markdown
from gradops_shared.runtime import create_service_app
from gradops_shared.settings import secrets_unused
from gradops_suite.catalogue import DEFINITIONS

# Written beside the specs' folder, in docs/ (the path is relative to openapi/).
PROBLEM_CODES_DOC = "../docs/problem-codes.md"


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def generated_files() -> dict[str, str]:
    with secrets_unused():  # the routes only: nothing is signed or encrypted
        specs = {
            name: create_service_app(definition, definition.settings_cls()).openapi()
            for name, definition in DEFINITIONS.items()
        }
    specs[GATEWAY] = gateway_openapi()
    files = {f"{name}.json": _dump(spec) for name, spec in specs.items()}
    files["gradops.json"] = _dump(merge_specs(specs))
    files.update({f"events/{name}": _dump(schema) for name, schema in json_schemas().items()})
    # The problem-code catalogue as a table partners read (every service's errors.py is loaded now).
    files[PROBLEM_CODES_DOC] = catalogue_markdown()
    return files


def write_or_check(directory: Path, *, check: bool) -> list[str]:
    """Returns the files that differ (check) or were rewritten (write)."""
    changed: list[str] = []
    for relative, content in generated_files().items():
        path = directory / relative
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != content:
            shown = relative.removeprefix("../") if relative.startswith("../") else f"openapi/{relative}"
            changed.append(f"{'drift' if check else 'wrote'}: {shown}")
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
    return changed
