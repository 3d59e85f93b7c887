"""A real body from nothing: the first body, its units, books and administrator; its staff.

What ``kyso init`` and the first-run page do, with no demo code involved:
:func:`start_body` creates an issuing body with its official code (mã định danh điện
tử, the agency identifier of Decree 30 Appendix VI and of the document exchange), its
units and abbreviations, the two number books every body needs (the outgoing register
and the register of copies) and its first administrator; :func:`import_staff` adds the
people and accounts of a staff list read by :func:`~documents.read_staff_list`, all or
nothing. Signing authorities and certificates are the administrator's next acts (each
certificate checked by :func:`~documents.enrolment.enrol_certificate`).

Each act is one audit event. Nothing here commits.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .accounts import DEFAULT_HASHER, Role, User, create_user, grant
from .audit import AuditAction, record
from .errors import BodyExists, InvalidOrganId, StaffListUnreadable
from .models import BookScope, NumberBook, Organisation, OrganisationKind, Person, Unit
from .staff import StaffList

__all__ = ["BodyPlan", "FirstAdmin", "ImportedStaff", "ORGAN_ID", "UnitPlan", "import_staff",
           "start_body"]

#: An electronic organisation identifier as issued (QCVN 102:2016/BTTTT): four groups,
#: level 4 to level 1, e.g. "000.12.34.H41" (a commune under the province H41).
ORGAN_ID = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9A-Z]{2}$")
#: The number books a new body starts with: (code, name, scope, what it numbers).
STARTING_BOOKS = (
    ("chung", "Sổ đăng ký văn bản đi", BookScope.BODY, "Văn bản hành chính của cơ quan"),
    ("ban-sao", "Sổ bản sao văn bản", BookScope.COPIES, "Bản sao y, trích sao, sao lục"),
)


@dataclass(frozen=True)
class UnitPlan:
    name: str
    abbreviation: str


@dataclass(frozen=True)
class BodyPlan:
    """What the administrator types on the first-run page (or gives ``kyso init``)."""

    name: str  # as in the heading: "Ủy ban nhân dân xã Tiên Lữ"
    abbreviation: str  # in symbols: "UBND"
    place_name: str  # of the date line: "Tiên Lữ"
    organ_id: str  # "000.12.34.H41"
    kind: OrganisationKind = OrganisationKind.PEOPLE_COMMITTEE
    units: Sequence[UnitPlan] = ()
    parent_id: int | None = None


@dataclass(frozen=True)
class FirstAdmin:
    username: str
    password: str
    display_name: str
    email: str | None = None


def _checked_organ_id(value: str) -> str:
    code = value.strip().upper()
    if not ORGAN_ID.match(code):
        raise InvalidOrganId(value)
    return code


def start_body(session: Session, plan: BodyPlan, admin: FirstAdmin, *, actor: str | None,
               hasher: PasswordHasher = DEFAULT_HASHER) -> Organisation:
    """Create the body of ``plan`` with its units, starting books and administrator.

    Refused (:class:`BodyExists`) when a body of that name or official code exists, and
    (:class:`InvalidOrganId`) for a malformed code; the account's own refusals are
    :func:`~documents.create_user`'s."""
    organ_id = _checked_organ_id(plan.organ_id)
    existing = session.scalar(select(Organisation).where(or_(
        Organisation.name == plan.name, Organisation.organ_id == organ_id)))
    if existing is not None:
        raise BodyExists(existing.name if existing.name == plan.name else organ_id)
    body = Organisation(kind=plan.kind, name=plan.name, abbreviation=plan.abbreviation,
                        place_name=plan.place_name, organ_id=organ_id,
                        parent_id=plan.parent_id)
    session.add(body)
    session.add_all(Unit(body=body, name=u.name, abbreviation=u.abbreviation)
                    for u in plan.units)
    session.add_all(NumberBook(body=body, code=code, name=name, scope=scope,
                               scope_description=description)
                    for code, name, scope, description in STARTING_BOOKS)
    session.flush()
    user = create_user(session, admin.username, admin.password, admin.display_name,
                       email=admin.email, hasher=hasher)
    grant(session, user, body, Role.ADMIN)
    record(session, AuditAction.ADMIN_CHANGE, actor=actor or admin.username, body_id=body.id,
           object_type="organisation", object_id=body.id,
           details={"created": body.name, "organ_id": organ_id,
                    "units": [u.abbreviation for u in plan.units],
                    "books": [code for code, *_ in STARTING_BOOKS],
                    "administrator": user.username})
    session.flush()
    return body


@dataclass(frozen=True)
class ImportedStaff:
    people: list[Person]
    #: (user name, temporary password) of each new account, to hand out once
    accounts: list[tuple[str, str]]


def _unit_of(body: Organisation, name: str | None) -> Unit | None:
    if not name:
        return None
    wanted = name.casefold()
    return next((u for u in body.units
                 if wanted in (u.abbreviation.casefold(), u.name.casefold())), None)


def _problems(session: Session, body: Organisation, staff: StaffList) -> list[tuple[int, str,
                                                                                  str]]:
    problems = list(staff.problems)
    taken = set(session.scalars(select(User.username).where(
        User.username.in_([row.username for row in staff.rows]))))
    for row in staff.rows:
        if row.unit and _unit_of(body, row.unit) is None:
            problems.append((row.line, f"không có đơn vị “{row.unit}” trong {body.name}",
                             f"{body.name} has no unit “{row.unit}”"))
        if row.username in taken:
            problems.append((row.line, f"tên đăng nhập “{row.username}” đã có người dùng",
                             f"user name “{row.username}” is taken"))
    return sorted(problems)


def import_staff(session: Session, body: Organisation, staff: StaffList, *,
                 actor: str | None, hasher: PasswordHasher = DEFAULT_HASHER) -> ImportedStaff:
    """Add every row of ``staff`` as a person of ``body`` with an account holding the
    row's roles and a temporary password; nothing at all when any row has a problem
    (:class:`StaffListUnreadable` lists them, each with its line)."""
    problems = _problems(session, body, staff)
    if problems:
        lines_vi = "; ".join(f"dòng {line}: {vi}" for line, vi, _ in problems[:20])
        lines_en = "; ".join(f"line {line}: {en}" for line, _, en in problems[:20])
        raise StaffListUnreadable(f"danh sách cán bộ chưa nhập được — {lines_vi}",
                                  f"the staff list was not imported — {lines_en}")
    people, accounts = [], []
    for row in staff.rows:
        person = Person(body=body, unit=_unit_of(body, row.unit), full_name=row.full_name,
                        position=row.position)
        session.add(person)
        session.flush()
        password = secrets.token_urlsafe(12)
        user = create_user(session, row.username, password, row.full_name, person=person,
                           email=row.email, hasher=hasher)
        for role in row.roles:
            grant(session, user, body, role)
        people.append(person)
        accounts.append((user.username, password))
    record(session, AuditAction.ADMIN_CHANGE, actor=actor, body_id=body.id,
           object_type="staff_list", object_id=body.id,
           details={"people": [p.id for p in people],
                    "accounts": [username for username, _ in accounts]})
    session.flush()
    return ImportedStaff(people, accounts)
