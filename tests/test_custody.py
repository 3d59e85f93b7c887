"""Key custody at the use-case level: every signing act × every role × own or other body ×
every kind of key, against real databases (SQLite and PostgreSQL) and, where a cell
signs, real SoftHSM tokens and the demo TSA.

The acts are the Celery tasks themselves (api.worker.tasks), called in this process with
a runtime whose tokens are the demo commune's: they take the document and the acting
account, and resolve the key through documents.custody. A cell that may sign, signs
with the key the custody says and the file validates; every other cell is refused with
a bilingual error and leaves the database as it was (versions, numbers, register,
statuses, audit trail, jobs).

Key kinds: ``personal`` (a person's server token), ``organisation`` (the body's seal
token), ``agent`` (the signer's PC), ``remote`` (a CSC credential). For an approval the
kind is that of the signer's authority; for an issuing act that of the body's seal. A
binding the custody forbids (a person on the seal token, a seal on a personal token, a
seal on the agent or a remote channel) is refused by documents.custody AND by the
database triggers of migration 0010: that cell ends there.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.cli.operations import verify_document
from api.datadir import DataDir
from api.demo.art import appendix_pdf, handwritten_signature, seal
from api.demo.commune import demo_people, seed
from api.demo.demo import DEMO_PIN, DemoCommune
from api.worker import tasks
from common import KysoError
from documents import (
    Designation,
    Document,
    DocumentStatus,
    DocumentVersion,
    FileStore,
    IssueDetails,
    KeyHeldElsewhere,
    KeyNotOnServer,
    NotTheApprover,
    NumberBook,
    Organisation,
    OrganisationKey,
    OrganisationKind,
    Person,
    RegisterEntry,
    SealChannelRefused,
    Signing,
    SigningAuthority,
    SigningJob,
    VersionKind,
    WrongKeyOnToken,
    approval_custody,
    approve,
    bind_seal,
    check_person_binding,
    check_seal_binding,
    issue,
    prepare,
    register_issue,
)
from documents.accounts import Forbidden, Role, User, create_user, grant
from documents.audit import AuditAction, AuditEvent
from documents.custody import Act, seal_key
from documents.models import NumberCounter
from documents.numbering import book_for
from documents.queue import approve_request, route

from .conftest import TESTS_DATA
from .documents_fixtures import (  # noqa: F401
    Database,
    db_fixture,
    postgres_url_fixture,
    sqlite_template_fixture,
)

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"
SIGNER = "Lê Minh Đức"
ROLES = ("drafter", "signer", "clerk", "auditor", "admin")
BODIES = ("own", "other")
KINDS = ("personal", "organisation", "agent", "remote")
ACTS = (Act.APPROVAL, Act.ISSUE, Act.ATTACHMENT, Act.COPY)
ROLE = {"drafter": Role.DRAFTER, "signer": Role.SIGNER, "clerk": Role.CLERK,
        "auditor": Role.AUDITOR, "admin": Role.ADMIN}
#: The token each kind of key means here.
APPROVAL_TOKEN = {"personal": "pho-chu-tich-duc", "organisation": "ubnd", "agent": "agent",
                  "remote": "remote:csc-tinh"}
SEAL_TOKEN = {"organisation": "ubnd", "personal": "pho-chu-tich-duc", "agent": "agent",
              "remote": "remote:csc-tinh"}


def allowed(act: Act, role: str, body: str, kind: str) -> bool:
    """The cells that sign: the next signer's own approval with their server token; a
    clerk of the body with the body's seal."""
    if act is Act.APPROVAL:
        return (role, body, kind) == ("signer", "own", "personal")
    return (role, body, kind) == ("clerk", "own", "organisation")


@dataclass(frozen=True)
class Pdfs:
    """Real files of one document's life, made once: prepared, approved, issued."""

    prepared: bytes
    approved: bytes
    issued: bytes


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory, data: DataDir,
         commune: DemoCommune) -> Pdfs:
    from documents import create_engine_for, session_factory, upgrade_database

    root = tmp_path_factory.mktemp("custody-pdfs")
    url = f"sqlite:///{root / 'kyso.db'}"
    upgrade_database(url)
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    store = FileStore(root / "files")
    signing = Signing(tsa_url=commune.pki.tsa_url)
    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        from documents import new_draft

        document = new_draft(session, store, body, "quyet-dinh", "Về việc thử nghiệm",
                             DRAFT.read_bytes())
        prepare(session, store, document)
        doc_id = document.id
        prepared = store.get(session.scalars(select(DocumentVersion.sha256).where(
            DocumentVersion.kind == VersionKind.PREPARED)).one())
    with data.token("pho-chu-tich-duc").signer(DEMO_PIN) as hand, sessions() as session, \
            session.begin():
        person = session.scalars(select(Person).where(Person.full_name == SIGNER)).one()
        approved = approve(session, store, session.get_one(Document, doc_id), person, hand,
                           handwritten_signature(), signing)
    with data.token("ubnd").signer(DEMO_PIN) as body_signer, sessions() as session, \
            session.begin():
        _, issued = issue(session, store, session.get_one(Document, doc_id), body_signer,
                          seal(), IssueDetails(issued_date=date.today(),
                                               signer_full_name=SIGNER,
                                               signer_position="Phó Chủ tịch"), signing)
    engine.dispose()
    return Pdfs(prepared, approved, issued)


@dataclass
class World:
    """The two communes in one database: Tiên Lữ (the demo, real keys) and Hưng Đạo."""

    db: Database
    store: FileStore
    body_id: int
    other_id: int
    #: (role, "own" | "other") → account id
    accounts: dict[tuple[str, str], int]
    signer_id: int


@pytest.fixture
def world(db: Database, tmp_path: Path, commune: DemoCommune) -> World:
    with db.Session() as session, session.begin():
        body = seed(session, commune.pki)
        people = demo_people(session, body)
        other = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name="UBND xã Hưng Đạo",
                             abbreviation="UBND", place_name="Hưng Đạo")
        their_signer = Person(body=other, full_name="Hoàng Văn Nam", position="Phó Chủ tịch")
        session.add_all([other, their_signer])
        session.flush()
        session.add(SigningAuthority(
            person=their_signer, body=other, designation=Designation.NONE, all_types=True,
            certificate_sha256=hashlib.sha256(b"hung-dao-pct").hexdigest(),
            token_name="hung-dao-pct"))
        bind_seal(session, other, hashlib.sha256(b"hung-dao-seal").hexdigest(), "hung-dao-seal")
        accounts = {}
        for where, organisation, signer in (("own", body, people["pho-chu-tich-duc"]),
                                            ("other", other, their_signer)):
            for role in ROLES:
                account = create_user(session, f"{role}-{where}", "mat-khau-thu-nghiem",
                                      f"{role} {where}", hasher=FAST,
                                      person=signer if role == "signer" else None)
                grant(session, account, organisation, ROLE[role])
                accounts[role, where] = account.id
        world = World(db, FileStore(tmp_path / "files"), body.id, other.id, accounts,
                      people["pho-chu-tich-duc"].id)
    return world


def stage(world: World, pdfs: Pdfs, act: Act) -> str:
    """A Tiên Lữ document at the step ``act`` needs, with real files."""
    store = world.store
    with world.db.Session() as session, session.begin():
        body = session.get_one(Organisation, world.body_id)
        document = Document(body=body, doc_type_code="quyet-dinh", subject="Về việc thử nghiệm",
                            status=DocumentStatus.PREPARED)
        session.add(document)
        session.flush()

        def version(kind: VersionKind, pdf: bytes, **extra: Any) -> None:
            session.add(DocumentVersion(document=document, kind=kind, sha256=store.put(pdf),
                                        size=len(pdf), **extra))

        version(VersionKind.PREPARED, pdfs.prepared)
        signer = session.get_one(Person, world.signer_id)
        if act is Act.APPROVAL:
            (request,) = route(session, document, [signer], actor="chuyên viên")
            approve_request(session, request, actor=SIGNER)
        else:
            version(VersionKind.APPROVED, pdfs.approved, signer_id=signer.id)
            document.status = DocumentStatus.SIGNED
        if act in (Act.ATTACHMENT, Act.COPY):
            version(VersionKind.ISSUED, pdfs.issued)
            session.flush()
            register_issue(session, document, book_for(session, body, document.doc_type),
                           IssueDetails(issued_date=date.today(), signer_full_name=SIGNER,
                                        signer_position="Phó Chủ tịch"))
            document.status = DocumentStatus.ISSUED
        return document.id


def snapshot(session: Session) -> dict[str, Any]:
    """Everything an act could leave behind."""
    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return {"versions": count(DocumentVersion), "entries": count(RegisterEntry),
            "documents": sorted((d.id, d.status.name) for d in session.scalars(select(Document))),
            "counters": sorted((c.book_id, c.year, c.value)
                               for c in session.scalars(select(NumberCounter))),
            "events": count(AuditEvent), "jobs": count(SigningJob),
            "keys": sorted((k.body_id, k.certificate_sha256, k.token_name)
                           for k in session.scalars(select(OrganisationKey))),
            "authorities": sorted((a.id, a.person_id, a.certificate_sha256, a.token_name)
                                  for a in session.scalars(select(SigningAuthority)))}


@contextlib.contextmanager
def runtime(world: World, data: DataDir, commune: DemoCommune,
            tokens: Callable[[str], str] = lambda name: name) -> Iterator[list[str]]:
    """api.worker.tasks configured for this world; ``tokens`` maps a token name to the
    tokens.json entry that opens (a mis-set tokens.json). Yields the names opened."""
    opened: list[str] = []

    @contextlib.contextmanager
    def signer_for(name: str) -> Iterator[Any]:
        opened.append(name)
        with data.token(tokens(name)).signer(DEMO_PIN) as signer:
            yield signer

    tasks.configure(tasks.Runtime(
        sessions=world.db.Session, store=world.store, signer_for=signer_for,
        signing=Signing(tsa_url=commune.pki.tsa_url), seal_for=lambda d: seal(),
        signature_image_for=lambda p: handwritten_signature()))
    yield opened


def run_act(world: World, act: Act, document_id: str, account_id: int) -> str:
    if act is Act.APPROVAL:
        return str(tasks.sign_approval(document_id, world.signer_id, account_id))
    if act is Act.ISSUE:
        return str(tasks.issue_document(document_id, account_id, "Như Điều 3; Lưu: VT."))
    if act is Act.ATTACHMENT:
        sha256 = world.store.put(appendix_pdf("Phụ lục kèm theo Quyết định"))
        return str(tasks.attach(document_id, account_id, sha256, "phu-luc.pdf"))
    return str(tasks.copy_document(document_id, account_id, "SAO_Y", "k-" + document_id[:8]))


def bind(world: World, act: Act, kind: str) -> None:
    """Give the act's holder a key of ``kind``; a binding custody forbids raises."""
    with world.db.Session() as session, session.begin():
        body = session.get_one(Organisation, world.body_id)
        if act is Act.APPROVAL:
            authority = session.scalars(select(SigningAuthority).where(
                SigningAuthority.person_id == world.signer_id)).one()
            check_person_binding(session, authority.person, authority.certificate_sha256,
                                 APPROVAL_TOKEN[kind], authority=authority)
            authority.token_name = APPROVAL_TOKEN[kind]
        else:
            key = seal_key(session, body)
            check_seal_binding(session, body, key.certificate_sha256, SEAL_TOKEN[kind], key=key)
            key.token_name = SEAL_TOKEN[kind]


def forced_binding_refused(world: World, act: Act, kind: str) -> None:
    """The database refuses the same binding written without the custody checks."""
    with world.db.Session() as session, pytest.raises(IntegrityError):
        if act is Act.APPROVAL:
            session.execute(update(SigningAuthority).where(
                SigningAuthority.person_id == world.signer_id).values(
                    token_name=APPROVAL_TOKEN[kind]))
        else:
            session.execute(update(OrganisationKey).where(
                OrganisationKey.body_id == world.body_id).values(token_name=SEAL_TOKEN[kind]))
        session.flush()


def signer_sha256(pdf: bytes) -> str:
    from pyhanko.pdf_utils.reader import PdfFileReader

    last = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    return hashlib.sha256(last.signer_cert.dump()).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("act", ACTS, ids=lambda a: a.name.lower())
def test_only_the_allowed_cells_sign(act: Act, role: str, body: str, kind: str, world: World,
                                     pdfs: Pdfs, data: DataDir, commune: DemoCommune) -> None:
    document_id = stage(world, pdfs, act)
    with world.db.Session() as session:
        before = snapshot(session)
    forbidden_binding = (act is Act.APPROVAL and kind == "organisation") or \
        (act is not Act.APPROVAL and kind != "organisation")
    if forbidden_binding:
        expected = KeyHeldElsewhere if kind in ("organisation", "personal") \
            else SealChannelRefused
        with pytest.raises(expected) as refused:
            bind(world, act, kind)
        assert refused.value.vi and refused.value.en
        forced_binding_refused(world, act, kind)
        with world.db.Session() as session:
            assert snapshot(session) == before
        return
    bind(world, act, kind)
    with world.db.Session() as session:
        before = snapshot(session)
    account_id = world.accounts[role, body]
    with runtime(world, data, commune) as opened:
        if not allowed(act, role, body, kind):
            with pytest.raises(KysoError) as refusal:
                run_act(world, act, document_id, account_id)
            assert isinstance(refusal.value, (Forbidden, NotTheApprover, KeyNotOnServer)), \
                refusal.value
            assert refusal.value.vi and refusal.value.en
            assert opened == []  # no token was even opened
            with world.db.Session() as session:
                assert snapshot(session) == before
            return
        run_act(world, act, document_id, account_id)
    with world.db.Session() as session:
        after = snapshot(session)
        assert after["versions"] > before["versions"]
        kind_made = {Act.APPROVAL: VersionKind.APPROVED, Act.ISSUE: VersionKind.ISSUED,
                     Act.ATTACHMENT: VersionKind.ATTACHMENT, Act.COPY: VersionKind.COPY}[act]
        made = session.scalars(select(DocumentVersion).where(
            DocumentVersion.kind == kind_made).order_by(DocumentVersion.id.desc())).first()
        assert made is not None
        pdf = world.store.get(made.sha256)
        if act is Act.APPROVAL:
            bound = session.scalars(select(SigningAuthority.certificate_sha256).where(
                SigningAuthority.person_id == world.signer_id)).one()
        else:
            bound = seal_key(session, session.get_one(Organisation, world.body_id)
                             ).certificate_sha256
        assert opened == [APPROVAL_TOKEN[kind] if act is Act.APPROVAL else "ubnd"]
        caused = [e.details_dict["caused_by"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(
                (AuditAction.SIGN, AuditAction.SEAL, AuditAction.ATTACH, AuditAction.COPY)))
            .order_by(AuditEvent.seq.desc()))][0]
    assert signer_sha256(pdf) == bound == hashlib.sha256(commune.pki.cert(
        "pho-chu-tich-duc" if act is Act.APPROVAL else "ubnd").dump()).hexdigest()
    assert verify_document(data, pdf).verdict == "valid"
    assert caused == {"act": act.name, "account": f"{role}-{body}",
                      "account_id": world.accounts[role, body],
                      "person_id": world.signer_id if act is Act.APPROVAL else None,
                      "body_id": world.body_id, "certificate_sha256": bound,
                      "channel": "server", "token": opened[0]}


@pytest.mark.parametrize("kind", ["agent", "remote"])
def test_a_key_off_the_server_is_resolved_for_its_own_channel(
        kind: str, world: World, pdfs: Pdfs) -> None:
    """The approval of a signer whose key is on their PC or a remote service: the server
    task refuses (above); the same resolution gives the channel the job goes to."""
    document_id = stage(world, pdfs, Act.APPROVAL)
    bind(world, Act.APPROVAL, kind)
    with world.db.Session() as session:
        account = session.get_one(User, world.accounts["signer", "own"])
        custody = approval_custody(session, account, session.get_one(Document, document_id),
                                   server=False)
        assert (custody.channel.value, custody.token_name) == (kind, APPROVAL_TOKEN[kind])
        other = session.get_one(User, world.accounts["signer", "other"])
        with pytest.raises(Forbidden):
            approval_custody(session, other, session.get_one(Document, document_id),
                             server=False)


def test_another_signer_of_the_body_cannot_sign_in_the_next_signers_place(
        world: World, pdfs: Pdfs, data: DataDir, commune: DemoCommune) -> None:
    """The attack "a signer signs with anyone's key": the Chairman (a SIGNER of Tiên Lữ
    with his own key) starts the signature of a document waiting for Lê Minh Đức."""
    document_id = stage(world, pdfs, Act.APPROVAL)
    with world.db.Session() as session, session.begin():
        chair = session.scalars(select(Person).where(
            Person.full_name == "Nguyễn Văn Hùng")).one()
        account = create_user(session, "chutich-thu", "mat-khau-thu-nghiem", "Chủ tịch",
                              person=chair, hasher=FAST)
        grant(session, account, world.body_id, Role.SIGNER)
        chair_account = account.id
    with world.db.Session() as session:
        before = snapshot(session)
    with runtime(world, data, commune) as opened:
        with pytest.raises(NotTheApprover) as refused:
            tasks.sign_approval(document_id, world.signer_id, chair_account)
        assert "Lê Minh Đức" in refused.value.vi
        with world.db.Session() as session:
            chair_id = session.scalars(select(Person.id).where(
                Person.full_name == "Nguyễn Văn Hùng")).one()
        with pytest.raises(NotTheApprover):  # naming himself changes nothing
            tasks.sign_approval(document_id, chair_id, chair_account)
        assert opened == []
    with world.db.Session() as session:
        assert snapshot(session) == before


def test_a_seal_token_holding_a_personal_key_signs_nothing(
        world: World, pdfs: Pdfs, data: DataDir, commune: DemoCommune) -> None:
    """tokens.json's "ubnd" entry pointing at Lê Minh Đức's key: refused at signing."""
    with world.db.Session() as session:
        before_any = snapshot(session)
    for act in (Act.ISSUE, Act.ATTACHMENT, Act.COPY):
        document_id = stage(world, pdfs, act)
        with world.db.Session() as session:
            before = snapshot(session)
        with runtime(world, data, commune, tokens=lambda name: "pho-chu-tich-duc"
                     if name == "ubnd" else name) as opened:
            with pytest.raises(WrongKeyOnToken) as refused:
                run_act(world, act, document_id, world.accounts["clerk", "own"])
            assert opened == ["ubnd"]
        assert "tokens.json" in refused.value.vi and "tokens.json" in refused.value.en
        with world.db.Session() as session:
            assert snapshot(session) == before
    assert before_any["versions"] < before["versions"]  # the staged documents only


def test_keys_are_not_shared_between_holders(world: World) -> None:
    """The attack "keys are shared across communes", and its variants: a certificate or
    token of one holder bound to another person, another body's seal, or a person's
    authority on a seal — refused by custody, and by the database."""
    with world.db.Session() as session:
        before = snapshot(session)
        duc = session.get_one(Person, world.signer_id)
        duc_authority = session.scalars(select(SigningAuthority).where(
            SigningAuthority.person_id == duc.id)).one()
        their = session.scalars(select(Person).where(Person.full_name == "Hoàng Văn Nam")).one()
        other = session.get_one(Organisation, world.other_id)
        body = session.get_one(Organisation, world.body_id)
        seal_cert = seal_key(session, body).certificate_sha256
        # another commune's person on Đức's certificate, or his token
        with pytest.raises(KeyHeldElsewhere) as refused:
            check_person_binding(session, their, duc_authority.certificate_sha256, "x")
        assert "Lê Minh Đức" not in refused.value.vi  # names nobody of the other commune
        with pytest.raises(KeyHeldElsewhere):
            check_person_binding(session, their, "cd" * 32, duc_authority.token_name)
        with pytest.raises(KeyHeldElsewhere):  # a person on a seal's certificate
            check_person_binding(session, their, seal_cert, "y")
        with pytest.raises(KeyHeldElsewhere):  # another body's seal on Tiên Lữ's
            check_seal_binding(session, other, seal_cert, "z")
        with pytest.raises(KeyHeldElsewhere):
            check_seal_binding(session, other, "ef" * 32, "ubnd")
        with pytest.raises(KeyHeldElsewhere):  # a seal on a person's certificate
            check_seal_binding(session, other, duc_authority.certificate_sha256, "w")
        # agent is a channel, not a key: two people may both sign through their agents
        check_person_binding(session, their, "cd" * 32, "agent")
    for values in ({"certificate_sha256": duc_authority.certificate_sha256,
                    "token_name": "x"},
                   {"certificate_sha256": "cd" * 32, "token_name": duc_authority.token_name},
                   {"certificate_sha256": seal_cert, "token_name": "y"}):
        with world.db.Session() as session, pytest.raises(IntegrityError):
            session.add(SigningAuthority(person_id=their.id, body_id=world.other_id,
                                         all_types=True, **values))
            session.flush()
    for values in ({"certificate_sha256": seal_cert, "token_name": "z"},
                   {"certificate_sha256": "ef" * 32, "token_name": "ubnd"},
                   {"certificate_sha256": duc_authority.certificate_sha256, "token_name": "w"},
                   {"certificate_sha256": "ab" * 32, "token_name": "agent"}):
        with world.db.Session() as session, pytest.raises(IntegrityError):
            session.add(OrganisationKey(body_id=world.other_id, **values))
            session.flush()
    with world.db.Session() as session:
        assert snapshot(session) == before


def test_a_replacement_seal_takes_over_from_its_date(world: World) -> None:
    with world.db.Session() as session, session.begin():
        body = session.get_one(Organisation, world.body_id)
        old = seal_key(session, body)
        old.valid_until = date(2027, 6, 30)
        new = bind_seal(session, body, "12" * 32, "ubnd", valid_from=date(2027, 7, 1),
                        actor="quantri")
        assert seal_key(session, body, on=date(2027, 6, 30)).id == old.id
        assert seal_key(session, body, on=date(2027, 7, 1)).id == new.id
        # the same body may keep its token for the new certificate; nobody else may use it
        with pytest.raises(KeyHeldElsewhere):
            check_seal_binding(session, session.get_one(Organisation, world.other_id),
                               "34" * 32, "ubnd")


def test_the_issue_and_copy_dates_are_the_day_of_the_organisation_signature(
        world: World, pdfs: Pdfs, data: DataDir, commune: DemoCommune) -> None:
    from common import vietnam_time

    document_id = stage(world, pdfs, Act.ISSUE)
    with runtime(world, data, commune):
        tasks.issue_document(document_id, world.accounts["clerk", "own"])
        copy_id = tasks.copy_document(document_id, world.accounts["clerk", "own"], "SAO_Y",
                                      "ngay")
    with world.db.Session() as session:
        for doc in (document_id, copy_id):
            entry = session.get_one(Document, doc).register_entry
            assert entry is not None
            version = session.scalars(select(DocumentVersion).where(
                DocumentVersion.document_id == doc, DocumentVersion.kind.in_(
                    (VersionKind.ISSUED, VersionKind.COPY)))).one()
            pdf = world.store.get(version.sha256)
            from pyhanko.pdf_utils.reader import PdfFileReader

            signed_at = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1] \
                .self_reported_timestamp
            assert signed_at is not None
            assert entry.issued_date == vietnam_time(signed_at).date()
        book = session.scalars(select(NumberBook).where(NumberBook.code == "ban-sao")).one()
        assert book is not None


def test_an_agent_signature_records_who_caused_it(
        world: World, pdfs: Pdfs, data: DataDir, commune: DemoCommune) -> None:
    """The allowed agent cell end to end in this process: the signer's own approval makes
    a job for his certificate, his token signs the digest, the job is finished; the SIGN
    event says who caused it and through which channel."""
    from documents import accept_signature, create_job, register_certificate

    document_id = stage(world, pdfs, Act.APPROVAL)
    bind(world, Act.APPROVAL, "agent")
    with world.db.Session() as session, session.begin():
        account = session.get_one(User, world.accounts["signer", "own"])
        document = session.get_one(Document, document_id)
        custody = approval_custody(session, account, document, server=False)
        authority = session.get_one(SigningAuthority, custody.authority_id)
        register_certificate(session, authority.person, commune.pki.cert("pho-chu-tich-duc"),
                             commune.pki.chain)
        job_id = create_job(session, document, authority.person, authority, "lo-1",
                            actor=account.username).id
    with runtime(world, data, commune) as opened:
        assert tasks.prepare_signing_job(job_id) == "READY"
        with world.db.Session() as session, session.begin():
            job = session.get_one(SigningJob, job_id)
            with data.token("pho-chu-tich-duc").digest_signer(DEMO_PIN) as key:
                raw = key.sign_digest(bytes.fromhex(job.digest or ""), algorithm=job.algorithm)
            accept_signature(session, job, raw)
        assert tasks.finish_signing_job(job_id) == "DONE"
        assert opened == []  # the server opened no token
    with world.db.Session() as session:
        (event,) = session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.SIGN, AuditEvent.object_id == document_id)).all()
        approved = session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == document_id,
            DocumentVersion.kind == VersionKind.APPROVED)).one()
        pdf = world.store.get(approved.sha256)
    assert event.details_dict["caused_by"] == {
        "act": "APPROVAL", "account": "signer-own", "account_id": world.accounts["signer", "own"],
        "person_id": world.signer_id, "body_id": world.body_id,
        "certificate_sha256": custody.certificate_sha256, "channel": "agent", "token": "agent"}
    assert signer_sha256(pdf) == custody.certificate_sha256
    assert verify_document(data, pdf).verdict == "valid"
