"""The dependency direction common ← certs ← tokens ← signer ← documents ← api, on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["common", "certs", "tokens", "signer", "documents", "api"]


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_a_package_never_imports_one_to_its_right(layer: str) -> None:
    forbidden = set(LAYERS[LAYERS.index(layer) + 1:])
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & forbidden)
        for path in (ROOT / layer).rglob("*.py")
        if imported_packages(path) & forbidden
    }
    assert offenders == {}


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import api.cli\nfrom signer import sign_pdf\nfrom . import x\n")
    assert imported_packages(module) == {"api", "signer"}


@pytest.mark.parametrize("layer", ["common", "certs", "tokens", "signer", "documents"])
def test_only_api_reads_the_environment(layer: str) -> None:
    readers = [
        str(path.relative_to(ROOT)) for path in (ROOT / layer).rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8")
        and "SOFTHSM2_CONF" not in path.read_text(encoding="utf-8")
    ]
    assert readers == []


@pytest.mark.parametrize("layer", LAYERS)
def test_every_package_declares_its_public_surface(layer: str) -> None:
    module = __import__(layer)
    assert isinstance(module.__all__, list)
    for name in module.__all__:
        assert hasattr(module, name), f"{layer}.{name} is exported but missing"
