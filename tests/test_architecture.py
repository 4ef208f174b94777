"""Keeps the import directions between packages one-way (docs/ARCHITECTURE.md, "House rules").

The full contracts (layers, the predictor facade, no cycles) are import-linter's, in
pyproject.toml, run by ``make test``; this test keeps the package-level directions in pytest.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "predictor": {"service", "device_agents", "perfloop", "benchmarks"},
    "service": {"device_agents", "perfloop", "benchmarks"},
    "device_agents": {"predictor", "service", "perfloop", "benchmarks"},
}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_directions(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"package {package} has no modules"
    offenders = {
        str(f.relative_to(ROOT)): sorted(_imported_roots(f) & FORBIDDEN[package]) for f in files
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"forbidden imports: {offenders}"


def test_no_top_level_datasets_package() -> None:
    assert not (ROOT / "datasets" / "__init__.py").exists(), "datasets/ holds data, not code"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_benchmark_code_in_product_packages(package: str) -> None:
    benches = sorted(
        str(f.relative_to(ROOT))
        for f in (ROOT / package).rglob("*.py")
        if any(part.startswith("bench") for part in f.relative_to(ROOT).parts)
    )
    assert not benches, f"benchmark code belongs in benchmarks/: {benches}"
