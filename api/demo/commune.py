"""The demo commune in the database, and its whole issuance flow end to end.

Seeds (once) "UBND xã Tiên Lữ": its departments, officials, signing authorities
bound to the demo certificates, a general number book and a copies book. Then runs
the life of one draft: prepare → approval signature on the signer's SoftHSM token →
number, date, register, organisation signature → a signed attachment and a SAO Y
copy, each file written to the data directory and verified.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from certs import COMMUNE, DemoPki, official, validation_context
from documents import (
    DOC_TYPES,
    Act,
    BookScope,
    Designation,
    Document,
    FileStore,
    IssueDetails,
    NumberBook,
    Organisation,
    OrganisationKey,
    OrganisationKind,
    Person,
    RegisterRow,
    Signing,
    SigningAuthority,
    Unit,
    add_picture,
    approval_key,
    approve,
    check_person_binding,
    check_seal_binding,
    issue,
    issuing_custody,
    make_copy,
    new_draft,
    person_custody,
    pictures_of,
    prepare,
    register_entries,
    register_row,
    seal_image_for,
    sign_attachment,
    signature_image_for,
    signature_of,
)
from signer import CopyKind, PadesLevel, Report, check_seal, check_signature, locate

from ..cli.operations import verify_document, write_new_file
from ..database import open_database
from ..datadir import DataDir
from ..errors import DraftNotUnderstood
from .art import appendix_pdf, handwritten_signature, seal
from .demo import DEMO_PIN

PLACE = "Tiên Lữ"
UNITS = (("Văn phòng HĐND và UBND", "VP"), ("Phòng Kinh tế", "KT"),
         ("Phòng Văn hóa - Xã hội", "VHXH"))
#: token label → (position, unit abbreviation or None, designation)
PEOPLE = {
    "chu-tich": ("Chủ tịch", None, Designation.NONE),
    "pho-chu-tich": ("Phó Chủ tịch", None, Designation.KT),
    "pho-chu-tich-duc": ("Phó Chủ tịch", None, Designation.KT),
    "truong-phong-vhxh": ("Trưởng phòng Văn hóa - Xã hội", "VHXH", Designation.NONE),
}
#: Staff without signing authority: label → (position, unit).
STAFF = {"chuyen-vien-vp": ("Chuyên viên Văn phòng", None)}
CLERK = "Bùi Thị Lan (văn thư)"
#: who the audit trail says added the demo's art
DEMO_ACTOR = "kyso demo"
#: The demo body's organisation certificate and the token holding its key.
SEAL = "ubnd"


def seed(session: Session, pki: DemoPki) -> Organisation:
    """The demo commune's organisation, people, authorities, books and art (once)."""
    body = session.scalar(select(Organisation).where(Organisation.name == COMMUNE))
    if body is not None:
        _seed_staff(session, body)
        _seed_seal(session, body, pki)
        install_art(session, body)
        return body
    body = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name=COMMUNE,
                        abbreviation="UBND", place_name=PLACE)
    units = {abbr: Unit(body=body, name=name, abbreviation=abbr) for name, abbr in UNITS}
    session.add_all([body, *units.values()])
    for label, (position, unit, designation) in PEOPLE.items():
        person = Person(body=body, unit=units[unit] if unit else None,
                        full_name=official(label).full_name, position=position)
        session.add(person)
        session.flush()
        fingerprint = hashlib.sha256(pki.cert(label).dump()).hexdigest()
        check_person_binding(session, person, fingerprint, label)
        session.add(SigningAuthority(
            person=person, body=body, designation=designation, all_types=True,
            on_behalf_of="Chủ tịch" if designation is Designation.KT else None,
            certificate_sha256=fingerprint, token_name=label))
    session.add_all([
        NumberBook(body=body, code="chung", name="Sổ đăng ký văn bản đi",
                   scope=BookScope.BODY, scope_description="Văn bản hành chính của UBND xã"),
        NumberBook(body=body, code="ban-sao", name="Sổ bản sao văn bản",
                   scope=BookScope.COPIES, scope_description="Bản sao y, trích sao, sao lục"),
    ])
    session.flush()
    _seed_staff(session, body)
    _seed_seal(session, body, pki)
    install_art(session, body)
    return body


def _seed_seal(session: Session, body: Organisation, pki: DemoPki) -> None:
    """The demo body's organisation key (added to demo databases made before custody)."""
    if session.scalar(select(OrganisationKey.id).where(
            OrganisationKey.body_id == body.id).limit(1)) is None:
        fingerprint = hashlib.sha256(pki.cert(SEAL).dump()).hexdigest()
        check_seal_binding(session, body, fingerprint, SEAL)  # like the rest: no audit event
        session.add(OrganisationKey(body=body, certificate_sha256=fingerprint, token_name=SEAL,
                                    created_by="kyso demo"))
        session.flush()


def _seed_staff(session: Session, body: Organisation) -> None:
    """The demo's staff without signing authority (added to older demo databases too)."""
    for label, (position, unit) in STAFF.items():
        name = official(label).full_name
        if session.scalar(select(Person).where(Person.body_id == body.id,
                                               Person.full_name == name)) is None:
            session.add(Person(body=body, full_name=name, position=position,
                               unit=next((u for u in body.units if u.abbreviation == unit),
                                         None)))
    session.flush()


def demo_people(session: Session, body: Organisation) -> dict[str, Person]:
    """The demo's people by certificate label (signers and staff)."""
    return {label: session.scalars(select(Person).where(
        Person.full_name == official(label).full_name, Person.body_id == body.id)).one()
        for label in [*PEOPLE, *STAFF]}


def install_art(session: Session, body: Organisation) -> None:
    """The demo's seal for ``body`` and a handwritten signature for each of its people,
    added as their pictures (checked like any upload, through :func:`documents.add_picture`)
    where they have none yet (what is there, e.g. uploaded, stays)."""
    session.flush()
    if not pictures_of(session, body=body):
        add_picture(session, check_seal(seal()), actor=DEMO_ACTOR, body=body)
    for person in session.scalars(select(Person).where(Person.body_id == body.id)):
        if signature_of(session, person) is None:
            add_picture(session, check_signature(handwritten_signature(seed=person.id)),
                        actor=DEMO_ACTOR, person=person)


def type_from_symbol(symbol: str | None) -> tuple[str, str | None]:
    """(document type code, drafting unit) from the symbol printed after "Số: /".

    "QĐ-UBND" → Quyết định; "TTr-UBND" → Tờ trình; "UBND-VHXH" (no type group) →
    Công văn drafted by VHXH.
    """
    if not symbol:
        raise DraftNotUnderstood("loại văn bản (ký hiệu) / document type (symbol)")
    groups = [g for g in re.split(r"[-\s]+", unicodedata.normalize("NFC", symbol)) if g]
    by_abbr = {t.abbreviation: t.code for t in DOC_TYPES if t.abbreviation}
    if groups and groups[0] in by_abbr:
        return by_abbr[groups[0]], None
    if groups and groups[0] == "UBND":
        return "cong-van", groups[1] if len(groups) > 1 else None
    raise DraftNotUnderstood(f"loại văn bản từ ký hiệu '{symbol}' / document type of '{symbol}'")


def guess_subject(pdf: bytes, fallback: str) -> str:
    """The trích yếu: the "Về việc …" lines under the title, else ``fallback``."""
    from pdfminer.high_level import extract_text

    lines = extract_text(io.BytesIO(pdf), maxpages=1).splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("Về việc") or line.strip().startswith("V/v"):
            parts = [line.strip()]
            for more in lines[i + 1:i + 4]:
                if not more.strip() or "_" in more or more.strip().isupper():
                    break
                parts.append(more.strip())
            return unicodedata.normalize("NFC", " ".join(parts))[:500]
    return fallback


@dataclass
class FlowResult:
    """What the demo made: files, register lines and verification reports."""

    files: dict[str, Path] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    register: list[RegisterRow] = field(default_factory=list)
    number: str = ""


def run_flow(data: DataDir, pki: DemoPki, draft: bytes, *, doc_type: str | None = None,
             subject: str | None = None, draft_name: str = "du-thao.pdf",
             level: PadesLevel = PadesLevel.B_LT) -> FlowResult:
    """Issue ``draft`` the way the commune does, leaving every output in ``data.out``.

    The keys come from the same custody resolution as the service's (documents.custody):
    the signing authority of the person the signature block names, the body's
    organisation key; the issue date is the day of the organisation signature. The
    command line acts for no account (the audit trail says so). ``level``: of the
    organisation's signatures; B-LT, the service's default, lets a recipient validate the
    issued file offline."""
    Session = open_database(data)
    store = FileStore(data.files)
    store_trust = data.trust_store()
    signing = Signing(tsa_url=pki.tsa_url, level=level,
                      contexts=lambda: validation_context(store_trust, online=True),
                      trust=store_trust)
    layout = locate(draft)
    unit_abbr: str | None = None
    if doc_type is None:
        doc_type, unit_abbr = type_from_symbol(layout.number.symbol if layout.number else None)
    result = FlowResult()

    with Session() as session, session.begin():
        body = seed(session, pki)
        unit = next((u for u in body.units if u.abbreviation == unit_abbr), None)
        document = new_draft(session, store, body, doc_type,
                             subject or guess_subject(draft, f"Văn bản số hóa {draft_name}"),
                             draft, unit=unit, actor="Chuyên viên", file_name=draft_name)
        prepare(session, store, document, actor=CLERK)
        doc_id = document.id

    block_name = layout.signature.name if layout.signature else ""
    with Session() as session:
        person = session.scalar(select(Person).where(Person.full_name == block_name))
        if person is None:  # a template's placeholder: the first Phó Chủ tịch signs
            person = session.scalar(select(Person).where(Person.position == "Phó Chủ tịch"))
        assert person is not None
        authority = approval_key(session, session.get_one(Document, doc_id), person)
        approval = person_custody(authority)  # the command line: no account
        person_id = person.id
        seal_custody = {act: issuing_custody(session, None, person.body, act)
                        for act in (Act.ISSUE, Act.ATTACHMENT, Act.COPY)}

    with data.token(approval.token_name).signer(DEMO_PIN) as person_signer, \
            Session() as session, session.begin():
        approve(session, store, session.get_one(Document, doc_id),
                session.get_one(Person, person_id), person_signer,
                signature_image_for(session.get_one(Person, person_id)), signing,
                custody=approval)

    with data.token(seal_custody[Act.ISSUE].token_name).signer(DEMO_PIN) as body_signer:
        with Session() as session, session.begin():
            document = session.get_one(Document, doc_id)
            person = session.get_one(Person, person_id)
            details = IssueDetails(
                issued_date=date.min,  # the day of the organisation signature
                signer_full_name=person.full_name,
                signer_position=person.position, recipients="Như Điều 3; Lưu: VT.",
                archive_holder="Văn thư UBND xã", issued_amount=1,
                page_amount=layout.pages, registered_by=CLERK)
            entry, issued = issue(session, store, document, body_signer,
                                  seal_image_for(document), details,
                                  signing, custody=seal_custody[Act.ISSUE])
            number, when = entry.number_symbol, entry.issued_date
        with Session() as session, session.begin():
            document = session.get_one(Document, doc_id)
            attachment = sign_attachment(
                session, store, document, body_signer,
                appendix_pdf(f"{document.doc_type.name} số {number} ngày {when:%d/%m/%Y} "
                             f"của {COMMUNE}"),
                signing, file_name="phu-luc.pdf", actor=CLERK,
                custody=seal_custody[Act.ATTACHMENT])
        with Session() as session, session.begin():
            document = session.get_one(Document, doc_id)
            copy_details = IssueDetails(
                issued_date=date.min, signer_full_name=COMMUNE, signer_position="Văn thư",
                recipients="Phòng Văn hóa - Xã hội", archive_holder="Văn thư UBND xã",
                registered_by=CLERK)
            _, copy_entry, copied = make_copy(session, store, document, body_signer,
                                              CopyKind.SAO_Y, copy_details, signing,
                                              custody=seal_custody[Act.COPY])
            copy_number = copy_entry.number_symbol

    stem = number.replace("/", "-")
    outputs = {
        "issued": (f"{when.year}-{stem}.pdf", issued),
        "attachment": (f"{when.year}-{stem}-phu-luc.pdf", attachment),
        "copy": (f"{when.year}-{stem}-sao-y-{copy_number.replace('/', '-')}.pdf", copied),
    }
    for key, (name, content) in outputs.items():
        path = data.out / name
        write_new_file(path, content)
        result.files[key] = path
        result.reports[key] = verify_document(data, content, name)
    with Session() as session:
        body = seed(session, pki)
        result.register = [register_row(e) for e in register_entries(session, body, when.year)]
    result.number = number
    return result

