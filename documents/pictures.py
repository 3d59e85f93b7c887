"""The pictures a body's signatures show: its seal, and each signer's handwritten signature.

An administrator uploads them (checked by :func:`signer.check_seal` /
:func:`signer.check_signature`: PNG, transparent, red or blue, sharp enough, trimmed).
Every upload is a new version and a ``ADMIN_CHANGE`` audit event
(``object_type="picture"``); nothing is overwritten, so the trail shows which picture
was in use when. The latest version is the one stamped; :func:`seal_of` refuses a body
that has none (it cannot issue until its administrator uploads one). Nothing here
commits.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from signer import CheckedImage, ImageKind

from .audit import AuditAction, record
from .errors import SealPictureMissing, SignaturePictureMissing
from .models import Base, Document, Organisation, Person
from .sqltypes import Nfc, UtcDateTime, utc_now

__all__ = ["Picture", "PictureKind", "add_picture", "pictures_of", "seal_image_for", "seal_of",
           "signature_image_for", "signature_of"]


class PictureKind(enum.Enum):
    SEAL = "seal"
    SIGNATURE = "signature"


class Picture(Base):
    """One uploaded version of a body's seal or a person's signature picture."""

    __tablename__ = "picture"
    __table_args__ = (
        CheckConstraint("(kind = 'SEAL' AND body_id IS NOT NULL AND person_id IS NULL) OR "
                        "(kind = 'SIGNATURE' AND person_id IS NOT NULL AND body_id IS NULL)",
                        name="owner_matches_kind"),
        Index("ix_picture_owner", "kind", "body_id", "person_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PictureKind] = mapped_column(Enum(PictureKind, native_enum=False, length=16))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    #: the checked, trimmed palette PNG that is stamped
    png: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    #: the printed width (a seal's diameter)
    width_mm: Mapped[float] = mapped_column(Float)
    uploaded_by: Mapped[str] = mapped_column(Nfc(200))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)

    def __repr__(self) -> str:
        owner = f"body {self.body_id}" if self.body_id else f"person {self.person_id}"
        return f"<Picture {self.id} {self.kind.value} {owner} {self.sha256[:12]}>"


def add_picture(session: Session, checked: CheckedImage, *, actor: str,
                body: Organisation | None = None, person: Person | None = None) -> Picture:
    """Keep a checked picture as the newest version of ``body``'s seal or ``person``'s
    signature, with its audit event."""
    kind = PictureKind.SEAL if checked.kind is ImageKind.SEAL else PictureKind.SIGNATURE
    if (kind is PictureKind.SEAL) != (body is not None) or (body is None) == (person is None):
        raise ValueError("a seal belongs to a body, a signature to a person")
    picture = Picture(kind=kind, body_id=body.id if body else None,
                      person_id=person.id if person else None, png=checked.png,
                      sha256=hashlib.sha256(checked.png).hexdigest(), width_px=checked.width_px,
                      height_px=checked.height_px, width_mm=checked.width_mm, uploaded_by=actor)
    session.add(picture)
    session.flush()
    owner_body = body.id if body else (person.body_id if person else None)
    record(session, AuditAction.ADMIN_CHANGE, actor=actor, body_id=owner_body,
           object_type="picture", object_id=picture.id,
           details={"kind": kind.value, "sha256": picture.sha256, "person_id": picture.person_id,
                    "width_px": picture.width_px, "height_px": picture.height_px,
                    "width_mm": picture.width_mm})
    return picture


def pictures_of(session: Session, *, body: Organisation | None = None,
                person: Person | None = None) -> list[Picture]:
    """Every version, newest first."""
    query = select(Picture).order_by(Picture.id.desc())
    if body is not None:
        query = query.where(Picture.kind == PictureKind.SEAL, Picture.body_id == body.id)
    elif person is not None:
        query = query.where(Picture.kind == PictureKind.SIGNATURE, Picture.person_id == person.id)
    else:
        raise ValueError("pictures of a body or of a person")
    return list(session.scalars(query))


def seal_of(session: Session, body: Organisation) -> Picture:
    """The seal picture the body stamps now; refused when it has none."""
    latest = session.scalars(select(Picture).where(
        Picture.kind == PictureKind.SEAL, Picture.body_id == body.id)
        .order_by(Picture.id.desc()).limit(1)).first()
    if latest is None:
        raise SealPictureMissing(body.name)
    return latest


def signature_of(session: Session, person: Person) -> Picture | None:
    """The person's signature picture now, or None (the stamp then shows text only)."""
    return session.scalars(select(Picture).where(
        Picture.kind == PictureKind.SIGNATURE, Picture.person_id == person.id)
        .order_by(Picture.id.desc()).limit(1)).first()


def _session_of(row: Document | Person) -> Session:
    session = object_session(row)
    if session is None:
        raise ValueError(f"{row!r} is not in a session")
    return session


def seal_image_for(document: Document) -> bytes:
    """The PNG the organisation signature of ``document`` stamps: its body's current seal
    picture, read in the session the document was loaded in (what the worker's issuing
    task hands :func:`~documents.issue`)."""
    return seal_of(_session_of(document), document.body).png


def signature_image_for(person: Person) -> bytes:
    """The PNG ``person``'s approval stamps: their current signature picture; refused
    (:class:`SignaturePictureMissing`) when they have none."""
    picture = signature_of(_session_of(person), person)
    if picture is None:
        raise SignaturePictureMissing(person.full_name)
    return picture.png
