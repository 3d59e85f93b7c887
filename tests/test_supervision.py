"""`kyso serve` keeps its worker running (issue 17): a worker killed with SIGKILL is
started again, the restart is logged, and work uploaded after the kill is done; a crash
loop waits longer and longer (bounded) between starts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from api.cli.supervise import Supervised, next_delay
from api.datadir import DataDir
from certs import free_port

from .conftest import TESTS_DATA
from .service_support import Service, embedded_env, embedded_service, upload, wait_for

DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"


def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_the_back_off_doubles_while_the_process_keeps_dying_and_resets_once_stable() -> None:
    limits = {"first_delay": 1.0, "max_delay": 8.0, "stable_after": 30.0}
    delays: list[float] = []
    previous = None
    for _ in range(6):
        previous = next_delay(previous, 0.5, **limits)
        delays.append(previous)
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert next_delay(8.0, 31.0, **limits) == 1.0


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_a_killed_child_is_started_again_and_the_restart_is_logged() -> None:
    lines: list[str] = []
    supervised = Supervised("worker", sleeper, lines.append, first_delay=0.1)
    try:
        first = supervised.pid
        os.kill(first, signal.SIGKILL)
        until(lambda: supervised.restarts == 1)
        assert supervised.pid != first
        os.kill(supervised.pid, 0)  # the new one is alive
        assert f"pid {first}" in lines[0] and "died (exit code -9)" in lines[0]
        assert "đã dừng" in lines[0] and "restarted" in lines[1]
    finally:
        supervised.stop()
    assert supervised.restarts == 1


def test_a_crash_loop_is_slowed_down() -> None:
    lines: list[str] = []
    supervised = Supervised("worker", lambda: subprocess.Popen([sys.executable, "-c", "1"]),
                            lines.append, first_delay=0.05, max_delay=0.2)
    try:
        until(lambda: supervised.restarts >= 4)
    finally:
        supervised.stop()
    waits = [line.split("restarting in ")[1] for line in lines if "restarting in" in line]
    assert waits[:4] == ["0.05 s", "0.1 s", "0.2 s", "0.2 s"]


def worker_pids(service: Service) -> list[int]:
    """The Celery worker processes `kyso serve` started (its children running celery)."""
    pids = []
    for task in Path(f"/proc/{service.process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue  # gone meanwhile
            if b"celery" in command and b"worker" in command:
                pids.append(int(child))
    return pids


def live_worker(service: Service, not_pid: int) -> bool:
    pids = worker_pids(service)
    return len(pids) == 1 and pids[0] != not_pid


@pytest.mark.slow
def test_kyso_serve_replaces_a_killed_worker_and_the_work_goes_on(tmp_path: Path) -> None:
    with embedded_service(tmp_path) as service:
        staff = service.login("chuyenvien")
        body_id = staff.get("/api/v1/bodies").json()[0]["id"]
        [killed] = worker_pids(service)
        os.kill(killed, signal.SIGKILL)
        document = upload(staff, body_id, DRAFT)
        assert document.status_code in (201, 202), document.text
        until(lambda: live_worker(service, killed), 60)
        wait_for(staff, document.json()["id"], "PREPARED", 120)
        log = (tmp_path / "serve.log").read_text(encoding="utf-8")
        assert f"worker (pid {killed}) died (exit code -9)" in log
        assert f"đã khởi động lại (pid {worker_pids(service)[0]})" in log
        assert httpx.get(f"{service.url}/api/v1/health").status_code == 200


PARENT = """
import sys, time
from pathlib import Path
from api.cli.serve import start_worker
from api.datadir import DataDir
worker = start_worker(DataDir(Path(sys.argv[1])), [], {})
Path(sys.argv[2]).write_text(str(worker.pid))
time.sleep(3600)
"""


def alive(pid: int) -> bool:
    """``pid`` runs (a zombie left for a reaper that does not reap counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                found.extend(int(p) for p in (task / "children").read_text().split())
    return found


def heartbeats(database_url: str) -> int:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM worker_heartbeat")).scalar_one())
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_worker_whose_supervisor_died_exits_with_its_beat_whatever_the_broker(
        tmp_path: Path) -> None:
    """`kyso serve` killed with SIGKILL, its database dropped and its broker silent (every
    connection open, nothing answered: Celery's warm shutdown waits on it for good): the
    worker it started (the same `start_worker`) and the worker's embedded beat are gone
    within the grace (``KYSO_ORPHAN_GRACE``) and a bound, on their own."""
    from .support.backing import TcpRelay
    from .test_service import backing_services

    data = DataDir(tmp_path / "data").create()
    name = f"kyso_orphan_{os.getpid()}_{free_port()}"
    with backing_services("postgres-redis", name) as extra:
        redis = urlsplit(extra["KYSO_BROKER_URL"])
        relay = TcpRelay((redis.hostname or "127.0.0.1", redis.port or 6379))
        relay.up()
        broker = extra["KYSO_BROKER_URL"].replace(redis.netloc, f"127.0.0.1:{relay.port}")
        env = {**embedded_env(**extra), "KYSO_BROKER_URL": broker,
               "KYSO_RESULT_BACKEND": broker, "KYSO_ORPHAN_GRACE": "3"}
        log = (tmp_path / "worker.log").open("wb")
        pid_file = tmp_path / "worker.pid"
        parent = subprocess.Popen([sys.executable, "-c", PARENT, str(data.root),
                                   str(pid_file)], env=env, cwd=Path(__file__).parents[1],
                                  stdout=log, stderr=subprocess.STDOUT)
        worker = beat = 0
        try:
            until(lambda: pid_file.exists() and pid_file.read_text() != "", 60)
            worker = int(pid_file.read_text())
            until(lambda: bool(children_of(worker)) and heartbeats(extra["KYSO_DATABASE_URL"])
                  > 0, 120)
            [beat] = children_of(worker)  # Celery beat (-B), a child of the worker
            relay.stall()
            parent.kill()  # SIGKILL: the kernel sends the worker SIGTERM (warm shutdown)
            parent.wait()
            admin = create_engine(os.environ.get(
                "KYSO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
                isolation_level="AUTOCOMMIT", poolclass=NullPool)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
            until(lambda: not alive(worker) and not alive(beat), 60)
            assert "supervisor" in (tmp_path / "worker.log").read_text(encoding="utf-8")
        finally:
            for pid in (beat, worker):  # only when the test failed
                if pid and alive(pid):
                    os.kill(pid, signal.SIGKILL)
            if parent.poll() is None:
                parent.kill()
            relay.down()


@pytest.mark.slow
def test_the_embedded_beat_dies_with_a_worker_killed_with_sigkill(tmp_path: Path) -> None:
    """A worker killed with SIGKILL (out of memory, the supervisor's last resort) leaves no
    Celery beat behind to send the periodic tasks a second time beside its successor's."""
    data = DataDir(tmp_path / "data").create()
    pid_file = tmp_path / "worker.pid"
    log = (tmp_path / "worker.log").open("wb")
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(data.root), str(pid_file)],
                              env=embedded_env(), cwd=Path(__file__).parents[1], stdout=log,
                              stderr=subprocess.STDOUT)
    beat = 0
    try:
        until(lambda: pid_file.exists() and pid_file.read_text() != "", 60)
        worker = int(pid_file.read_text())
        until(lambda: bool(children_of(worker)) and heartbeats(data.database_url) > 0, 120)
        [beat] = children_of(worker)
        os.kill(worker, signal.SIGKILL)
        until(lambda: not alive(beat), 30)
    finally:
        if beat and alive(beat):
            os.kill(beat, signal.SIGKILL)
        parent.kill()
        parent.wait()
