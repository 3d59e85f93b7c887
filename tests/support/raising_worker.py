"""A Celery application whose one task raises the Kyso error it is named: run by a real
worker in tests/test_error_tree.py, to see what arrives on the other side."""

from __future__ import annotations

import importlib
import os

from celery import Celery
from kombu.transport import sqlalchemy as sqla_transport

from .error_classes import example

app = Celery("kyso-errors", broker=os.environ["KYSO_ERRORS_BROKER"],
             backend=os.environ["KYSO_ERRORS_BACKEND"])
app.conf.update(task_default_queue="default", broker_connection_retry_on_startup=True)
sqla_transport.Transport.polling_interval = 0.1


@app.task(name="raise_error")  # type: ignore[untyped-decorator]
def raise_error(module: str, name: str) -> None:
    raise example(getattr(importlib.import_module(module), name))
