"""The demo commune's accounts: one login per role, with fixed passwords shown on the
login page of a demo service (``kyso serve --demo``, ``kyso demo``). Never used by a real
instance (``kyso init`` and ``documents.import_staff`` make real accounts)."""

from __future__ import annotations

from collections.abc import Mapping

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import DEFAULT_HASHER, Organisation, Person, Role, User, create_user, grant

#: People labels (as in ``certs.OFFICIALS`` and ``api.demo.commune.PEOPLE``) of the demo signers.
DEMO_SIGNERS = ("pho-chu-tich", "pho-chu-tich-duc", "chu-tich")
#: The demo drafter's label in ``people_by_label`` (optional: without it the drafter
#: account has no person and returned documents notify nobody by name).
DEMO_DRAFTER = "chuyen-vien-vp"
#: The demo's province administrator (manages the province-wide trust anchors).
DEMO_PROVINCE_ADMIN = "quantritinh"
#: Demo accounts' e-mail domain (reserved for examples: mail to it goes nowhere real).
DEMO_MAIL_DOMAIN = "tien-lu.example"


def demo_password(username: str) -> str:
    """The fixed password of a demo account (a demo commune only: shown on the login page)."""
    return f"{username}-demo"



def seed_demo_accounts(session: Session, body: Organisation,
                       people_by_label: Mapping[str, Person], *,
                       hasher: PasswordHasher = DEFAULT_HASHER) -> list[tuple[str, str, str]]:
    """The demo commune's logins: (user name, password, role description) each.

    A drafter ``chuyenvien`` (linked to ``people_by_label[DEMO_DRAFTER]`` when given,
    so that returned documents come back to a named person); the signers of
    :data:`DEMO_SIGNERS` (user name = label without hyphens: ``phochutich``,
    ``phochutichduc``, ``chutich``) linked to their Person rows; a clerk ``vanthu``;
    an auditor ``kiemtra``; an admin ``quantri`` — all members of ``body``. The
    province administrator is :func:`seed_demo_province_admin`.
    Idempotent: an existing account is reused as it is (its password is not reset)
    and only missing memberships and person links are added.
    """
    missing = [label for label in DEMO_SIGNERS if label not in people_by_label]
    if missing:
        raise ValueError(f"demo signers missing from people_by_label: {', '.join(missing)}")
    drafter = people_by_label.get(DEMO_DRAFTER)
    plan: list[tuple[str, str, Role, Person | None]] = [
        ("chuyenvien", drafter.full_name if drafter else "Chuyên viên (demo)", Role.DRAFTER,
         drafter)]
    for label in DEMO_SIGNERS:
        signer = people_by_label[label]
        plan.append((label.replace("-", ""), signer.full_name, Role.SIGNER, signer))
    plan += [("vanthu", "Văn thư (demo)", Role.CLERK, None),
             ("kiemtra", "Kiểm tra (demo)", Role.AUDITOR, None),
             ("quantri", "Quản trị (demo)", Role.ADMIN, None)]

    logins = []
    for username, display_name, role, person in plan:
        password = demo_password(username)
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(session, username, password, display_name, person=person,
                               email=f"{username}@{DEMO_MAIL_DOMAIN}", hasher=hasher)
        elif person is not None and user.person_id is None:
            user.person = person
        grant(session, user, body, role)
        description = f"{role.value} ({role.english})"
        if person is not None:
            description += f" — {person.position} {person.full_name}"
        logins.append((username, password, description))
    session.flush()
    return logins


def seed_demo_province_admin(session: Session, *, hasher: PasswordHasher = DEFAULT_HASHER
                             ) -> tuple[str, str, str]:
    """The demo's province administrator ``quantritinh`` (member of no body; it manages
    the province-wide trust anchors): (user name, password, role description).
    Idempotent: an existing account keeps its password and gets the flag."""
    user = session.scalar(select(User).where(User.username == DEMO_PROVINCE_ADMIN))
    if user is None:
        user = create_user(session, DEMO_PROVINCE_ADMIN, demo_password(DEMO_PROVINCE_ADMIN),
                           "Quản trị cấp tỉnh (demo)",
                           email=f"{DEMO_PROVINCE_ADMIN}@{DEMO_MAIL_DOMAIN}", hasher=hasher)
    user.province_admin = True
    session.flush()
    return (DEMO_PROVINCE_ADMIN, demo_password(DEMO_PROVINCE_ADMIN),
            "Quản trị cấp tỉnh (province administrator) — CA tin cậy toàn tỉnh")


__all__ = [
    "DEMO_DRAFTER",
    "DEMO_MAIL_DOMAIN",
    "DEMO_PROVINCE_ADMIN",
    "DEMO_SIGNERS",
    "demo_password",
    "seed_demo_accounts",
    "seed_demo_province_admin",
]
