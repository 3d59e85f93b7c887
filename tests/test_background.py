"""Nothing stays stuck (issue 17): the ledger of background work and its reconciliation
(documents/background.py) on real SQLite and PostgreSQL — a task lost by its worker or
its broker is sent again under its own id, one that keeps killing workers or waits too
long is given up with a reason, one waiting for a service shows it on its document and
resumes; each case is an audit event and a notice to the person waiting."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import (
    AuditEvent,
    BackgroundTask,
    Document,
    DocumentStatus,
    TaskState,
    reconcile,
    record_enqueued,
    task_done,
    task_started,
    task_waiting,
    utc_now,
)
from documents.queue import Notification, NotificationKind

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    commune_fixture,
    db_fixture,
    new_document,
    postgres_url_fixture,
    sqlite_template_fixture,
)

ISSUE = "kyso.issue"


def background_events(session: Session, document_id: str) -> list[dict[str, Any]]:
    return [json.loads(e.details) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == document_id)
        .order_by(AuditEvent.seq)) if "background" in json.loads(e.details)]


def notices(session: Session, person_id: int) -> list[Notification]:
    return list(session.scalars(select(Notification).where(
        Notification.person_id == person_id).order_by(Notification.id)))


def signed_document(session: Session, commune: Commune) -> Document:
    document = new_document(session, commune)
    document.status = DocumentStatus.SIGNED
    session.flush()
    return document


def enqueue(session: Session, commune: Commune, document: Document, task_id: str,
            **kwargs: Any) -> BackgroundTask:
    from documents import AuditAction

    return record_enqueued(session, task_id, ISSUE, [document.id, 1, ""], queue="token.ubnd",
                           document_id=document.id, person_id=commune.people["chu-tich"],
                           act=AuditAction.ISSUE, **kwargs)


def test_a_task_whose_worker_died_is_sent_again_under_its_own_id(db: Database,
                                                                  commune: Commune) -> None:
    now = utc_now()
    with db.Session() as session, session.begin():
        document = signed_document(session, commune)
        document_id = document.id
        enqueue(session, commune, document, "lost", now=now - timedelta(minutes=10))
        task_started(session, "lost", now=now - timedelta(minutes=9))
        enqueue(session, commune, document, "busy", now=now - timedelta(seconds=30))
        task_started(session, "busy", now=now - timedelta(seconds=20))
    with db.Session() as session, session.begin():
        outcome = reconcile(session, now=now)
        assert [r.id for r in outcome.resend] == ["lost"] and outcome.failed == []
        lost = session.get_one(BackgroundTask, "lost")
        assert (lost.state, lost.resent, lost.sent_at) == (TaskState.QUEUED, 1, now)
        assert lost.arguments == [document_id, 1, ""] and lost.queue == "token.ubnd"
        assert session.get_one(BackgroundTask, "busy").state is TaskState.RUNNING
    with db.Session() as session:
        [event] = background_events(session, document_id)
        assert event["background"] == "resent" and event["why"] == "worker_lost"
        assert event["task_id"] == "lost" and event["attempts"] == 1
        [notice] = notices(session, commune.people["chu-tich"])
        assert notice.kind is NotificationKind.WORK_DELAYED
        assert "không ký hay cấp số hai lần" in notice.text
    with db.Session() as session, session.begin():  # nothing new: nothing done again
        assert reconcile(session, now=now + timedelta(seconds=1)).resend == []


def test_work_the_broker_lost_or_never_took_is_sent(db: Database, commune: Commune) -> None:
    now = utc_now()
    with db.Session() as session, session.begin():
        document = signed_document(session, commune)
        document_id = document.id
        enqueue(session, commune, document, "unsent", now=now).sent_at = None
        enqueue(session, commune, document, "fresh", now=now - timedelta(minutes=1))
        enqueue(session, commune, document, "dropped", now=now - timedelta(minutes=20))
    with db.Session() as session, session.begin():
        outcome = reconcile(session, now=now)
        assert sorted(r.id for r in outcome.resend) == ["dropped", "unsent"]
        whys = {e["task_id"]: e["why"] for e in background_events(session, document_id)}
        assert whys == {"unsent": "never_sent", "dropped": "lost_in_broker"}
    with db.Session() as session:
        texts = sorted(n.text for n in notices(session, commune.people["chu-tich"]))
        assert len(texts) == 2 and all("gửi lại tự động" in n for n in texts)
        assert "bị mất trong hàng đợi" in texts[0] + texts[1]
        assert "chưa nhận việc" in texts[0] + texts[1]
    # the broker still away: each task is sent again on the next runs, its person told
    # once per task ("fresh" is lost for the first time 20 minutes on)
    for minutes, told in ((20, 3), (40, 3)):
        with db.Session() as session, session.begin():
            later = now + timedelta(minutes=minutes)
            assert sorted(r.id for r in reconcile(session, now=later).resend) == [
                "dropped", "fresh", "unsent"]
        with db.Session() as session:
            assert len(notices(session, commune.people["chu-tich"])) == told


def test_a_task_that_keeps_killing_workers_is_given_up_and_the_person_told(
        db: Database, commune: Commune) -> None:
    now = utc_now()
    with db.Session() as session, session.begin():
        document = signed_document(session, commune)
        document_id = document.id
        row = enqueue(session, commune, document, "poison", now=now - timedelta(hours=1))
        for _ in range(3):
            task_started(session, "poison", now=now - timedelta(minutes=30))
        assert row.attempts == 3
    with db.Session() as session, session.begin():
        outcome = reconcile(session, now=now)
        assert outcome.resend == [] and [r.id for r, _ in outcome.failed] == ["poison"]
    with db.Session() as session:
        row = session.get_one(BackgroundTask, "poison")
        assert row.state is TaskState.FAILED and "3 times" in (row.problem or "")
        document = session.get_one(Document, document_id)
        assert document.status is DocumentStatus.SIGNED  # nothing half-done
        assert "đã dừng 3 lần" in (document.problem or "")
        [event] = background_events(session, document_id)
        assert event["background"] == "given_up" and event["failed"] is True
        [notice] = notices(session, commune.people["chu-tich"])
        assert notice.kind is NotificationKind.WORK_FAILED


def test_work_older_than_a_day_is_given_up(db: Database, commune: Commune) -> None:
    now = utc_now()
    with db.Session() as session, session.begin():
        document = signed_document(session, commune)
        enqueue(session, commune, document, "ancient", now=now - timedelta(hours=25))
    with db.Session() as session, session.begin():
        outcome = reconcile(session, now=now)
        assert [r.id for r, _ in outcome.failed] == ["ancient"]
        assert "after 24 h" in outcome.failed[0][1]


def test_work_waiting_for_a_service_says_so_once_and_resumes(db: Database,
                                                              commune: Commune) -> None:
    now = utc_now()
    reason = "máy chủ dấu thời gian không trả lời / the timestamp server does not answer"
    with db.Session() as session, session.begin():
        document = signed_document(session, commune)
        document_id = document.id
        enqueue(session, commune, document, "tsa", now=now)
        task_started(session, "tsa", now=now)
        task_waiting(session, "tsa", reason, service="tsa", now=now)
        task_started(session, "tsa", now=now)  # Celery's own retry, failing again
        task_waiting(session, "tsa", reason, service="tsa", now=now)
    with db.Session() as session:
        row = session.get_one(BackgroundTask, "tsa")
        assert row.state is TaskState.WAITING_SERVICE and row.next_try_at is not None
        problem = session.get_one(Document, document_id).problem or ""
        assert problem.startswith("Đang chờ dịch vụ") and "resumes by itself" in problem
        assert [e["background"] for e in background_events(session, document_id)] == [
            "waiting_for_service"]  # once per outage, not once per retry
        [notice] = notices(session, commune.people["chu-tich"])
        assert notice.kind is NotificationKind.WORK_DELAYED and "(tsa)" in notice.text
        due = row.next_try_at
    with db.Session() as session, session.begin():
        assert reconcile(session, now=due - timedelta(seconds=1)).resend == []
        outcome = reconcile(session, now=due)
        assert [r.id for r in outcome.resend] == ["tsa"]
        later = session.get_one(BackgroundTask, "tsa").next_try_at
        assert later is not None and later - due == timedelta(seconds=40)  # backing off
    with db.Session() as session, session.begin():
        task_started(session, "tsa")
        task_done(session, "tsa")
    with db.Session() as session:
        row = session.get_one(BackgroundTask, "tsa")
        assert row.state is TaskState.DONE and row.problem is None
        assert session.get_one(Document, document_id).problem is None
        assert [e["background"] for e in background_events(session, document_id)] == [
            "waiting_for_service", "resent", "resumed"]
