"""Short verification links: one unguessable code per document, ``<public URL>/v/<code>``.

The code is made when the document is prepared (so a QR code carrying the link can be
printed on the first page before the first signature) and never changes. It is the only
key of the public verification page, which shows the register entry to anyone holding
the link: 12 characters of lower-case base32, 60 random bits from :mod:`secrets`, so
codes cannot be enumerated (the page's uploads are rate-limited too). Codes are read
case-insensitively; a document id is never put in a link.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .models import Base, Document
from .sqltypes import UtcDateTime, utc_now

#: RFC 4648 base32, lower case: no 0/1/8/9, so no O/0 or l/1 mix-ups when typed.
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
#: 12 characters × 5 bits = 60 random bits.
CODE_LENGTH = 12
#: The path of the public page under the service's public URL.
PATH_PREFIX = "/v/"

_CODE = re.compile(rf"[{ALPHABET}]{{{CODE_LENGTH}}}")
_IN_URL = re.compile(rf"/v/([{ALPHABET}{ALPHABET.upper()}]{{{CODE_LENGTH}}})(?![A-Za-z0-9])")


class VerifyLink(Base):
    """The short code of one document's public verification page."""

    __tablename__ = "verify_link"

    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)

    document: Mapped[Document] = relationship()

    def __repr__(self) -> str:  # the code is a capability: keep it out of logs
        return f"<VerifyLink document={self.document_id}>"


def new_code() -> str:
    """A fresh random code (60 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """``text`` as a stored code (lower case, trimmed), or None if it cannot be one."""
    code = text.strip().lower()
    return code if _CODE.fullmatch(code) else None


def code_in_url(url: str) -> str | None:
    """The code of a verification link (``…/v/<code>``) found in ``url``, if any."""
    found = _IN_URL.search(url)
    return found.group(1).lower() if found else None


def verify_url(base_url: str, code: str) -> str:
    """The public link: ``base_url`` (KYSO_PUBLIC_URL) + ``/v/`` + ``code``."""
    return base_url.rstrip("/") + PATH_PREFIX + code


def link_of(session: Session, document: Document) -> VerifyLink | None:
    return session.get(VerifyLink, document.id)


def ensure_link(session: Session, document: Document) -> VerifyLink:
    """The document's link, made now if it has none (idempotent; no commit).

    A code already taken (one chance in 2⁶⁰ per existing code) is drawn again.
    """
    found = link_of(session, document)
    if found is not None:
        return found
    for _ in range(5):
        link = VerifyLink(document_id=document.id, code=new_code())
        try:
            with session.begin_nested():
                session.add(link)
                session.flush()
        except IntegrityError:
            # a concurrent writer linked this document meanwhile, or the code was taken
            found = link_of(session, document)
            if found is not None:
                return found
            continue
        return link
    raise RuntimeError("no free verification code after 5 draws")  # pragma: no cover


def document_for_code(session: Session, code: str) -> Document | None:
    """The document a link's code belongs to, or None (an unknown or malformed code)."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    link = session.scalar(select(VerifyLink).where(VerifyLink.code == normalised))
    return link.document if link is not None else None
