"""What ``/api/v1/health`` reports: whether this instance can do its work now.

Each part is checked for real, with a short timeout: the database (``SELECT 1``), the
broker (a connection), the workers (their heartbeats in the database,
:func:`documents.live_workers`: the embedded worker runs ``--without-heartbeat`` and no
Celery event crosses the SQLite broker, so a row each worker writes is what works on every
broker), the background work (the oldest task still waiting for a worker, the tasks waiting
for a service: :mod:`documents.background`), the timestamp server (a real RFC 3161
request) and the OCSP responders of the organisation certificates in use (an HTTP answer of
any status). Network answers are kept :data:`CACHE_SECONDS` per process, so a load
balancer polling every second costs one probe per few seconds.

The rule (docs/operations.md, "Health"): ``down`` and HTTP 503 when the database does not
answer (this process can serve nothing); ``degraded`` with reasons in Vietnamese and
English when anything else is missing, HTTP 200 (the API still serves reads and takes work,
which waits) — or 503 with ``?strict=true``, for a monitor that should page someone;
``ok`` and 200 otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from asn1crypto import x509
from kombu.exceptions import KombuError
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from documents import (
    HEARTBEAT_STALE,
    OrganisationKey,
    SignerCertificate,
    TaskState,
    count_by_state,
    last_heartbeat,
    live_workers,
    oldest_queued,
    utc_now,
)

from .settings import Settings

__all__ = ["CACHE_SECONDS", "QUEUE_AGE_LIMIT", "TIMEOUT", "Health", "health_report"]

#: seconds each network probe may take
TIMEOUT = 2.0
#: seconds a probe's answer is kept
CACHE_SECONDS = 5.0
#: seconds the oldest queued task may wait for a worker before the instance is degraded
QUEUE_AGE_LIMIT = 300.0


@dataclass
class Health:
    status: str = "ok"
    reasons: list[dict[str, str]] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)

    def missing(self, part: str, vi: str, en: str) -> None:
        self.reasons.append({"part": part, "vi": vi, "en": en})
        if self.status == "ok":
            self.status = "degraded"

    def json(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": self.reasons, **self.parts}


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, probe: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            kept = self._values.get(key)
        if kept is not None and now - kept[0] < CACHE_SECONDS:
            return kept[1]
        value = probe()
        with self._lock:
            self._values[key] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


CACHE = _Cache()


def _broker(celery: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                   timeout=TIMEOUT)
    except (KombuError, OSError, SQLAlchemyError) as exc:  # kombu maps the transport's own
        return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000)}


def _tsa(url: str) -> dict[str, Any]:
    from pyhanko.sign.timestamps import TimestampRequestError

    from signer import probe_tsa

    started = time.monotonic()
    try:
        probe_tsa(url, b"kyso health", TIMEOUT)
    except (TimestampRequestError, OSError, ValueError, TimeoutError) as exc:
        return {"ok": False, "url": url, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "url": url, "ms": round((time.monotonic() - started) * 1000)}


def _ocsp(url: str) -> dict[str, Any]:
    """Reachable when the responder answers HTTP at all (a GET without a request gets a
    4xx or an OCSP error response: the service is there; nothing for it to log)."""
    started = time.monotonic()
    try:
        httpx.get(url, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return {"ok": False, "url": url, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "url": url, "ms": round((time.monotonic() - started) * 1000)}


def ocsp_urls(session: Session, settings: Settings) -> list[str]:
    """The OCSP responders of the organisation certificates on file (and the demo's)."""
    urls: list[str] = []
    rows = session.scalars(select(SignerCertificate.der).join(
        OrganisationKey, OrganisationKey.certificate_sha256 == SignerCertificate.sha256))
    for der in rows:
        for url in x509.Certificate.load(der).ocsp_urls:
            if url not in urls:
                urls.append(url)
    pki = settings.data.demo_pki()
    if pki is not None and pki.ocsp_url not in urls:
        urls.append(pki.ocsp_url)
    return urls[:5]


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 1)


def _work(session: Session, report: Health, now: datetime) -> None:
    workers = live_workers(session, now=now)
    consumed = {q for w in workers for q in w.queues.split(",") if q}
    report.parts["worker"] = {
        "ok": bool(workers), "alive": len(workers),
        "queues": sorted(consumed),
        "last_seen_seconds": _seconds_since(last_heartbeat(session), now)}
    if not workers:
        report.missing("worker",
                       "không có máy xử lý nền nào hoạt động (không nhận được tín hiệu trong "
                       f"{int(HEARTBEAT_STALE.total_seconds())} giây): ký, cấp số, ban hành "
                       "đang chờ",
                       "no background worker alive (no heartbeat for "
                       f"{int(HEARTBEAT_STALE.total_seconds())} s): signing, numbering and "
                       "issuing wait")
    counts = count_by_state(session)
    oldest = _seconds_since(oldest_queued(session), now)
    waiting = counts.get(TaskState.WAITING_SERVICE, 0)
    report.parts["queue"] = {
        "queued": counts.get(TaskState.QUEUED, 0), "running": counts.get(TaskState.RUNNING, 0),
        "waiting_for_service": waiting, "oldest_queued_seconds": oldest}
    if oldest is not None and oldest > QUEUE_AGE_LIMIT:
        report.missing("queue", f"việc nền chờ máy xử lý đã {int(oldest)} giây",
                       f"the oldest queued task has waited {int(oldest)} s for a worker")
    if waiting:
        report.missing("queue", f"{waiting} việc nền đang chờ dịch vụ (TSA, thiết bị ký…) và "
                       "sẽ tự tiếp tục", f"{waiting} background tasks wait for a service "
                       "(TSA, token…) and resume by themselves")


def _tsa_probe(url: str) -> Callable[[], dict[str, Any]]:
    return lambda: _tsa(url)


def _ocsp_probe(url: str) -> Callable[[], dict[str, Any]]:
    return lambda: _ocsp(url)


def health_report(session: Session, settings: Settings, celery: Any) -> Health:
    """The whole report; never raises for a part that is away (that part says so)."""
    report = Health(parts={"profile": settings.profile})
    now = utc_now()
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        report.status = "down"
        report.parts["database"] = {"ok": False, "detail": type(exc).__name__}
        report.reasons.append({"part": "database", "vi": "cơ sở dữ liệu không trả lời",
                               "en": "the database does not answer"})
        return report
    report.parts["database"] = {"ok": True}
    try:
        _work(session, report, now)
        urls = ocsp_urls(session, settings)
    except SQLAlchemyError:  # an instance whose schema predates the ledger: say so
        report.missing("database", "lược đồ cơ sở dữ liệu cũ: chạy kyso db upgrade",
                       "old database schema: run kyso db upgrade")
        urls = []
    pki = settings.data.demo_pki()
    tsa_url = settings.tsa_url or (pki.tsa_url if pki else None)
    with ThreadPoolExecutor(max_workers=2 + len(urls)) as pool:
        broker = pool.submit(CACHE.get, f"broker:{settings.broker}", lambda: _broker(celery))
        tsa = pool.submit(CACHE.get, f"tsa:{tsa_url}", _tsa_probe(tsa_url)) \
            if tsa_url else None
        ocsp = [pool.submit(CACHE.get, f"ocsp:{u}", _ocsp_probe(u)) for u in urls]
        report.parts["broker"] = broker.result()
        report.parts["tsa"] = tsa.result() if tsa else {"ok": None, "detail": "not configured"}
        report.parts["ocsp"] = [o.result() for o in ocsp]
    if not report.parts["broker"]["ok"]:
        report.missing("broker", "không kết nối được hàng đợi (broker): việc mới được ghi lại "
                       "và gửi khi nó hoạt động lại", "the broker is unreachable: new work is "
                       "kept and sent once it is back")
    if tsa is not None and not report.parts["tsa"]["ok"]:
        report.missing("tsa", f"máy chủ dấu thời gian {tsa_url} không trả lời: việc ký chờ",
                       f"the timestamp server {tsa_url} does not answer: signing waits")
    for answer in report.parts["ocsp"]:
        if not answer["ok"]:
            report.missing("ocsp", f"dịch vụ OCSP {answer['url']} không trả lời",
                           f"the OCSP responder {answer['url']} does not answer")
    return report
