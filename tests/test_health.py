"""``/api/v1/health`` tells the truth (issue 17): each part is checked for real — the
database, the broker (SQLite and Redis), the workers' heartbeats written by a real
:class:`api.worker.heartbeat.Heartbeat`, the background work waiting, the demo PKI's TSA
and OCSP responder on loopback (and a dead port) — and the answer is ``degraded`` with
reasons in both languages when one is missing: 200, or 503 with ``strict=true``."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api.datadir import DataDir
from api.demo.demo import DemoCommune
from api.health import CACHE, QUEUE_AGE_LIMIT
from api.settings import Settings
from api.worker.heartbeat import Heartbeat
from documents import TaskState, record_enqueued, utc_now

REDIS = os.environ.get("KYSO_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def health_client(commune: DemoCommune, root: Path, **overrides: Any) -> Iterator[Any]:
    """The real app in-process on a data directory of its own (the demo PKI's TSA and
    OCSP served by the session's ``commune``), no worker running unless a test starts
    a heartbeat; yields (client, settings)."""
    from fastapi.testclient import TestClient

    from api.http.app import create_app

    data = DataDir(root / "service").create()
    shutil.copytree(commune.pki.directory, data.pki, dirs_exist_ok=True)
    settings = Settings(data_dir=data.root, database_url=data.database_url, **overrides)
    CACHE.clear()
    with TestClient(create_app(settings)) as client:
        yield client, settings
    CACHE.clear()


def parts(answer: Any) -> set[str]:
    return {r["part"] for r in answer.json()["reasons"]}


def test_without_a_worker_the_instance_is_degraded_and_says_why(
        commune: DemoCommune, tmp_path: Path) -> None:
    with health_client(commune, tmp_path) as (client, _):
        answer = client.get("/api/v1/health")
        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == "degraded" and parts(answer) == {"worker"}
        reason = body["reasons"][0]
        assert "không có máy xử lý nền" in reason["vi"] and "no background worker" in reason["en"]
        assert body["database"]["ok"] and body["broker"]["ok"]
        assert body["tsa"]["ok"] and all(o["ok"] for o in body["ocsp"]) and body["ocsp"]
        assert client.get("/api/v1/health?strict=true").status_code == 503


def test_a_live_worker_makes_it_ok_and_a_stopped_one_degraded_again(
        commune: DemoCommune, tmp_path: Path) -> None:
    with health_client(commune, tmp_path) as (client, settings):
        beat = Heartbeat(settings, "celery@test", ["default", "token.ubnd"], interval=0.2)
        beat.beat_once()
        answer = client.get("/api/v1/health?strict=true")
        assert answer.status_code == 200, answer.json()
        body = answer.json()
        assert body["status"] == "ok" and body["reasons"] == []
        assert body["worker"]["alive"] == 1
        assert body["worker"]["queues"] == ["default", "token.ubnd"]
        beat.start()
        beat.stop()  # a clean stop takes its row away
        assert client.get("/api/v1/health").json()["worker"]["alive"] == 0


def test_an_unreachable_tsa_is_a_reason(commune: DemoCommune, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{dead_port()}/tsa"
    with health_client(commune, tmp_path, tsa_url=url) as (client, settings):
        Heartbeat(settings, "celery@test", ["default"]).beat_once()
        answer = client.get("/api/v1/health")
        assert answer.status_code == 200 and parts(answer) == {"tsa"}
        body = answer.json()
        assert not body["tsa"]["ok"] and body["tsa"]["url"] == url
        assert "dấu thời gian" in body["reasons"][0]["vi"]


@pytest.mark.parametrize("broker", ["redis-dead", "redis"])
def test_the_broker_is_checked_for_real(commune: DemoCommune, tmp_path: Path,
                                        broker: str) -> None:
    if broker == "redis" and not redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    url = REDIS if broker == "redis" else f"redis://127.0.0.1:{dead_port()}/0"
    with health_client(commune, tmp_path, broker_url=url) as (client, settings):
        Heartbeat(settings, "celery@test", ["default"]).beat_once()
        answer = client.get("/api/v1/health")
        assert answer.status_code == 200
        if broker == "redis":
            assert answer.json()["status"] == "ok", answer.json()
        else:
            assert parts(answer) == {"broker"} and not answer.json()["broker"]["ok"]


def test_old_queued_work_and_work_waiting_for_a_service_are_reasons(
        commune: DemoCommune, tmp_path: Path) -> None:
    with health_client(commune, tmp_path) as (client, settings):
        from api.database import open_database_url

        Heartbeat(settings, "celery@test", ["default"]).beat_once()
        sessions = open_database_url(settings)
        long_ago = utc_now() - timedelta(seconds=QUEUE_AGE_LIMIT + 60)
        with sessions() as session, session.begin():
            record_enqueued(session, "t-old", "kyso.issue", ["d", 1], now=long_ago)
            waiting = record_enqueued(session, "t-wait", "kyso.issue", ["e", 1])
            waiting.state = TaskState.WAITING_SERVICE
        body = client.get("/api/v1/health").json()
        assert body["status"] == "degraded"
        assert body["queue"]["queued"] == 1 and body["queue"]["waiting_for_service"] == 1
        assert body["queue"]["oldest_queued_seconds"] >= QUEUE_AGE_LIMIT + 60
        texts = " ".join(r["en"] for r in body["reasons"])
        assert "oldest queued task" in texts and "wait for a service" in texts


@pytest.mark.slow
def test_kyso_serve_reports_its_worker_and_everything_ok(tmp_path: Path) -> None:
    """The worker `kyso serve` starts writes its heartbeat, with the queues it consumes;
    once it is up the whole instance answers ok, strict included."""
    import time

    import httpx

    from .service_support import embedded_service

    with embedded_service(tmp_path) as service:
        deadline = time.monotonic() + 90
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            answer = httpx.get(f"{service.url}/api/v1/health?strict=true", timeout=10)
            body = answer.json()
            if answer.status_code == 200:
                break
            time.sleep(0.3)
        assert body["status"] == "ok", body
        assert body["worker"]["alive"] == 1 and "default" in body["worker"]["queues"]
        assert "token.ubnd" in body["worker"]["queues"]
        assert body["tsa"]["ok"] and body["ocsp"] and body["broker"]["ok"]
