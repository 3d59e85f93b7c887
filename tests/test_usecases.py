"""The use-case layer (``documents/usecases/``) is what the programs call: the web pages and
the CLI never import the HTTP routes (``api.http.routes``), and the service's tools are the
acts' tools."""

from __future__ import annotations

import ast
from pathlib import Path

from api.http.deps import Services
from documents import Tools

ROOT = Path(__file__).resolve().parent.parent
ROUTES = "api.http.routes"


def route_imports(source: str, module: str) -> list[str]:
    """The imports of ``api.http.routes`` (or a module below it) in ``source``, the text of
    the module ``module``: absolute and relative imports, of a module or of its names."""
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found += [n for n in (target, *names)
                      if n == ROUTES or n.startswith(ROUTES + ".")][:1]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names
                      if a.name == ROUTES or a.name.startswith(ROUTES + ".")]
    return found


def test_web_pages_and_cli_import_nothing_from_the_routes() -> None:
    offenders = {}
    for folder in ("api/web", "api/cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            if found := route_imports(path.read_text(encoding="utf-8"), module):
                offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_checker_sees_every_form_of_import() -> None:
    page = "api.web.pages.clerk"
    assert route_imports("from ...http.routes import documents as d\n", page) == \
        ["api.http.routes"]
    assert route_imports("from ...http import routes\n", page) == ["api.http.routes"]
    assert route_imports("from ...http.routes.golive import context_for\n", page) == \
        ["api.http.routes.golive"]
    assert route_imports("import api.http.routes.admin\n", page) == ["api.http.routes.admin"]
    assert route_imports("from api.http.routes import queue\n", "api.cli.main") == \
        ["api.http.routes"]
    assert route_imports("from ...http.views import request_json\n"
                         "from ...http.deps import presented_secret\n"
                         "from documents import approve_one\n", page) == []


def test_the_service_hands_the_acts_their_tools() -> None:
    tools: type[Tools] = Services  # checked by mypy: Services is what the acts take
    assert tools is Services
