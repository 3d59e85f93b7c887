"""``kyso serve`` for the embedded profile: API and UI in this process, one Celery worker
beside it (started again when it dies: :mod:`api.cli.supervise`), the demo PKI's
services, and (with the demo) the demo commune's accounts."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..datadir import DataDir
from ..settings import ENV_DATA_DIR, ENVIRONMENT, Settings, pin_env
from ..worker.lifeline import die_with_parent
from .supervise import Supervised


def worker_command(queues: list[str], beat_schedule: Path) -> list[str]:
    """One worker; with ``-B`` it also runs Celery beat (the periodic e-mail of
    notifications), as the embedded profile has no other process for it."""
    celery = str(Path(sys.executable).with_name("celery"))
    return [celery, "-A", "api.worker.app", "worker", "--pool=solo", "--loglevel=WARNING",
            "-Q", ",".join(["default", *queues]), "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-B", "-s", str(beat_schedule)]


def start_worker(data: DataDir, token_names: list[str], pins: dict[str, str],
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A worker consuming the default queue and the queues of ``token_names``."""
    data.activate_softhsm()
    env = ENVIRONMENT.for_child({
        ENV_DATA_DIR: str(data.root),
        "KYSO_SERVER_TOKENS": "[" + ",".join(f'"{t}"' for t in token_names) + "]",
        **{pin_env(name): pin for name, pin in pins.items()}, **(extra_env or {})})
    command = worker_command([f"token.{t}" for t in token_names],
                             data.root / "celery-beat-schedule")
    # SIGTERM (Celery's warm shutdown) from the kernel when `kyso serve` dies, however it
    # dies, and the worker's own lifeline bounds that shutdown (api/worker/lifeline.py): no
    # worker, nor its beat, is left behind consuming the queues
    env["KYSO_SUPERVISOR_PID"] = str(os.getpid())
    return subprocess.Popen(command, env=env, preexec_fn=functools.partial(
        die_with_parent, signal.SIGTERM, os.getpid()))


def load_demo(data: DataDir, console: Any, pki_port: int | None) -> list[tuple[str, str, str]]:
    """Provision the demo commune (tokens, PKI, database rows, accounts); the logins."""
    from ..database import open_database
    from ..demo import demo as demo_commune
    from ..demo.accounts import seed_demo_accounts, seed_demo_province_admin
    from ..demo.commune import demo_people, seed

    data.activate_softhsm()
    commune = demo_commune.provision(data.softhsm, data.pki,
                                     port=pki_port)
    settings = data.token_settings()
    settings.update(demo_commune.token_settings(commune))
    data.save_token_settings(settings)
    sessions = open_database(data)
    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        logins = seed_demo_accounts(session, body, demo_people(session, body))
        logins.append(seed_demo_province_admin(session))
    return logins


def run_embedded(settings: Settings, *, with_demo: bool, console: Any) -> None:
    """The service on ``settings.host``:``settings.port`` with one worker beside it."""
    import uvicorn

    from ..http.app import create_app
    from .operations import pki_services

    data, host, port = settings.data, settings.host, settings.port
    ENVIRONMENT.set(ENV_DATA_DIR, str(data.root))
    logins = load_demo(data, console, settings.demo_pki_preferred_port) if with_demo else []
    tokens = list(data.token_settings())
    pins: dict[str, str] = {}
    if with_demo:  # the demo's tokens have the demo's PIN; real ones are never known
        from ..demo.demo import DEMO_PIN

        pins = {name: DEMO_PIN for name in tokens}
    with pki_services(data):
        # the worker makes verification links (QR codes): it must know this address
        worker = Supervised("worker", lambda: start_worker(
            data, tokens, pins, extra_env={"KYSO_HOST": host, "KYSO_PORT": str(port)}),
            lambda line: _say(console, line))
        try:
            console.print(f"[bold]Kyso đang chạy / running:[/bold] http://{host}:{port}/ "
                          f"(API: http://{host}:{port}/docs)")
            for username, password, role in logins:
                console.print(f"  {role:<28} {username} / {password}")
            # uvicorn believes X-Forwarded-For from any local peer by default: off, the
            # app believes only KYSO_TRUSTED_PROXIES (api/http/app.py)
            uvicorn.run(create_app(settings), host=host, port=port, log_level="warning",
                        proxy_headers=False)
        finally:
            worker.stop()


def _say(console: Any, line: str) -> None:
    """One line of the supervisor's log, written out at once (stdout may be a file)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)
    sys.stdout.flush()
