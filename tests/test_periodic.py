"""The periodic jobs are scheduled in the Celery wiring and run against the database:
certificate expiry notices, overdue reminders, forgetting old login attempts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.worker import periodic
from api.worker import tasks as document_tasks
from api.worker.runtime import make_celery
from documents import (
    FileStore,
    LoginAttempt,
    Runtime,
    Signing,
    create_engine_for,
    session_factory,
    upgrade_database,
)
from documents.sqltypes import utc_now


def test_the_beat_schedules_every_periodic_job(tmp_path: Path) -> None:
    app = make_celery(Settings(data_dir=tmp_path))
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {periodic.NOTIFY_EXPIRING, periodic.NOTIFY_OVERDUE,
            periodic.FORGET_LOGIN_ATTEMPTS} <= scheduled
    app.loader.import_default_modules()
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


def test_the_periodic_jobs_run_in_one_transaction_each(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kyso.db'}"
    upgrade_database(url)
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        session.add_all([LoginAttempt(username="a", client="127.0.0.1", success=False,
                                      at=utc_now() - timedelta(days=40)),
                         LoginAttempt(username="a", client="127.0.0.1", success=False,
                                      at=utc_now())])
    saved = list(document_tasks._runtime)

    def unused(*_: Any) -> Any:
        raise AssertionError("no signature here")

    document_tasks.configure(Runtime(
        sessions=sessions, store=FileStore(tmp_path / "files"), signer_for=unused,
        signing=Signing(), seal_for=unused, signature_image_for=unused))
    try:
        assert periodic.forget_old_login_attempts() == 1
        assert periodic.forget_old_login_attempts() == 0
        assert periodic.notify_expiring_certificates() == 0
        assert periodic.remind_overdue() == 0
    finally:
        document_tasks._runtime[:] = saved
        engine.dispose()
