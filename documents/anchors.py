"""Trust anchors added by administrators, and whose verification each one is for.

One Kyso instance may serve a whole province, so trust is scoped:

* the **base** store every body shares: the real Vietnamese roots and intermediates
  shipped with Kyso (``certs/data/trust``) and the data directory's demo PKI root —
  built by ``api`` (``DataDir.trust_store``), never stored here;
* **province-wide** anchors (``body_id`` NULL): trusted for every body; only a
  province administrator (:attr:`~documents.accounts.User.province_admin`) adds or
  removes one;
* a **body's** anchors: added by that body's administrator, trusted only when
  verifying *for that body* — its auditors' checks, its public page, the validation
  contexts of its own signing (B-LT embedding, archive renewal) — and never for
  another body.

Anchors live in the database (PEM, SHA-256, scope, who added it and when), so every
API process and worker sees the same trust; a removed anchor keeps its row
(``removed_at``, ``removed_by``) so the trail of what was trusted when is kept, and
:func:`import_legacy_anchors` never brings back a certificate that was removed.
Every addition and removal is an ``ADMIN_CHANGE`` audit event with
``object_type="trust_anchor"``. Nothing here commits.

:func:`trust_for` builds the :class:`~certs.TrustStore` of one verification: the base
plus the province-wide anchors plus those of the bodies given — a fresh store each
time, so nothing cached in a process can carry one body's anchors into another
body's verification. Parsed certificates are memoised by their SHA-256 only.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import pem, x509
from sqlalchemy import Boolean, ForeignKey, Index, String, Text, and_, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from certs import CertsError, Origin, TrustStore, load_certificates

from .audit import AuditAction, record
from .errors import AnchorNotFound, ProvinceAdminOnly
from .models import Base, Organisation
from .sqltypes import Nfc, UtcDateTime, utc_now

__all__ = [
    "PROVINCE", "Scope", "TrustAnchor", "add_anchor", "anchors_visible_to", "import_legacy_anchors",
    "remove_anchor", "scope_of", "trust_for",
]

#: The scope name of a province-wide anchor (``body_id`` NULL).
PROVINCE = "province"


class TrustAnchor(Base):
    """A CA certificate an administrator trusts: province-wide, or for one body."""

    __tablename__ = "trust_anchor"
    __table_args__ = (
        # one active row per certificate and scope; removed rows stay as history
        Index("ix_trust_anchor_body_active", "sha256", "body_id", unique=True,
              sqlite_where=text("removed_at IS NULL AND body_id IS NOT NULL"),
              postgresql_where=text("removed_at IS NULL AND body_id IS NOT NULL")),
        Index("ix_trust_anchor_province_active", "sha256", unique=True,
              sqlite_where=text("removed_at IS NULL AND body_id IS NULL"),
              postgresql_where=text("removed_at IS NULL AND body_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-case hex SHA-256 of the certificate's DER.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(Nfc(1000))
    pem: Mapped[str] = mapped_column(Text)
    #: None: province-wide (trusted for every body); else the body it is trusted for.
    body_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: Whether the certificate is self-signed (an anchor) or only helps build paths.
    root: Mapped[bool] = mapped_column(Boolean)
    added_by: Mapped[str] = mapped_column(Nfc(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    removed_by: Mapped[str | None] = mapped_column(Nfc(64))
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    body: Mapped[Organisation | None] = relationship()

    @property
    def province_wide(self) -> bool:
        return self.body_id is None

    def __repr__(self) -> str:
        scope = PROVINCE if self.body_id is None else f"body {self.body_id}"
        return f"<TrustAnchor {self.id} {self.sha256[:12]} {scope}>"


@dataclass(frozen=True)
class Scope:
    """Where an anchor is trusted: province-wide (``body`` None) or for one body."""

    body: Organisation | None = None


def scope_of(anchor: TrustAnchor) -> str:
    """``"province"`` or ``"body"``, as the anchor lists show it."""
    return PROVINCE if anchor.body_id is None else "body"


_parsed: dict[str, x509.Certificate] = {}
_parsed_lock = threading.Lock()


def _certificate(anchor_id: int, sha256: str, pem_text: str) -> x509.Certificate:
    """An anchor's certificate, parsed once per process (keyed by its SHA-256 only)."""
    with _parsed_lock:
        cert = _parsed.get(sha256)
    if cert is None:
        (cert,) = load_certificates(pem_text.encode("ascii"), f"trust_anchor {anchor_id}")[:1]
        if hashlib.sha256(cert.dump()).hexdigest() != sha256:
            raise ValueError(f"trust_anchor {anchor_id}: the PEM is not the certificate "
                             f"{sha256}")
        with _parsed_lock:
            _parsed[sha256] = cert
    return cert


def _scope_clause(body_ids: Iterable[int]) -> ColumnElement[bool]:
    ids = sorted(set(body_ids))
    where: ColumnElement[bool] = TrustAnchor.body_id.is_(None)
    if ids:
        where = or_(where, TrustAnchor.body_id.in_(ids))
    return and_(TrustAnchor.removed_at.is_(None), where)


def _active(session: Session, body_ids: Iterable[int]) -> list[TrustAnchor]:
    return list(session.scalars(select(TrustAnchor).where(_scope_clause(body_ids))
                                .order_by(TrustAnchor.id)))


def trust_for(session: Session, base: TrustStore, body_ids: Iterable[int] = ()) -> TrustStore:
    """A new store: ``base`` + the province-wide anchors + the anchors of ``body_ids``.

    Pass no body for an operator's view (bundled, demo and province-wide only).
    """
    store = TrustStore(list(base.entries))
    rows = session.execute(select(TrustAnchor.id, TrustAnchor.sha256, TrustAnchor.pem,
                                  TrustAnchor.body_id).where(_scope_clause(body_ids))
                           .order_by(TrustAnchor.id))
    for anchor_id, sha256, pem_text, body_id in rows:
        source = PROVINCE if body_id is None else f"body:{body_id}"
        store.add(_certificate(anchor_id, sha256, pem_text), Origin.ADMIN, source)
    return store


def anchors_visible_to(session: Session, body_ids: Iterable[int] | None) -> list[TrustAnchor]:
    """Active anchors a viewer may see: province-wide and those of ``body_ids``; every
    active anchor when ``body_ids`` is None (a province administrator)."""
    if body_ids is None:
        return list(session.scalars(select(TrustAnchor).where(
            TrustAnchor.removed_at.is_(None)).order_by(TrustAnchor.id)))
    return _active(session, body_ids)


def _details(anchor: TrustAnchor) -> dict[str, Any]:
    return {"sha256": anchor.sha256, "subject": anchor.subject, "root": anchor.root,
            "scope": scope_of(anchor), "body_id": anchor.body_id}


def add_anchor(session: Session, cert: x509.Certificate, scope: Scope, *, actor: str,
               province_admin: bool, source: str = "upload") -> tuple[TrustAnchor, bool]:
    """Trust ``cert`` in ``scope``; the row and whether it is new (audited when new).

    The caller has checked that ``actor`` administers ``scope.body``; a province-wide
    anchor needs ``province_admin`` (else :class:`ProvinceAdminOnly`). A demo CA is
    refused (:class:`certs.CertsError`). Adding an anchor already active in the same
    scope changes nothing.
    """
    if scope.body is None and not province_admin:
        raise ProvinceAdminOnly(actor)
    entry = TrustStore().add(cert, Origin.ADMIN, source)  # refuses a demo certificate
    body_id = scope.body.id if scope.body is not None else None
    found = _find_active(session, entry.sha256, body_id)
    if found is not None:
        return found, False
    anchor = TrustAnchor(sha256=entry.sha256, subject=entry.subject[:1000],
                         pem=pem.armor("CERTIFICATE", cert.dump()).decode("ascii"),
                         body_id=body_id, root=entry.is_anchor, added_by=actor)
    try:
        with session.begin_nested():  # another process adding the same one at once
            session.add(anchor)
    except IntegrityError:
        found = _find_active(session, entry.sha256, body_id)
        if found is None:
            raise
        return found, False
    record(session, AuditAction.ADMIN_CHANGE, actor=actor, body_id=body_id,
           object_type="trust_anchor", object_id=str(anchor.id),
           details={**_details(anchor), "added": True, "source": source})
    return anchor, True


def _find_active(session: Session, sha256: str, body_id: int | None) -> TrustAnchor | None:
    scope = TrustAnchor.body_id.is_(None) if body_id is None else TrustAnchor.body_id == body_id
    return session.scalar(select(TrustAnchor).where(
        TrustAnchor.sha256 == sha256, scope, TrustAnchor.removed_at.is_(None)))


def remove_anchor(session: Session, anchor_id: int, *, actor: str,
                  administered: Sequence[int], province_admin: bool) -> TrustAnchor:
    """Stop trusting an anchor (audited); its row stays, marked removed.

    A body's anchor may be removed by an administrator of that body
    (``administered``) or a province administrator; a province-wide one only by a
    province administrator (:class:`ProvinceAdminOnly`). An anchor the caller may not
    see, or already removed, is :class:`AnchorNotFound`.
    """
    anchor = session.get(TrustAnchor, anchor_id, with_for_update=True)
    visible = anchor is not None and anchor.removed_at is None and (
        province_admin or anchor.body_id is None or anchor.body_id in administered)
    if anchor is None or not visible:
        raise AnchorNotFound(anchor_id)
    if anchor.body_id is None and not province_admin:
        raise ProvinceAdminOnly(actor)
    anchor.removed_at = utc_now()
    anchor.removed_by = actor
    session.flush()
    record(session, AuditAction.ADMIN_CHANGE, actor=actor, body_id=anchor.body_id,
           object_type="trust_anchor", object_id=str(anchor.id),
           details={**_details(anchor), "removed": True})
    return anchor


def import_legacy_anchors(session: Session, files: Iterable[tuple[str, bytes]], *,
                          actor: str, base: TrustStore | None = None) -> list[TrustAnchor]:
    """Bring CA files of the old, global trust folder in as province-wide anchors.

    ``files`` is (name, PEM or DER bytes) each. A certificate the table has ever held,
    in any scope (removed ones included), is skipped: an upgrade never widens a body's
    anchor to the province, nor brings back one that was removed. Demo certificates
    are skipped (they were never accepted as admin CAs), and so are certificates
    already in ``base`` (e.g. a copy of a bundled root). Audited like an addition.
    """
    imported = []
    for name, data in files:
        for cert in load_certificates(data, name):
            digest = hashlib.sha256(cert.dump()).hexdigest()
            if (base is not None and base.find(cert) is not None) or session.scalar(
                    select(TrustAnchor.id).where(TrustAnchor.sha256 == digest).limit(1)):
                continue
            try:
                TrustStore().add(cert, Origin.ADMIN, name)
            except CertsError:  # a demo certificate in the folder: never an admin CA
                continue
            anchor, new = add_anchor(session, cert, Scope(None), actor=actor,
                                     province_admin=True, source=f"legacy:{name}")
            if new:
                imported.append(anchor)
    return imported
