"""Trust at start-up: the base store every body shares, and the import of the old,
global trust folder into the database as province-wide anchors.

Older versions kept administrators' CAs as files under the data directory's ``trust/``
and trusted them for every body. Each process that opens the database (the API, a
worker, ``kyso verify``) imports the files still there as **province-wide** anchors
(:func:`documents.import_legacy_anchors`: that is what they were — trusted for every
body — and only a province administrator may narrow or remove them), audited as done
by the system, then moves them to ``trust/imported/``. It is done at start and not in
the Alembic migration because a migration sees only the database, not the data
directory (and in the scale-out profile each host has its own). A certificate the
database has ever held, removed ones included, is never imported again.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from certs import Origin, TrustStore, load_certificates
from common import KysoError
from documents import PROVINCE, import_legacy_anchors

from .datadir import DataDir

log = logging.getLogger(__name__)

#: Who the audit trail says imported the old trust folder.
IMPORT_ACTOR = "hệ thống (nâng cấp)"


def import_trust_folder(data: DataDir, sessions: sessionmaker[Session]) -> int:
    """Import the trust folder's remaining files as province-wide anchors; how many new."""
    files = []
    for path in data.legacy_trust_files():
        with contextlib.suppress(FileNotFoundError):  # another process moved it already
            files.append((path, path.read_bytes()))
    if not files:
        return 0
    with sessions() as session, session.begin():
        imported = import_legacy_anchors(session, [(p.name, b) for p, b in files],
                                         actor=IMPORT_ACTOR, base=data.trust_store())
        subjects = [anchor.subject for anchor in imported]
    done = data.trust / "imported"
    done.mkdir(exist_ok=True)
    for path, _ in files:
        target = _free(done / path.name)
        with contextlib.suppress(FileNotFoundError):
            path.rename(target)
    for subject in subjects:
        log.warning("trust folder: %s imported as a province-wide trust anchor", subject)
    return len(subjects)


def _free(path: Path) -> Path:
    n = 2
    target = path
    while target.exists():
        target = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return target


def base_trust(data: DataDir, sessions: sessionmaker[Session]) -> TrustStore:
    """The store every body shares, after importing the old trust folder."""
    import_trust_folder(data, sessions)
    return data.trust_store()


def operator_trust(data: DataDir, body: str | None = None) -> TrustStore:
    """What ``kyso verify`` trusts: bundled + demo + province-wide anchors, and with
    ``body`` (an issuing body's id or exact name) that body's own anchors too.

    The command is an operator's tool on the instance's host: it reads the instance's
    database (``KYSO_DATABASE_URL`` or the data directory's SQLite file). Without a
    database yet, the old trust folder's files count as province-wide, as the service
    will import them.
    """
    from sqlalchemy import make_url, select

    from documents import Organisation, trust_for

    from .database import open_database

    url = make_url(data.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        if body is not None:
            raise KysoError(f"chưa có cơ sở dữ liệu nên chưa có cơ quan {body}",
                            f"there is no database yet, so no body {body}")
        store = data.trust_store()
        for path in data.legacy_trust_files():
            for cert in load_certificates(path.read_bytes(), str(path)):
                store.add(cert, Origin.ADMIN, PROVINCE)
        return store
    sessions = open_database(data)
    base = base_trust(data, sessions)
    with sessions() as session:
        body_ids: list[int] = []
        if body is not None:
            query = select(Organisation.id)
            query = query.where(Organisation.id == int(body)) if body.isdigit() \
                else query.where(Organisation.name == body)
            found = session.scalar(query)
            if found is None:
                raise KysoError(f"không có cơ quan ban hành {body}", f"no issuing body {body}")
            body_ids = [found]
        store = trust_for(session, base, body_ids)
    return store


def store_entries(store: TrustStore) -> list[tuple[bytes, str, str]]:
    """``store`` as picklable (DER, origin, source) triples, for another process."""
    return [(e.cert.dump(), e.origin.value, e.source) for e in store]


def store_from_entries(entries: list[tuple[bytes, str, str]]) -> TrustStore:
    from asn1crypto import x509

    store = TrustStore()
    for der, origin, source in entries:
        store.add(x509.Certificate.load(der), Origin(origin), source)
    return store
