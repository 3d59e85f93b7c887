"""Key custody: which key makes which signature, and who caused it.

No request names a key. The key of an act follows from who acts, for which body, in
which act (the idea of Keyfactor SignServer's workers, each bound to the clients
authorised to use it):

- **approval** (a person's signature): the key bound to that person's signing
  authority for the document (:func:`documents.authority.find_authority`), used only
  when the acting account *is* that person, holds the SIGNER role in the document's
  body and is the document's next signer (:func:`approval_custody`);
- **issue, attachment, copy** (the body's signature): the body's organisation key in
  force that day (:class:`OrganisationKey`), used only when the acting account is a
  records clerk of that body (:func:`issuing_custody`).

A certificate, a server token name and a remote credential (``remote:<name>``) belong
to one holder: one person (of one body), or one body's seal. :func:`check_person_binding`
and :func:`check_seal_binding` refuse to bind them elsewhere (the administration
routes and the demo seeding call them; migration 0010's triggers refuse the same in
the database). ``agent`` is a channel, not a key: each person's certificate tells
their keys apart.

Before a server-side token signs, :func:`check_token` compares the certificate the
open token holds with the bound one (a tokens.json entry pointing the seal at a
personal key signs nothing). :meth:`Custody.audit` is what every signature's audit
event records of who caused it.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date

from pyhanko.sign.signers import Signer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from common import today_in_vietnam
from signer import signer_certificate

from .accounts import Role, User, require_role
from .audit import AuditAction, record
from .authority import find_authority
from .errors import (
    KeyHeldElsewhere,
    KeyNotOnServer,
    NoOrganisationKey,
    NoSigningAuthority,
    NotTheApprover,
    SealChannelRefused,
    WrongKeyOnToken,
)
from .models import (
    AGENT_CHANNEL,
    REMOTE_PREFIX,
    Document,
    Organisation,
    OrganisationKey,
    Person,
    SigningAuthority,
)
from .pictures import seal_of


class Act(enum.Enum):
    """The signing acts; the value is the Vietnamese name."""

    APPROVAL = "ký phê duyệt"
    ISSUE = "ban hành"
    ATTACHMENT = "ký số phụ lục"
    COPY = "sao văn bản điện tử"


#: The acts signed with the body's organisation key, by one of its clerks.
ISSUING_ACTS = (Act.ISSUE, Act.ATTACHMENT, Act.COPY)


class Channel(enum.Enum):
    """Where a key is: a server-side token, the signer's PC (agent), a remote service."""

    SERVER = "server"
    AGENT = "agent"
    REMOTE = "remote"


def channel_of_token(token_name: str) -> Channel:
    if token_name == AGENT_CHANNEL:
        return Channel.AGENT
    if token_name.startswith(REMOTE_PREFIX):
        return Channel.REMOTE
    return Channel.SERVER


def queue_for(token_name: str) -> str:
    """The Celery queue of a server-side token: only its host's workers consume it."""
    return f"token.{token_name}"


@dataclass(frozen=True)
class Custody:
    """The key one act signs with, and who caused the act."""

    act: Act
    body_id: int
    certificate_sha256: str
    token_name: str
    #: the account that started the act (None: the local command line, ``kyso demo``)
    account: str | None
    account_id: int | None
    #: the person whose signature it is (approvals); None for the body's signature
    person_id: int | None
    authority_id: int | None = None
    organisation_key_id: int | None = None

    @property
    def channel(self) -> Channel:
        return channel_of_token(self.token_name)

    @property
    def queue(self) -> str:
        return queue_for(self.token_name)

    def audit(self) -> dict[str, object]:
        """Who caused the signature, for its audit event."""
        return {"act": self.act.name, "account": self.account, "account_id": self.account_id,
                "person_id": self.person_id, "body_id": self.body_id,
                "certificate_sha256": self.certificate_sha256,
                "channel": self.channel.value, "token": self.token_name}


# --- which key ------------------------------------------------------------------------------

def seal_key(session: Session, body: Organisation, *, on: date | None = None) -> OrganisationKey:
    """The body's organisation key in force on ``on`` (default: today in Vietnam); of
    several, the one that took over last (latest ``valid_from``)."""
    day = on or today_in_vietnam()
    keys = session.scalars(select(OrganisationKey).where(
        OrganisationKey.body_id == body.id,
        or_(OrganisationKey.valid_from.is_(None), OrganisationKey.valid_from <= day),
        or_(OrganisationKey.valid_until.is_(None), OrganisationKey.valid_until >= day),
    ).order_by(OrganisationKey.id)).all()
    if not keys:
        raise NoOrganisationKey(body.name, day.isoformat())
    return max(keys, key=lambda k: (k.valid_from or date.min, k.id))


def approval_key(session: Session, document: Document, person: Person, *,
                 on: date | None = None) -> SigningAuthority:
    """The signing authority (certificate and token) under which ``person`` signs
    ``document``; :class:`NoSigningAuthority` when there is none."""
    authority = find_authority(session, person, document.body, document.doc_type,
                               document.unit, on=on)
    if authority is None:
        raise NoSigningAuthority(person.full_name, document.doc_type.name, document.body.name)
    return authority


def approval_custody(session: Session, account: User, document: Document, *,
                     person_id: int | None = None, server: bool = True) -> Custody:
    """The key of ``account``'s approval signature on ``document``, after checking that
    the account is the person whose signature is next: its own person (and
    ``person_id``, when the caller names one), a SIGNER of the document's body, the
    current signer in the queue. ``server``: the key must be on a server-side token
    (:class:`KeyNotOnServer` otherwise: the agent or the remote service signs it)."""
    from .queue import current_signer  # the queue imports the acts that import this module

    require_role(session, account, document.body, Role.SIGNER)
    person = account.person
    current = current_signer(session, document)
    expected = current.full_name if current is not None else "—"
    if person is None or (person_id is not None and person_id != person.id) \
            or current is None or current.id != person.id:
        raise NotTheApprover(account.username, expected)
    authority = approval_key(session, document, person)
    if server and channel_of_token(authority.token_name) is not Channel.SERVER:
        raise KeyNotOnServer(person.full_name, authority.token_name)
    return Custody(Act.APPROVAL, document.body_id, authority.certificate_sha256,
                   authority.token_name, account.username, account.id, person.id,
                   authority_id=authority.id)


def person_custody(authority: SigningAuthority, *, account: str | None = None,
                   account_id: int | None = None) -> Custody:
    """The custody record of an approval already checked elsewhere (hash-only jobs, whose
    actor was checked when the approval started; the demo's command line)."""
    return Custody(Act.APPROVAL, authority.body_id, authority.certificate_sha256,
                   authority.token_name, account, account_id, authority.person_id,
                   authority_id=authority.id)


def issuing_custody(session: Session, account: User | None, body: Organisation, act: Act, *,
                    on: date | None = None) -> Custody:
    """The key of ``body``'s own ``act`` (issue, attachment, copy), after checking that
    ``account`` is a records clerk of that body. ``account`` None: the local command line
    (``kyso demo``), which holds the data directory and its tokens anyway."""
    if act not in ISSUING_ACTS:
        raise ValueError(f"{act} is not an issuing act")
    if account is not None:
        require_role(session, account, body, Role.CLERK)
    if act is Act.ISSUE:
        seal_of(session, body)  # a body without its seal picture cannot issue: say so now
    key = seal_key(session, body, on=on)
    return Custody(act, body.id, key.certificate_sha256, key.token_name,
                   account.username if account else None, account.id if account else None,
                   None, organisation_key_id=key.id)


def check_token(custody: Custody, signer: Signer) -> None:
    """Refuse an open token whose certificate is not the bound one (pyHanko ``Signer``)."""
    found = hashlib.sha256(signer_certificate(signer).dump()).hexdigest()
    if found != custody.certificate_sha256:
        raise WrongKeyOnToken(custody.token_name, custody.certificate_sha256, found)


# --- one holder per key ---------------------------------------------------------------------

def _fingerprint(value: str) -> str:
    return value.replace(":", "").replace(" ", "").lower()


def check_person_binding(session: Session, person: Person, certificate_sha256: str,
                         token_name: str, *, authority: SigningAuthority | None = None) -> None:
    """Refuse to bind ``certificate_sha256`` / ``token_name`` to ``person`` when another
    person holds it or it is a body's seal (``authority``: the row being changed)."""
    fingerprint = _fingerprint(certificate_sha256)
    others = select(SigningAuthority).where(SigningAuthority.person_id != person.id)
    if authority is not None and authority.id is not None:
        others = others.where(SigningAuthority.id != authority.id)
    if session.scalar(others.where(SigningAuthority.certificate_sha256 == fingerprint)
                      .limit(1)) is not None \
            or session.scalar(select(OrganisationKey.id).where(
                OrganisationKey.certificate_sha256 == fingerprint).limit(1)) is not None:
        raise KeyHeldElsewhere("chứng thư số", "certificate", fingerprint)
    if token_name == AGENT_CHANNEL:
        return
    if session.scalar(others.where(SigningAuthority.token_name == token_name)
                      .limit(1)) is not None \
            or session.scalar(select(OrganisationKey.id).where(
                OrganisationKey.token_name == token_name).limit(1)) is not None:
        raise KeyHeldElsewhere("thiết bị ký", "token", token_name)


def check_seal_binding(session: Session, body: Organisation, certificate_sha256: str,
                       token_name: str, *, key: OrganisationKey | None = None) -> None:
    """Refuse to make ``certificate_sha256`` / ``token_name`` ``body``'s seal when a person
    holds it, another body's seal uses it, or it is not a server-side token."""
    fingerprint = _fingerprint(certificate_sha256)
    if channel_of_token(token_name) is not Channel.SERVER:
        raise SealChannelRefused(token_name)
    other_keys = select(OrganisationKey.id)
    if key is not None and key.id is not None:
        other_keys = other_keys.where(OrganisationKey.id != key.id)
    if session.scalar(other_keys.where(OrganisationKey.certificate_sha256 == fingerprint)
                      .limit(1)) is not None \
            or session.scalar(select(SigningAuthority.id).where(
                SigningAuthority.certificate_sha256 == fingerprint).limit(1)) is not None:
        raise KeyHeldElsewhere("chứng thư số", "certificate", fingerprint)
    if session.scalar(other_keys.where(OrganisationKey.token_name == token_name,
                                       OrganisationKey.body_id != body.id)
                      .limit(1)) is not None \
            or session.scalar(select(SigningAuthority.id).where(
                SigningAuthority.token_name == token_name).limit(1)) is not None:
        raise KeyHeldElsewhere("thiết bị ký", "token", token_name)


def bind_seal(session: Session, body: Organisation, certificate_sha256: str, token_name: str,
              *, valid_from: date | None = None, valid_until: date | None = None,
              actor: str | None = None) -> OrganisationKey:
    """Register ``body``'s organisation certificate and the server token holding its key
    (a replacement takes over from ``valid_from``); audited as an ADMIN_CHANGE."""
    check_seal_binding(session, body, certificate_sha256, token_name)
    key = OrganisationKey(body=body, certificate_sha256=certificate_sha256,
                          token_name=token_name, valid_from=valid_from,
                          valid_until=valid_until, created_by=actor)
    session.add(key)
    session.flush()
    record(session, AuditAction.ADMIN_CHANGE, actor=actor, body_id=body.id,
           object_type="organisation_key", object_id=str(key.id),
           details={"certificate_sha256": key.certificate_sha256, "token_name": token_name,
                    "valid_from": valid_from, "valid_until": valid_until})
    return key
