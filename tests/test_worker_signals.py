"""The worker program's Celery signals act for its own app only. Celery's signals are
process-wide: once ``api.worker.app`` is imported (a tool walking the packages, a test
session), another app's worker starting in the same process must not be handed the
environment's runtime, nor start a heartbeat for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from sqlalchemy.orm import sessionmaker

import api.worker.app as worker_program
from api.worker import tasks
from documents import FileStore, Runtime, Signing


@pytest.fixture
def given(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime this process was configured with, put back as it was afterwards."""
    before = list(tasks._runtime)
    runtime = Runtime(sessions=sessionmaker(), store=FileStore(tmp_path / "files"),
                      signer_for=lambda name: pytest.fail(f"nothing signs here ({name})"),
                      signing=Signing(tsa_url=None), seal_for=lambda d: b"",
                      signature_image_for=lambda p: b"")
    tasks.configure(runtime)
    yield runtime
    tasks._runtime[:] = before


def test_another_apps_worker_keeps_the_runtime_this_process_was_given(
        given: Runtime) -> None:
    other = Celery("another-program", broker="memory://", backend="cache+memory://")
    with start_worker(other, pool="solo", concurrency=1, perform_ping_check=False,
                      loglevel="WARNING"):
        assert tasks.current() is given
        assert worker_program._heartbeat == []
    assert tasks.current() is given


def test_the_worker_programs_own_app_is_recognised() -> None:
    class Started:
        app = worker_program.celery_app

    class Elsewhere:
        app = Celery("another-program", broker="memory://")

    assert worker_program._ours(Started())
    assert not worker_program._ours(Elsewhere())
