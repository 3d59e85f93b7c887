""""Ready to issue?": what a body needs before its first real document, checked one by one.

:func:`body_readiness` checks what the database knows — a seal picture, an organisation
certificate in force today (and its expiry), a number book for documents and one for
copies, a signing authority for each document type the body uses, every signer's
certificate registered and in date, a records clerk — and says for each what to do
next, in Vietnamese (and English). The checks that need the network or the tokens (the
organisation certificate trusted and its key reachable, TSA, OCSP/CRL, e-mail) are added
by ``api`` as :class:`Check` s of the same shape. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from common import KysoError

from .accounts import Membership, Role
from .authority import find_authority
from .custody import seal_key
from .inventory import ExpiryWarning, KeyRole, certificates_in_use
from .models import Document, DocumentType, Organisation, Person, SigningAuthority
from .numbering import book_for
from .pictures import seal_of

__all__ = ["Check", "body_readiness"]


@dataclass(frozen=True)
class Check:
    """One line of the checklist: what, whether it holds, and what to do if not."""

    name_vi: str
    name_en: str
    ok: bool
    detail_vi: str = ""
    detail_en: str = ""
    #: what the administrator does next (empty when the check holds)
    todo_vi: str = ""
    todo_en: str = ""


def _check(name: tuple[str, str], failure: KysoError | None, todo: tuple[str, str],
           detail: tuple[str, str] = ("", "")) -> Check:
    if failure is None:
        return Check(name[0], name[1], True, detail[0], detail[1])
    return Check(name[0], name[1], False, failure.vi, failure.en, todo[0], todo[1])


def _types_in_use(session: Session, body: Organisation, year: int) -> list[DocumentType]:
    codes = set(session.scalars(select(Document.doc_type_code).where(
        Document.body_id == body.id,
        extract("year", Document.created_at).in_((year, year - 1)))))
    types = [session.get_one(DocumentType, code) for code in sorted(codes)]
    return [t for t in types if not t.is_copy] or [session.get_one(DocumentType, "quyet-dinh")]


def body_readiness(session: Session, body: Organisation, *, today: date,
                   now: datetime | None = None) -> list[Check]:
    """The database's part of the checklist for ``body`` on ``today`` (Vietnam's date)."""
    now = now or datetime.now(UTC)
    checks: list[Check] = []

    failure: KysoError | None = None
    try:
        picture = seal_of(session, body)
        seal_detail = (f"{picture.width_mm:g} mm, tải lên {picture.uploaded_at:%d/%m/%Y}",
                       f"{picture.width_mm:g} mm, uploaded {picture.uploaded_at:%Y-%m-%d}")
    except KysoError as exc:
        failure, seal_detail = exc, ("", "")
    checks.append(_check(("Ảnh con dấu", "Seal picture"), failure,
                         ("Quản trị → Cơ quan → Tải lên ảnh con dấu (PNG nền trong suốt, màu đỏ)",
                          "Admin → Body → upload the seal picture (transparent red PNG)"),
                         seal_detail))

    failure = None
    try:
        key = seal_key(session, body, on=today)
        key_detail = (f"thiết bị ký {key.token_name}", f"token {key.token_name}")
    except KysoError as exc:
        failure, key_detail = exc, ("", "")
    checks.append(_check(("Chứng thư số của cơ quan", "Organisation certificate"), failure,
                         ("đăng ký chứng thư số của cơ quan và thiết bị giữ khóa "
                          "(Quản trị → Chứng thư số)",
                          "register the body's certificate and the token that holds its key "
                          "(Admin → Certificates)"), key_detail))

    for label, code in (("văn bản", "quyet-dinh"), ("bản sao", "ban-sao-y")):
        failure = None
        try:
            book = book_for(session, body, code)
            detail = (book.name, book.name)
        except KysoError as exc:
            failure, detail = exc, ("", "")
        what_en = "documents" if code == "quyet-dinh" else "copies"
        checks.append(_check((f"Sổ đăng ký {label} đi năm {today.year}",
                              f"Register book for outgoing {what_en}"), failure,
                             ("Quản trị → Sổ văn bản: mở sổ cho năm nay",
                              "Admin → Number books: open a book for this year"), detail))

    signers = session.scalars(select(Person).join(
        SigningAuthority, SigningAuthority.person_id == Person.id).where(
        SigningAuthority.body_id == body.id, Person.active.is_(True)).distinct()).all()
    for doc_type in _types_in_use(session, body, today.year):
        holders = [p.full_name for p in signers if find_authority(
            session, p, body, doc_type, None, on=today) is not None]
        checks.append(Check(
            f"Người có thẩm quyền ký {doc_type.name.lower()}",
            f"A person authorised to sign {doc_type.code}", bool(holders),
            ", ".join(holders) if holders else f"chưa ai được giao ký {doc_type.name.lower()}",
            ", ".join(holders) if holders else f"nobody may sign {doc_type.code} yet",
            "" if holders else "Quản trị → Thẩm quyền ký: giao thẩm quyền cho lãnh đạo",
            "" if holders else "Admin → Signing authority: give a leader the authority"))

    in_use = certificates_in_use(session, [body.id], now=now)
    unregistered = [c.holder for c in in_use if c.role is KeyRole.PERSON and not c.registered]
    expired = [c.holder for c in in_use if c.warning is ExpiryWarning.EXPIRED]
    soon = [c.holder for c in in_use if c.warning is ExpiryWarning.DAYS_7]
    ok = not (unregistered or expired)
    detail_vi = "; ".join(filter(None, [
        f"chưa đăng ký chứng thư: {', '.join(unregistered)}" if unregistered else "",
        f"hết hạn: {', '.join(expired)}" if expired else "",
        f"hết hạn trong 7 ngày: {', '.join(soon)}" if soon else ""])) or \
        f"{len(in_use)} chứng thư, đều còn hạn"
    detail_en = "; ".join(filter(None, [
        f"no certificate registered: {', '.join(unregistered)}" if unregistered else "",
        f"expired: {', '.join(expired)}" if expired else "",
        f"expiring within 7 days: {', '.join(soon)}" if soon else ""])) or \
        f"{len(in_use)} certificates, all in date"
    checks.append(Check("Chứng thư số của người ký", "Signers' certificates", ok, detail_vi,
                        detail_en,
                        "" if ok else "đăng ký chứng thư từ token (kyso agent), tài khoản ký "
                        "từ xa hoặc tệp PEM; gia hạn chứng thư hết hạn với CA",
                        "" if ok else "register each certificate from its token (kyso agent), "
                        "remote-signing account or a PEM file; renew expired ones with the CA"))

    clerks = session.scalars(select(Membership).where(
        Membership.body_id == body.id, Membership.role == Role.CLERK)).first()
    checks.append(Check("Văn thư", "Records clerk", clerks is not None,
                        "" if clerks else "chưa có tài khoản văn thư",
                        "" if clerks else "no records clerk account",
                        "" if clerks else "Quản trị → Tài khoản: giao vai trò Văn thư",
                        "" if clerks else "Admin → Accounts: give someone the clerk role"))
    return checks
