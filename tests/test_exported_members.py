"""Each package's public surface, in the manner of httpx's ``tests/test_exported_members.py``.

For common, certs, tokens, signer and documents: every name in ``__all__`` is defined in the
package and used by some module outside it (a caller: another package, ``api``, ``bench``
or a test), a caller imports only names the package exports, and no module outside a
package imports one of its submodules — tests may, except private (``_name``) ones.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "certs", "tokens", "signer", "documents")
CALLERS = (*PACKAGES, "api", "bench", "tests")


@dataclass
class Uses:
    """What one module takes from the packages: names per package, submodules imported."""

    names: dict[str, set[str]] = field(default_factory=dict)
    #: (line, dotted module) of each import of a package's submodule
    submodules: list[tuple[int, str]] = field(default_factory=list)


@cache
def exported(package: str) -> frozenset[str]:
    return frozenset(importlib.import_module(package).__all__)


def is_submodule(package: str, name: str) -> bool:
    """A submodule, not a name the package exports (``signer.locate`` is both)."""
    folder = ROOT / package
    return name not in exported(package) and (
        (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file())


def uses_in(source: str, owner: str) -> Uses:
    """The packages' names and submodules ``source`` uses, leaving out its own package
    ``owner``: ``from pkg import name``, ``import pkg`` then ``pkg.name``, and any
    ``pkg.sub`` in an import."""
    uses = Uses()
    tree = ast.parse(source)
    aliases: dict[str, str] = {}  # local name → package, for `import pkg [as x]`
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top, _, rest = node.module.partition(".")
            if top not in PACKAGES or top == owner:
                continue
            if rest:
                uses.submodules.append((node.lineno, node.module))
                continue
            for alias in node.names:
                if is_submodule(top, alias.name):  # from pkg import submodule
                    uses.submodules.append((node.lineno, f"{top}.{alias.name}"))
                else:
                    uses.names.setdefault(top, set()).add(alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, _, rest = alias.name.partition(".")
                if top not in PACKAGES or top == owner:
                    continue
                if rest:
                    uses.submodules.append((node.lineno, alias.name))
                else:
                    aliases[alias.asname or top] = top
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases and not node.attr.startswith("__") \
                and not is_submodule(aliases[node.value.id], node.attr):
            uses.names.setdefault(aliases[node.value.id], set()).add(node.attr)
    return uses


@cache
def callers() -> dict[str, Uses]:
    """Every caller module (by path relative to the root) and what it uses."""
    found = {}
    for folder in CALLERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            found[str(relative)] = uses_in(path.read_text(encoding="utf-8"), relative.parts[0])
    return found


def used_names(package: str) -> set[str]:
    return {name for uses in callers().values() for name in uses.names.get(package, ())}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_is_defined_once_and_public(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), "a name is listed twice"
    assert [n for n in exported if not hasattr(module, n)] == []
    assert [n for n in exported if n.startswith("_")] == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_has_a_caller_outside_the_package(package: str) -> None:
    assert sorted(exported(package) - used_names(package)) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_callers_take_only_what_the_package_exports(package: str) -> None:
    assert sorted(used_names(package) - exported(package)) == []


def test_no_module_outside_a_package_imports_its_submodules() -> None:
    offenders = [f"{path}:{line} {module}" for path, uses in callers().items()
                 if not path.startswith("tests/") for line, module in uses.submodules]
    assert offenders == []


def test_no_module_imports_another_packages_private_submodule() -> None:
    offenders = [f"{path}:{line} {module}" for path, uses in callers().items()
                 for line, module in uses.submodules
                 if any(part.startswith("_") for part in module.split(".")[1:])]
    assert offenders == []


def test_the_checker_sees_names_attributes_and_submodules() -> None:
    uses = uses_in("import signer\nfrom documents import route, Document\n"
                   "from documents.queue import recall\nimport tokens.pkcs11\n"
                   "from . import sibling\nsigner.sign_pdf(b'')\nsigner.__name__\n"
                   "from signer import isolate\ntokens.pkcs11.load_module\n", owner="api")
    assert uses.names == {"documents": {"route", "Document"}, "signer": {"sign_pdf"}}
    assert uses.submodules == [(3, "documents.queue"), (4, "tokens.pkcs11"),
                               (8, "signer.isolate")]
    assert uses_in("from documents.queue import route\n", owner="documents") == Uses()
