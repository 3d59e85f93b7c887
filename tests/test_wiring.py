"""What each program loads, seen in a fresh interpreter's ``sys.modules``.

- The production wiring — every module of ``api`` outside ``api/demo/`` (the HTTP app
  factory, the web UI, the worker's Celery app and runtime, every CLI command module),
  the HTTP app started and answering, the worker's runtime built — imports nothing
  from the demo. Only the ``demo`` command and ``kyso serve --demo`` reach it, from
  inside their own functions.
- The agent (the program on the official's PC) imports nothing server-side.
"""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import api

#: Server-side packages the agent must not load (top-level module names).
SERVER_SIDE = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "celery", "kombu",
               "jinja2", "pydantic_settings", "psycopg", "documents")
#: Variables of the caller's environment that would point the programs elsewhere.
FOREIGN_ENV = ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL", "KYSO_RESULT_BACKEND")


def modules_of(package: str) -> list[str]:
    """``package`` and every module below it, found on disk (a new module counts too)."""
    found = [package]
    path = Path(api.__file__).parent.parent.joinpath(*package.split("."))
    for info in pkgutil.walk_packages([str(path)], prefix=package + "."):
        found.append(info.name)
    return sorted(found)


def production_modules() -> list[str]:
    return [m for m in modules_of("api")
            if not m.startswith(("api.demo.", "api.agent.")) and m not in ("api.demo", "api.agent")]


def loaded_by(code: str, tmp_path: Path) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` on an empty data
    directory."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    env["KYSO_DATA_DIR"] = str(tmp_path / "data")
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def demo_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m == "api.demo" or m.startswith("api.demo."))


#: Starts what production runs: the HTTP app (lifespan, a JSON route and a web page) and
#: the worker's runtime, as each worker process builds it after the fork.
RUN_PRODUCTION = """
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.settings import Settings
from api.worker.runtime import runtime_for

with TestClient(create_app(Settings())) as client:
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/dang-nhap").status_code == 200
runtime, tokens = runtime_for(Settings())
tokens.close_all()
"""


def test_the_production_wiring_imports_nothing_from_the_demo(tmp_path: Path) -> None:
    modules = production_modules()
    assert {"api.http.app", "api.web", "api.worker.app", "api.worker.runtime", "api.cli.main",
            "api.cli.serve", "api.cli.accounts", "api.cli.audit", "api.cli.doctor"} <= set(modules)
    loaded = loaded_by("\n".join(f"import {m}" for m in modules) + RUN_PRODUCTION, tmp_path)
    assert set(modules) <= loaded
    assert demo_modules(loaded) == []


def test_the_check_sees_a_demo_import(tmp_path: Path) -> None:
    assert demo_modules(loaded_by("import api.worker.runtime\nimport api.demo.art",
                                  tmp_path)) == ["api.demo", "api.demo.art"]


#: The demo's own clients: the `demo` command, and `kyso serve` with the demo (default).
DEMO_CLIENTS = {("api.cli.main", "demo"), ("api.cli.serve", "load_demo"),
                ("api.cli.serve", "run_embedded")}


def demo_imports(module: str, source: str, *, is_package: bool = False) -> set[tuple[str, str]]:
    """(module, function) of each import of ``api.demo`` in ``source`` ("" at module level),
    relative imports resolved from ``module`` (a package's ``__init__`` if ``is_package``)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[tuple[str, str]] = set()

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) \
                else function
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - child.level + 1] \
                    if child.level else []
                stem = ".".join([*base, *([child.module] if child.module else [])])
                targets = [stem, *(f"{stem}.{alias.name}" for alias in child.names)]
            if any(t == "api.demo" or t.startswith("api.demo.") for t in targets):
                found.add((module, function))
            visit(child, inner)

    visit(ast.parse(source), "")
    return found


def test_only_the_demos_clients_import_it_even_inside_a_function() -> None:
    root = Path(api.__file__).parent.parent
    found: set[tuple[str, str]] = set()
    for module in production_modules():
        path = root.joinpath(*module.split("."))
        is_package = path.is_dir()
        path = path / "__init__.py" if is_package else path.with_suffix(".py")
        found |= demo_imports(module, path.read_text(encoding="utf-8"), is_package=is_package)
    assert found == DEMO_CLIENTS


def test_the_source_check_sees_a_demo_import() -> None:
    assert demo_imports("api.http.deps", "def f():\n    from ..demo import art\n") == {
        ("api.http.deps", "f")}
    assert demo_imports("api.web.pages.files", "from ...demo.art import seal\n") == {
        ("api.web.pages.files", "")}
    assert demo_imports("api.trust", "import api.demo.commune\n") == {("api.trust", "")}
    assert demo_imports("api.trust", "from .datadir import DataDir\n") == set()
    assert demo_imports("api.web", "from .. import demo\n", is_package=True) == {("api.web", "")}


def server_side(modules: set[str]) -> list[str]:
    """What of ``modules`` the agent must not load: server-side libraries, ``documents``,
    and any of ``api`` other than the agent's own package (settings, data directory …)."""
    return sorted(m for m in modules if m.split(".")[0] in SERVER_SIDE
                  or (m.startswith("api.") and m != "api.agent" and not m.startswith("api.agent.")))


def test_the_agent_imports_nothing_server_side(tmp_path: Path) -> None:
    agent = modules_of("api.agent")
    assert "api.agent.main" in agent
    loaded = loaded_by("\n".join(f"import {m}" for m in agent), tmp_path)
    assert set(agent) <= loaded
    assert server_side(loaded) == []


def test_the_agent_check_sees_a_server_side_import(tmp_path: Path) -> None:
    offenders = server_side(loaded_by("import api.agent.main\nimport api.settings", tmp_path))
    assert {"pydantic_settings", "api.settings"} <= set(offenders)


#: What ``kyso sign`` and ``kyso verify`` need not load: the document layer and the
#: service's settings (about a second of every command's start on the project's machine,
#: docs/benchmarks.md); the commands that use them import them when they run.
COMMAND_LINE_SPARES = ("documents", "sqlalchemy", "alembic", "pydantic_settings", "celery",
                       "fastapi", "jinja2")


def test_the_command_line_loads_the_document_layer_only_for_the_commands_that_use_it(
        tmp_path: Path) -> None:
    loaded = loaded_by("import api.cli.main\nfrom api.cli.main import app\n"
                       "from typer.main import get_command\nget_command(app)", tmp_path)
    assert "api.cli.main" in loaded and "signer" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in COMMAND_LINE_SPARES) == []
    loaded = loaded_by("import api.cli.main\nimport api.cli.audit\nimport api.cli.db\n"
                       "import api.cli.init\nimport api.cli.accounts\nimport documents",
                       tmp_path)
    assert {"documents", "sqlalchemy"} <= loaded  # the check sees them when they load
