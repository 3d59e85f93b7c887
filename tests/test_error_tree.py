"""The exception tree: each error class declares what kind of failure it is, the HTTP
status follows from that alone, and every error crosses a Celery worker intact."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from api.http.errors import STATUS, kyso_error_handler, status_for
from common import Category, KysoError
from signer import TimestampUnavailable
from tokens import TokenRemoved, WrongPin

from .support.error_classes import draw_tree, error_classes, example, tree_names

CLASSES = error_classes()
ROOT = Path(__file__).resolve().parents[1]


def test_the_walk_finds_the_whole_tree() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"KysoError", "WrongPin", "TimestampUnavailable", "NotFound", "WrongStep",
            "PdfTruncated"} <= names
    assert len(CLASSES) > 90


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_error_class_declares_its_category(cls: type[KysoError]) -> None:
    assert "category" in vars(cls), f"{cls.__qualname__} must say which kind of failure it is"
    assert isinstance(cls.category, Category) and cls.category in STATUS


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_error_survives_pickling(cls: type[KysoError]) -> None:
    error = example(cls)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls and (again.vi, again.en) == (error.vi, error.en)
    assert vars(again) == vars(error)


def _answer(error: KysoError) -> tuple[int, dict[str, str], dict[str, object]]:
    response = asyncio.run(kyso_error_handler(None, error))  # type: ignore[arg-type]
    return response.status_code, dict(response.headers), json.loads(bytes(response.body))


def test_a_timestamp_server_outage_is_503_with_retry_after() -> None:
    status, headers, body = _answer(TimestampUnavailable("http://127.0.0.1:9/tsa"))
    assert status == 503 and int(headers["retry-after"]) > 0
    assert body["error"]["type"] == "TimestampUnavailable"  # type: ignore[index]


def test_statuses_follow_the_category_not_the_class_name() -> None:
    assert status_for(WrongPin()) == 422  # a token error, but the user's input was wrong
    assert status_for(TokenRemoved()) == 503

    class Mislabelled(TimestampUnavailable):  # a name that matched nothing in the old table
        category = Category.CONFLICT

    assert status_for(Mislabelled("http://tsa")) == 409


def test_bad_input_has_no_retry_after() -> None:
    status, headers, _ = _answer(WrongPin())
    assert status == 422 and "retry-after" not in headers


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Celery]:
    folder = tmp_path_factory.mktemp("errors-worker")
    env = {**os.environ, "KYSO_ERRORS_BROKER": f"sqla+sqlite:///{folder / 'broker.db'}",
           "KYSO_ERRORS_BACKEND": f"db+sqlite:///{folder / 'results.db'}",
           "PYTHONPATH": str(ROOT)}
    os.environ.update({k: env[k] for k in ("KYSO_ERRORS_BROKER", "KYSO_ERRORS_BACKEND")})
    from .support.raising_worker import app

    log = (folder / "worker.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "tests.support.raising_worker",
         "worker", "--pool=solo", "--loglevel=WARNING", "-Q", "default", "--without-gossip",
         "--without-mingle", "--without-heartbeat"], env=env, cwd=ROOT, stdout=log,
        stderr=subprocess.STDOUT)
    try:
        yield app
    finally:
        process.terminate()
        process.wait(timeout=30)
        for name in ("KYSO_ERRORS_BROKER", "KYSO_ERRORS_BACKEND"):
            os.environ.pop(name, None)


@pytest.mark.slow
def test_every_error_crosses_a_real_worker_with_its_class_and_message(worker: Celery) -> None:
    sent = [(cls, worker.send_task("raise_error", args=[cls.__module__, cls.__qualname__]))
            for cls in CLASSES]
    wrong = []
    for cls, result in sent:
        result.get(timeout=120, propagate=False)
        arrived, expected = result.result, example(cls)
        if not (type(arrived) is cls and (arrived.vi, arrived.en) == (expected.vi, expected.en)):
            wrong.append(f"{cls.__qualname__}: {arrived!r}")
    assert not wrong, wrong


ERRORS_MODULES = ["certs.errors", "tokens.errors", "signer.errors", "documents.errors",
                  "api.errors", "api.agent.errors"]


@pytest.mark.parametrize("module", ERRORS_MODULES)
def test_each_errors_module_draws_its_current_tree(module: str) -> None:
    docstring = importlib.import_module(module).__doc__ or ""
    drawn = "\n".join(line for line in docstring.splitlines() if line.startswith("    "))
    assert tree_names(drawn) == tree_names(draw_tree(KysoError, module))


def test_error_classes_live_in_errors_modules() -> None:
    assert [f"{c.__module__}.{c.__qualname__}" for c in CLASSES
            if c.__module__.rpartition(".")[2] != "errors"] == []
