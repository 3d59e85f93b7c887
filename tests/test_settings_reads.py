"""The environment is read in one place per program: ``api/settings.py`` with
``api/environment.py`` (the service and the ``kyso`` commands) and
``api/agent/settings.py`` (the agent, which loads nothing server-side). An AST scan of
every package's source finds any other module that touches
``os.environ`` / ``os.getenv`` (however ``os`` or the names were imported)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "certs", "tokens", "signer", "documents", "api")
#: The modules that may touch the environment, and why.
ALLOWED = {
    "api/environment.py": "what the kyso commands read besides the service's settings "
                          "(pydantic-settings reads those in api/settings.py)",
    "api/agent/settings.py": "the agent's own settings (it cannot load api/settings.py)",
    "tokens/softhsm.py": "hands the environment on to softhsm2-util and pkcs11-tool with "
                         "SOFTHSM2_CONF pointing at the demo tokens (reads no setting)",
}
#: What of ``os`` reads or changes the environment.
ENVIRONMENT_NAMES = frozenset({"environ", "environb", "getenv", "getenvb", "putenv",
                               "unsetenv"})


def environment_uses(source: str) -> list[int]:
    """Line numbers where ``source`` touches the process environment through ``os``."""
    tree = ast.parse(source)
    os_names = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {alias.asname or alias.name for alias in node.names
                         if alias.name == "os"}

    def touches(node: ast.AST) -> bool:
        if isinstance(node, ast.ImportFrom):
            return node.module == "os" and any(a.name in ENVIRONMENT_NAMES for a in node.names)
        return isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES \
            and isinstance(node.value, ast.Name) and node.value.id in os_names

    return sorted(getattr(node, "lineno", 0) for node in ast.walk(tree) if touches(node))


def test_only_the_settings_modules_read_the_environment() -> None:
    readers = {
        str(path.relative_to(ROOT)): environment_uses(path.read_text(encoding="utf-8"))
        for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    }
    offenders = {name: lines for name, lines in readers.items()
                 if lines and name not in ALLOWED}
    assert offenders == {}, "read the environment through api/settings.py (Settings, " \
                            "ENVIRONMENT) instead"
    # each allowance is still needed
    assert all(readers.get(name) for name in ALLOWED), \
        [name for name in ALLOWED if not readers.get(name)]


def test_the_scan_sees_every_way_of_reading() -> None:
    assert environment_uses("import os\nx = os.environ.get('KYSO_X')\n") == [2]
    assert environment_uses("import os\nx = os.getenv('KYSO_X')\n") == [2]
    assert environment_uses("import os as system\nsystem.environ['A'] = 'b'\n") == [2]
    assert environment_uses("from os import environ\n") == [1]
    assert environment_uses("from os import getenv as g\n") == [1]
    assert environment_uses("import os\nenv = {**os.environ}\n") == [2]
    assert environment_uses("import os\nos.umask(0)\nsettings.environ\n") == []
