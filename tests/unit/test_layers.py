"""The layers import only downwards: read from the source (every import, module-level or local)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute names (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(CHALICELIB.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def offenders(layer: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for path in sorted((CHALICELIB / layer).rglob("*.py")):
        hits = sorted(name for name in imported_modules(path)
                      if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden))
        if hits:
            bad[str(path.relative_to(CHALICELIB.parent))] = hits
    return bad


def test_the_import_walk_sees_local_and_relative_imports(tmp_path, monkeypatch):
    # Given a module that imports the streams inside a function and relatively
    package = tmp_path / "chalicelib" / "services"
    package.mkdir(parents=True)
    module = package / "sneaky.py"
    module.write_text("def f():\n    from chalicelib.streams.events import Change\n    from ..streams import graph\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "CHALICELIB", tmp_path / "chalicelib")
    # Then both are found
    assert offenders("services", ("chalicelib.streams",)) == {
        "chalicelib/services/sneaky.py": ["chalicelib.streams", "chalicelib.streams.events",
                                          "chalicelib.streams.events.Change", "chalicelib.streams.graph"]}


def test_no_service_imports_the_streams():
    """A stream change is a domain value (`domain.changes.Change`); services never see a record."""
    assert offenders("services", ("chalicelib.streams",)) == {}


@pytest.mark.parametrize("infrastructure", ["boto3", "botocore", "pynamodb", "aws_lambda_powertools", "chalice",
                                            "chalicelib.models", "chalicelib.services", "chalicelib.streams"])
def test_the_domain_imports_no_infrastructure(infrastructure):
    assert offenders("domain", (infrastructure,)) == {}
