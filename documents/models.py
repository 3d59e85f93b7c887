"""The tables: issuing bodies, units, people, signing authority, document types,
number books and their yearly counters, documents and the outgoing register.

Why the shapes are what they are:

* An issuing body (cơ quan ban hành) is whatever has its own seal and certificate
  and issues in its own name — the UBND, the commune's public-service centre, a
  council (Hội đồng, Ban, Tổ) issuing in its own name (Decree 30, Art. 15). They
  are one table with a ``kind``; councils therefore get their own number books
  simply by being bodies.
* Number books are rows, not code, because how administrative documents are
  numbered is the head of the body's decision (rules-vn.md §2): one book per body
  is the default; a book may be narrowed to some document types, to one unit,
  to secret documents or to copies. The counter is a separate row per
  (book, year) so a new year starts at 01 without touching last year's count,
  and so the row lock of :func:`documents.numbering.allocate` is on a tiny row.
* A register entry copies the names (body, type, signer) as they were on the day
  of issue: the register is a legal record and must not change when an official
  changes title or communes merge.
* Enumerations are stored as their names in a VARCHAR with a CHECK constraint
  (not native PostgreSQL enums), so the same migration works on SQLite.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from .sqltypes import Nfc, UtcDateTime, normalise_on_set, utc_now

#: Constraint names are fixed so migrations (and SQLite batch migrations, which
#: recreate tables) can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


event.listen(Base, "mapper_configured", normalise_on_set, propagate=True)


def enum_type(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32)


class OrganisationKind(enum.Enum):
    """What sort of issuing body; the value is the Vietnamese name of the kind."""

    PEOPLE_COMMITTEE = "Ủy ban nhân dân"
    PUBLIC_SERVICE_CENTRE = "Trung tâm Phục vụ hành chính công"
    COUNCIL = "Hội đồng, Ban, Tổ"
    OTHER = "Khác"


class Designation(enum.Enum):
    """How a person signs (shown above the title in the signature block).

    The value is the printed prefix: ``KT.`` ký thay (a deputy for the head),
    ``TM.`` thay mặt (on behalf of a collective body), ``TL.`` thừa lệnh,
    ``TUQ.`` thừa ủy quyền, ``Q.`` quyền (acting); ``NONE`` signs in their own right.
    """

    KT = "KT."
    TM = "TM."
    TL = "TL."
    TUQ = "TUQ."
    Q = "Q."
    NONE = ""


class BookScope(enum.Enum):
    """Which documents a number book numbers (Decree 30, Art. 15; rules-vn.md §2).

    A council issuing in its own name is an :class:`Organisation` of kind
    ``COUNCIL`` with its own ``BODY`` book, so it needs no scope of its own.
    """

    BODY = "Chung của cơ quan ban hành"
    DOC_TYPE = "Theo loại văn bản"
    UNIT = "Theo đơn vị soạn thảo"
    SECRET = "Văn bản mật"
    COPIES = "Bản sao"


class DocumentStatus(enum.Enum):
    """Where a document is in its life (DESIGN.md, "The life of a document")."""

    DRAFT = "Dự thảo"
    PREPARED = "Đã chuẩn bị"
    AWAITING_SIGNATURE = "Chờ ký"
    RETURNED = "Trả lại"
    SIGNED = "Đã ký"
    NUMBERED = "Đã cấp số"
    ISSUED = "Đã ban hành"
    DELIVERED = "Đã gửi"
    CANCELLED = "Đã hủy số"


class EntryStatus(enum.Enum):
    REGISTERED = "Đã đăng ký"
    CANCELLED = "Đã hủy số"


class Priority(enum.IntEnum):
    """Appendix VI ``Priority`` (độ khẩn) codes. UNCONFIRMED: codes as recalled from the
    decree's metadata table; the register stores the integer."""

    NORMAL = 0  # Thường
    URGENT = 1  # Khẩn
    VERY_URGENT = 2  # Thượng khẩn
    IMMEDIATE = 3  # Hỏa tốc
    IMMEDIATE_TIMED = 4  # Hỏa tốc hẹn giờ


class Organisation(Base):
    """An issuing body (cơ quan ban hành): has its own seal, certificate and books."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_type(OrganisationKind, "organisation_kind"))
    #: Full name as in the document heading, e.g. "Ủy ban nhân dân xã Tiên Lữ".
    name: Mapped[str] = mapped_column(Nfc(255), unique=True)
    #: Abbreviation used in symbols, e.g. "UBND".
    abbreviation: Mapped[str] = mapped_column(Nfc(20))
    #: Place name of the date line, e.g. "Tiên Lữ".
    place_name: Mapped[str] = mapped_column(Nfc(100))
    #: The body a council or centre belongs to, if any.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    #: Electronic organisation identifier of Appendix VI (mã định danh), when known.
    organ_id: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])
    units: Mapped[list[Unit]] = relationship(back_populates="body", order_by="Unit.id")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.abbreviation} {self.name!r}>"


class Unit(Base):
    """A department of a body (Văn phòng, Phòng Kinh tế …) that drafts documents."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("body_id", "abbreviation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(Nfc(255))
    #: Abbreviation used after the body's in symbols, e.g. "VP", "KT", "VX".
    abbreviation: Mapped[str] = mapped_column(Nfc(20))

    body: Mapped[Organisation] = relationship(back_populates="units")

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.abbreviation} {self.name!r}>"


class Person(Base):
    """An official or staff member; certificates are bound through :class:`SigningAuthority`."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    full_name: Mapped[str] = mapped_column(Nfc(100))
    #: Position title as printed in the signature block, e.g. "Phó Chủ tịch".
    position: Mapped[str] = mapped_column(Nfc(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    body: Mapped[Organisation] = relationship()
    unit: Mapped[Unit | None] = relationship()

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.full_name!r}>"


class DocumentType(Base):
    """A row of Appendix III (seeded by the first migration)."""

    __tablename__ = "document_type"

    #: Stable ASCII key, e.g. "quyet-dinh", "cong-van", "ban-sao-y".
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Nfc(100), unique=True)
    #: "QĐ", "TTr", "SY" …; None for Công văn and Thư công (there is no "CV").
    abbreviation: Mapped[str | None] = mapped_column(Nfc(10), unique=True)
    #: Copies (sao y, trích sao, sao lục) have their own sequence.
    is_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Order of the type in Appendix III.
    ordinal: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<DocumentType {self.code} {self.abbreviation}>"


signing_authority_doc_type = Table(
    "signing_authority_doc_type",
    Base.metadata,
    Column("authority_id", ForeignKey("signing_authority.id", ondelete="CASCADE"),
           primary_key=True),
    Column("doc_type_code", ForeignKey("document_type.code"), primary_key=True),
)


class SigningAuthority(Base):
    """Who may sign what, how, and with which certificate.

    One row = one person × one issuing body × (one unit, or the whole body when
    ``unit_id`` is None) × a set of document types (or all, with ``all_types``) ×
    a designation, bound to the certificate (SHA-256 fingerprint) the person signs
    with and the name of the token that holds its key. A deputy signing "KT." uses
    their OWN certificate, so the fingerprint belongs to this row, not to the body.
    """

    __tablename__ = "signing_authority"
    __table_args__ = (
        Index("ix_signing_authority_person_body", "person_id", "body_id"),
        CheckConstraint("length(certificate_sha256) = 64", name="fingerprint_length"),
        CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR valid_from <= valid_until",
                        name="validity_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    designation: Mapped[Designation] = mapped_column(enum_type(Designation, "designation"),
                                                     default=Designation.NONE)
    #: The rest of the designation line: "CHỦ TỊCH" in "KT. CHỦ TỊCH",
    #: "ỦY BAN NHÂN DÂN" in "TM. ỦY BAN NHÂN DÂN".
    on_behalf_of: Mapped[str | None] = mapped_column(Nfc(150))
    all_types: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Lower-case hex SHA-256 of the signer's certificate (DER).
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    #: Name of the token (tokens/ configuration) holding the key.
    token_name: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship()
    body: Mapped[Organisation] = relationship()
    unit: Mapped[Unit | None] = relationship()
    doc_types: Mapped[set[DocumentType]] = relationship(secondary=signing_authority_doc_type)

    @validates("certificate_sha256")
    def _fingerprint(self, key: str, value: str) -> str:
        # accept "AB:CD:…" as shown by certificate viewers; store one canonical form
        return value.replace(":", "").replace(" ", "").lower()

    @property
    def designation_line(self) -> str | None:
        """The line above the title, e.g. "KT. CHỦ TỊCH"; None when signing in one's own right."""
        if self.designation is Designation.NONE:
            return None
        return f"{self.designation.value} {self.on_behalf_of or ''}".strip()

    def covers(self, doc_type_code: str) -> bool:
        return self.all_types or any(t.code == doc_type_code for t in self.doc_types)

    def __repr__(self) -> str:
        return (f"<SigningAuthority {self.id} person={self.person_id} body={self.body_id} "
                f"{self.designation.name}>")


#: The token name of a key on the signer's own PC (``kyso agent``): a channel, not a
#: token, so many people share the name and each one's certificate tells them apart.
AGENT_CHANNEL = "agent"
#: ``remote:<name>``: the remote-signing credential configured as ``<name>``.
REMOTE_PREFIX = "remote:"


class OrganisationKey(Base):
    """An issuing body's own certificate (its seal, "chữ ký số của cơ quan") and the
    server-side token that holds its key.

    Only this body's issuing acts (issue, attachment, copy) are signed with it, and only
    when one of the body's clerks starts them (:mod:`documents.custody`). A replacement
    certificate is a new row taking over from its ``valid_from``; documents sealed with
    the old one keep verifying, the old row stays for the record. A certificate is the
    seal of one body only (unique); its token name is used by no other body and by no
    person (checked by :mod:`documents.custody` and by database triggers).
    """

    __tablename__ = "organisation_key"
    __table_args__ = (
        UniqueConstraint("certificate_sha256"),
        Index("ix_organisation_key_body", "body_id"),
        CheckConstraint("length(certificate_sha256) = 64", name="fingerprint_length"),
        CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR valid_from <= valid_until",
                        name="validity_order"),
        CheckConstraint(f"token_name <> '{AGENT_CHANNEL}' AND token_name NOT LIKE "
                        f"'{REMOTE_PREFIX}%'", name="server_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: Lower-case hex SHA-256 of the body's certificate (DER).
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    #: The server-side token (tokens.json) holding the key; its jobs go to queue token.<name>.
    token_name: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    created_by: Mapped[str | None] = mapped_column(Nfc(100))

    body: Mapped[Organisation] = relationship()

    @validates("certificate_sha256")
    def _fingerprint(self, key: str, value: str) -> str:
        return value.replace(":", "").replace(" ", "").lower()

    def __repr__(self) -> str:
        return f"<OrganisationKey {self.id} body={self.body_id} token={self.token_name}>"


number_book_doc_type = Table(
    "number_book_doc_type",
    Base.metadata,
    Column("book_id", ForeignKey("number_book.id", ondelete="CASCADE"), primary_key=True),
    Column("doc_type_code", ForeignKey("document_type.code"), primary_key=True),
)


class NumberBook(Base):
    """A numbering sequence (sổ đăng ký văn bản đi) of one issuing body.

    ``doc_types`` (when not empty) and ``unit_id`` (when set) narrow which documents
    the book numbers; ``scope`` says why the book exists and ``scope_description``
    says it in words for the administrator and the printed register.
    """

    __tablename__ = "number_book"
    __table_args__ = (UniqueConstraint("body_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: Short key unique within the body, e.g. "chung", "mat", "sao".
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Nfc(200))
    scope: Mapped[BookScope] = mapped_column(enum_type(BookScope, "book_scope"),
                                             default=BookScope.BODY)
    scope_description: Mapped[str] = mapped_column(Nfc(500), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    #: Add the drafting unit to the symbol ("QĐ-UBND-VP"); công văn always carry it.
    symbol_with_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    body: Mapped[Organisation] = relationship()
    unit: Mapped[Unit | None] = relationship()
    doc_types: Mapped[set[DocumentType]] = relationship(secondary=number_book_doc_type)

    def __repr__(self) -> str:
        return f"<NumberBook {self.id} {self.code} body={self.body_id}>"


class NumberCounter(Base):
    """The last number given in a book in a year; locked while a number is allocated."""

    __tablename__ = "number_counter"
    __table_args__ = (CheckConstraint("value >= 0", name="value_not_negative"),)

    book_id: Mapped[int] = mapped_column(ForeignKey("number_book.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now,
                                                 onupdate=utc_now)


def new_document_id() -> str:
    return str(uuid.uuid4())


class Document(Base):
    """An outgoing document. Its number, once allocated, stays bound to it here."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("number_book_id", "number_year", "number"),
        CheckConstraint(
            "(number IS NULL AND number_book_id IS NULL AND number_year IS NULL) OR "
            "(number IS NOT NULL AND number_book_id IS NOT NULL AND number_year IS NOT NULL)",
            name="number_all_or_none"),
        CheckConstraint("number IS NULL OR number >= 1", name="number_positive"),
        # the pages of a body's documents (documents/paging.py): a seek, never a sort
        Index("ix_document_body_created", "body_id", "created_at", "id"),
        Index("ix_document_body_status_created", "body_id", "status", "created_at", "id"),
    )

    #: The document ID of Appendix VI (duplicates must be refused): a UUID.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_document_id)
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    doc_type_code: Mapped[str] = mapped_column(ForeignKey("document_type.code"))
    #: Trích yếu (Appendix VI Subject, at most 500 characters).
    subject: Mapped[str] = mapped_column(Nfc(500))
    status: Mapped[DocumentStatus] = mapped_column(enum_type(DocumentStatus, "document_status"),
                                                   default=DocumentStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    number_book_id: Mapped[int | None] = mapped_column(ForeignKey("number_book.id"))
    number_year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    #: Why the last background step on the document failed ("vi / en"), until one succeeds.
    problem: Mapped[str | None] = mapped_column(Nfc(1000))

    body: Mapped[Organisation] = relationship()
    unit: Mapped[Unit | None] = relationship()
    doc_type: Mapped[DocumentType] = relationship()
    number_book: Mapped[NumberBook | None] = relationship()
    register_entry: Mapped[RegisterEntry | None] = relationship(back_populates="document")

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.doc_type_code} {self.status.name}>"


class RegisterEntry(Base):
    """One line of the outgoing register (Appendix IV) with the Appendix VI metadata.

    Register column → attribute: 1 Số, ký hiệu → ``number_symbol`` (``code_number`` /
    ``code_notation``); 2 Ngày tháng → ``issued_date``; 3 Tên loại và trích yếu →
    ``type_name`` + ``subject``; 4 Người ký → ``signer_full_name``; 5 Nơi nhận →
    ``recipients``; 6 Đơn vị, người nhận bản lưu → ``archive_holder``; 7 Số lượng bản →
    ``issued_amount``; 8 Ngày chuyển → ``transferred_date``; 9 Ký nhận → ``receipt``;
    10 Ghi chú → ``note`` (and the cancellation, when there is one).
    A cancelled number keeps its row (status, reason, who, when): never a silent gap.
    """

    __tablename__ = "register_entry"
    __table_args__ = (
        UniqueConstraint("number", "code_notation", "body_id", "year",
                         name="uq_register_entry_number_symbol"),
        UniqueConstraint("document_id", name="uq_register_entry_document"),
        UniqueConstraint("book_id", "year", "number", name="uq_register_entry_book_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("length(code_number) <= 11", name="code_number_length"),
        CheckConstraint("length(code_notation) <= 30", name="code_notation_length"),
        CheckConstraint("length(subject) <= 500", name="subject_length"),
        CheckConstraint("issued_amount >= 1", name="issued_amount_positive"),
        CheckConstraint("priority BETWEEN 0 AND 4", name="priority_range"),
        Index("ix_register_entry_body_year_date", "body_id", "year", "issued_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("number_book.id"))
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[EntryStatus] = mapped_column(enum_type(EntryStatus, "entry_status"),
                                                default=EntryStatus.REGISTERED)

    # Appendix VI metadata (CodeNumber, CodeNotation, IssuedDate, TypeName, Subject …)
    code_number: Mapped[str] = mapped_column(String(11))
    code_notation: Mapped[str] = mapped_column(Nfc(30))
    issued_date: Mapped[date] = mapped_column(Date)
    organ_name: Mapped[str] = mapped_column(Nfc(255))
    type_name: Mapped[str] = mapped_column(Nfc(100))
    subject: Mapped[str] = mapped_column(Nfc(500))
    file_code: Mapped[str | None] = mapped_column(Nfc(50))
    doc_ordinal: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(Nfc(50), default="Tiếng Việt")
    page_amount: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Nfc())
    signer_position: Mapped[str] = mapped_column(Nfc(100))
    signer_full_name: Mapped[str] = mapped_column(Nfc(100))
    #: Nơi nhận (Appendix VI ``To``).
    recipients: Mapped[str] = mapped_column(Nfc(), default="")
    priority: Mapped[int] = mapped_column(Integer, default=int(Priority.NORMAL))
    #: Số lượng bản (Appendix VI ``IssuedAmount``).
    issued_amount: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date | None] = mapped_column(Date)

    # the remaining register columns
    archive_holder: Mapped[str] = mapped_column(Nfc(255), default="")
    transferred_date: Mapped[date | None] = mapped_column(Date)
    receipt: Mapped[str | None] = mapped_column(Nfc(255))
    note: Mapped[str | None] = mapped_column(Nfc())

    registered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    registered_by: Mapped[str | None] = mapped_column(Nfc(100))
    cancel_reason: Mapped[str | None] = mapped_column(Nfc())
    cancelled_by: Mapped[str | None] = mapped_column(Nfc(100))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    book: Mapped[NumberBook] = relationship()
    body: Mapped[Organisation] = relationship()
    unit: Mapped[Unit | None] = relationship()
    document: Mapped[Document] = relationship(back_populates="register_entry")

    @property
    def number_symbol(self) -> str:
        """Column 1 of the register, e.g. "05/QĐ-UBND"."""
        return f"{self.code_number}/{self.code_notation}"

    @property
    def cancelled(self) -> bool:
        return self.status is EntryStatus.CANCELLED

    def __repr__(self) -> str:
        return f"<RegisterEntry {self.id} {self.number_symbol} {self.year} {self.status.name}>"


class VersionKind(enum.Enum):
    """Which step of the document's life produced a PDF version."""

    DRAFT = "Dự thảo"
    PREPARED = "Đã chuẩn bị"
    APPROVED = "Đã ký phê duyệt"
    ISSUED = "Đã ban hành"
    ATTACHMENT = "Phụ lục"
    COPY = "Bản sao điện tử"
    #: an issued PDF whose archive timestamp was renewed (PAdES B-LTA, documents.archive)
    ARCHIVED = "Lưu trữ dài hạn"


class DocumentVersion(Base):
    """One PDF of a document, stored once by SHA-256 and never overwritten."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "kind", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"))
    kind: Mapped[VersionKind] = mapped_column(enum_type(VersionKind, "version_kind"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(Nfc(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    created_by: Mapped[str | None] = mapped_column(Nfc(100))
    #: The official whose signature this version adds (approval versions).
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    #: For an electronic copy (a document of its own, numbered in the copies book):
    #: the issued version it was made from.
    source_version_id: Mapped[int | None] = mapped_column(ForeignKey("document_version.id"))

    document: Mapped[Document] = relationship()
    signer: Mapped[Person | None] = relationship()
