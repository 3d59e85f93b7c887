"""Who may sign a document: the signing-authority lookup used when a request is routed.

Decree 30 and the provincial rules bind signing to a person, a body, the drafting
unit and the kind of document, with a designation (KT./TM./TL./TUQ./Q.) and the
person's own certificate. A drafter picks a signer; this lookup says whether
that person may sign this document and which certificate and token to expect.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from common import today_in_vietnam

from .models import DocumentType, Organisation, Person, SigningAuthority, Unit


def in_force(day: date | None = None) -> ColumnElement[bool]:
    """The SQL condition "this signing authority applies on ``day``" (default: today)."""
    day = day or today_in_vietnam()
    return and_(
        or_(SigningAuthority.valid_from.is_(None), SigningAuthority.valid_from <= day),
        or_(SigningAuthority.valid_until.is_(None), SigningAuthority.valid_until >= day))


def find_authority(session: Session, person: Person, body: Organisation,
                   doc_type: DocumentType | str, unit: Unit | None = None, *,
                   on: date | None = None) -> SigningAuthority | None:
    """The authority under which ``person`` signs a ``doc_type`` of ``body``, or None.

    ``unit`` is the drafting unit: an authority limited to a unit applies only to
    that unit's documents; one without a unit applies to the whole body. ``on`` is
    the day of signing (default: today in Vietnam); authorities outside their
    validity period (e.g. an ended TUQ. delegation) and inactive people do not count. When several
    apply, the most specific wins: unit-limited before body-wide, listed types
    before "all types".
    """
    if not person.active:
        return None
    code = doc_type if isinstance(doc_type, str) else doc_type.code
    query = select(SigningAuthority).where(
        SigningAuthority.person_id == person.id,
        SigningAuthority.body_id == body.id,
        in_force(on),
    )
    if unit is None:
        query = query.where(SigningAuthority.unit_id.is_(None))
    else:
        query = query.where(or_(SigningAuthority.unit_id.is_(None),
                                SigningAuthority.unit_id == unit.id))
    candidates = [a for a in session.scalars(query.order_by(SigningAuthority.id))
                  if a.covers(code)]
    if not candidates:
        return None
    return max(candidates, key=lambda a: (a.unit_id is not None, not a.all_types))
