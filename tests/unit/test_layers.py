"""The client and the pages stay on their side of the public API."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "pxm_jobs"


def imported_modules(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / folder).glob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[path.name] = names
    return found


def test_the_client_imports_nothing_of_the_service() -> None:
    for module, names in imported_modules("client").items():
        ours = {name for name in names if name.startswith("pxm_jobs")}
        assert all(name.startswith("pxm_jobs.client") for name in ours), (module, ours)


def test_the_pages_never_import_the_api_layer() -> None:
    for module, names in imported_modules("web").items():
        assert not any(name.startswith("pxm_jobs.api") for name in names), module
