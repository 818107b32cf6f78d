"""The house rules of docs/architecture.md, measured on the code itself: every service the same
rooms, no file over 400 lines, thin handlers that neither open transactions nor build repositories,
and every problem code declared once in the service's errors.py (the catalogue partners read)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gradops_shared.errors import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "photo", "audit", "certificates", "notifications")
PACKAGES = {name: ROOT / "services" / name / f"gradops_{name}" for name in SERVICES}
ROOMS = (
    "app.py",
    "settings.py",
    "api",
    "service",
    "domain",
    "models.py",
    "repository",
    "events.py",
    "errors.py",
)
MAX_FILE_LINES = 400
MAX_HANDLER_LINES = 40
HTTP_VERBS = {"get", "put", "post", "patch", "delete", "head", "options"}


def python_files(package: Path) -> list[Path]:
    return sorted(package.rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def handlers(module: ast.Module) -> list[ast.AsyncFunctionDef | ast.FunctionDef]:
    """Functions decorated with `@router.<verb>(…)` (or `@api.<verb>`)."""
    found = []
    for node in ast.walk(module):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Attribute) and call.attr in HTTP_VERBS:
                    found.append(node)
                    break
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_rooms(service: str) -> None:
    package = PACKAGES[service]
    missing = [
        room
        for room in ROOMS
        if not (package / room).exists()
        and not (package / room.removesuffix(".py")).is_dir()
        and not (package / f"{room}.py").exists()
    ]
    assert not missing, f"{service} lacks {missing}"
    assert (package / "api" / "__init__.py").exists()


def test_no_service_file_is_over_400_lines() -> None:
    long_files = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES.values()
        for path in python_files(package)
        if (n := len(path.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert not long_files, long_files


def test_handlers_are_thin_and_leave_the_transaction_to_the_edge() -> None:
    offences: list[str] = []
    for package in PACKAGES.values():
        for path in python_files(package / "api"):
            for handler in handlers(parsed(path)):
                where = f"{path.relative_to(ROOT)}:{handler.lineno} {handler.name}"
                assert handler.end_lineno is not None
                length = handler.end_lineno - handler.lineno + 1
                if length > MAX_HANDLER_LINES:
                    offences.append(f"{where} is {length} lines")
                for node in ast.walk(handler):
                    if isinstance(node, ast.Call):
                        func = node.func
                        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                        if name in ("transaction", "commit", "execute"):
                            offences.append(f"{where} calls {name}()")
                        if name.endswith("Repository"):
                            offences.append(f"{where} builds {name}")
    assert not offences, "\n".join(offences)


PROBLEM_BUILDERS = {
    "GradOpsError",
    "InvalidInput",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "ServiceUnavailable",
    "problem_response",
}


def is_inline_problem(call: ast.Call) -> bool:
    """`InvalidInput("…", code="registry.x")` or `problem_response(code="x.y", …)`: a problem whose
    code is typed where it is raised instead of declared in errors.py."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in PROBLEM_BUILDERS and any(k.arg == "code" for k in call.keywords)


def test_problem_codes_are_declared_once_in_errors_py() -> None:
    inline: list[str] = []
    for package in [*PACKAGES.values(), ROOT / "gateway" / "gradops_gateway"]:
        for path in python_files(package):
            if path.name == "errors.py":
                continue
            for node in ast.walk(parsed(path)):
                if isinstance(node, ast.Call) and is_inline_problem(node):
                    inline.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not inline, "problems built with an inline code (declare them in errors.py):\n" + "\n".join(inline)


def test_the_catalogue_knows_every_service_and_each_code_once() -> None:
    import gradops_suite.catalogue  # noqa: F401  (imports every service's errors.py)

    services = {problem.service for problem in CATALOGUE.values()}
    assert set(SERVICES) <= services, services
    for code, problem in CATALOGUE.items():
        assert problem.code == code and 400 <= problem.status < 600
        assert problem.title and problem.title_zh, code
