"""`kyso serve` keeps its worker running (issue 17): a worker killed with SIGKILL is
started again, the restart is logged, and work uploaded after the kill is done; a crash
loop waits longer and longer (bounded) between starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api.cli.supervise import Supervised, next_delay

from .conftest import TESTS_DATA
from .service_support import Service, embedded_service, upload, wait_for

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
