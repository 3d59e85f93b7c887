"""The agent as a program of its own on the official's PC: it imports nothing of the
server, asks the PIN in a window when it has no console (a clear error when it cannot),
and installs alone — the kyso-agent wheel (ops/build-agent.sh) in a fresh virtualenv,
without FastAPI, SQLAlchemy or Celery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
#: what must never be loaded on the official's PC
SERVER_SIDE = ("documents", "api.http", "api.web", "api.worker", "api.cli", "api.demo",
               "sqlalchemy", "celery", "fastapi", "signer", "alembic", "jinja2")

LOADED = "import json, sys\nimport api.agent.main\nprint(json.dumps(sorted(sys.modules)))"


def server_side(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_SIDE)]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "KYSO_PASSWORD")}
    return {**env, **extra}


def test_the_agent_imports_nothing_server_side(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(), timeout=120, check=True)
    modules = json.loads(done.stdout)
    assert "api.agent.main" in modules and "tokens" in modules
    assert server_side(modules) == []


@pytest.mark.parametrize(("stdin", "mode"), [(subprocess.DEVNULL, "dialog"),
                                              (subprocess.PIPE, "stdin")])
def test_without_a_console_the_agent_asks_in_a_dialog(tmp_path: Path, stdin: int,
                                                      mode: str) -> None:
    code = "from api.agent.dialog import input_mode; print(input_mode())"
    done = subprocess.run([sys.executable, "-c", code], stdin=stdin, capture_output=True,
                          text=True, cwd=tmp_path, env=_env(), timeout=60, check=True)
    assert done.stdout.strip() == mode


def test_no_window_to_ask_in_is_a_clear_error(tmp_path: Path) -> None:
    """Started at login without a display: the password dialog cannot open; it says so."""
    done = subprocess.run(
        [sys.executable, "-m", "api.agent", "--service", "http://127.0.0.1:9", "--user",
         "phochutich", "--module", "/khong-co.so"], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=120)
    assert done.returncode != 0
    assert "không hỏi được mật khẩu hoặc mã PIN" in done.stderr, done.stderr
    assert "tkinter" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_login_scripts_start_the_agent_without_a_console() -> None:
    unit = (ROOT / "ops" / "agent" / "kyso-agent.service").read_text(encoding="utf-8")
    assert "ExecStart=%h/.local/bin/kyso-agent --service ${KYSO_SERVICE}" in unit
    assert "WantedBy=graphical-session.target" in unit
    task = (ROOT / "ops" / "agent" / "kyso-agent-login.cmd").read_text(encoding="utf-8")
    assert "/SC ONLOGON" in task and "-m api.agent --service" in task and "pythonw" in task


@pytest.mark.slow
def test_the_kyso_agent_wheel_installs_alone_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    built = subprocess.run([str(ROOT / "ops" / "build-agent.sh"), str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("kyso_agent-*.whl")
    venv = tmp_path / "pc"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                               capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=json"],
                            capture_output=True, text=True, check=True, timeout=120)
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "kyso-agent" in names and "pyhanko" in names
    assert not names & {"fastapi", "sqlalchemy", "celery", "kyso", "uvicorn", "psycopg"}
    # run from elsewhere, so that only the installed copy can be imported
    helped = subprocess.run([str(venv / "bin" / "kyso-agent"), "--help"], capture_output=True,
                            text=True, cwd=tmp_path, env=_env(), timeout=120)
    assert helped.returncode == 0 and "USB token" in helped.stdout, helped.stderr
    loaded = subprocess.run([str(python), "-c", LOADED], capture_output=True, text=True,
                            cwd=tmp_path, env=_env(), timeout=120, check=True)
    modules = json.loads(loaded.stdout)
    assert server_side(modules) == []
    assert str(venv) in subprocess.run(
        [str(python), "-c", "import api.agent; print(api.agent.__file__)"], cwd=tmp_path,
        capture_output=True, text=True, check=True).stdout
