"""Trust is scoped per body: a CA one commune's administrator adds is trusted only for that
commune; province-wide CAs only a province administrator adds, and they count everywhere.

Over HTTP with the real app (in-process, on a real database: SQLite and PostgreSQL), two
communes and a province administrator; the CAs and signers are made here with
cryptography, the PDFs signed with pyHanko. Commune B's CA X "vouches" for a forged
"UBND xã Tiên Lữ" certificate: B trusts X, commune A (the real Tiên Lữ) must not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509 as pyca
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.datadir import DataDir
from api.demo.accounts import seed_demo_province_admin
from api.settings import Settings
from api.trust import IMPORT_ACTOR, import_trust_folder, operator_trust
from certs import DEMO_MARKER, load_certificates
from documents import (
    OPERATOR,
    AuditAction,
    AuditEvent,
    FileStore,
    Organisation,
    OrganisationKind,
    Role,
    Scope,
    TrustAnchor,
    add_anchor,
    create_engine_for,
    create_user,
    ensure_link,
    grant,
    new_draft,
    session_factory,
    trust_for,
    upgrade_database,
)

from .conftest import TESTS_DATA
from .support.databases import throwaway_postgres

DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"
UNTRUSTED_VI = "không xác minh được chứng thư tới CA tin cậy"
PASSWORD = "mat-khau-thu-nghiem"


# --- a small PKI of our own ----------------------------------------------------------------

@dataclass
class Pki:
    """A self-signed CA and one signer certified by it."""

    ca_pem: bytes
    ca_subject: str
    key_pem: bytes
    cert_pem: bytes


def _name(cn: str, org: str) -> pyca.Name:
    return pyca.Name([pyca.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      pyca.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      pyca.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(ca_name: str, signer_name: str) -> Pki:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = _name(ca_name, "Thử nghiệm phạm vi tin cậy")
    ca = (pyca.CertificateBuilder().subject_name(ca_subject).issuer_name(ca_subject)
          .public_key(ca_key.public_key()).serial_number(pyca.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
          .add_extension(pyca.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(pyca.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(pyca.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (pyca.CertificateBuilder().subject_name(_name(signer_name, "UBND xã Tiên Lữ"))
            .issuer_name(ca_subject).public_key(key.public_key())
            .serial_number(pyca.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=90))
            .add_extension(pyca.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(pyca.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(pyca.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return Pki(ca.public_bytes(serialization.Encoding.PEM), ca_subject.rfc4514_string(),
               key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()),
               cert.public_bytes(serialization.Encoding.PEM))


def sign_with(pki: Pki, folder: Path) -> bytes:
    """The sample draft signed by ``pki``'s signer (pyHanko, B-B), validated against a
    context trusting ``pki``'s CA before it is used."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "key.pem").write_bytes(pki.key_pem)
    (folder / "cert.pem").write_bytes(pki.cert_pem)
    (folder / "ca.pem").write_bytes(pki.ca_pem)
    signer = signers.SimpleSigner.load(str(folder / "key.pem"), str(folder / "cert.pem"),
                                       ca_chain_files=(str(folder / "ca.pem"),))
    assert signer is not None
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(DRAFT.read_bytes())),
                           signers.PdfSignatureMetadata(field_name="KySo_Thu"), signer=signer)
    pdf: bytes = out.getvalue()
    (ca,) = load_certificates(pki.ca_pem, "ca.pem")
    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0],
        ValidationContext(trust_roots=[ca], allow_fetching=False, revocation_mode="soft-fail"))
    assert status.intact and status.valid and status.trusted
    return pdf


# --- the site: two communes and a province administrator ------------------------------------

@dataclass
class Site:
    client: TestClient
    sessions: sessionmaker[Session]
    data: DataDir
    a: int  # "UBND xã Tiên Lữ", the real one
    b: int  # "UBND xã Hưng Đạo", whose admin adds CA X
    code_a: str
    code_b: str
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def verify(self, who: str, pdf: bytes, **params: Any) -> dict[str, Any]:
        answer = self.client.post("/api/v1/verify", headers=self.as_(who), params=params,
                                  files=[("files", ("van-ban.pdf", pdf, "application/pdf"))])
        assert answer.status_code == 200, answer.text
        report: dict[str, Any] = answer.json()[0]
        return report

    def trusted(self, who: str, pdf: bytes, **params: Any) -> bool:
        (sig,) = self.verify(who, pdf, **params)["signatures"]
        return bool(sig["trusted"])

    def public(self, code: str, pdf: bytes) -> str:
        page = self.client.post(f"/v/{code}", files={"file": ("van-ban.pdf", pdf,
                                                              "application/pdf")})
        assert page.status_code == 200, page.text
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))

    def auditor_page(self, who: str, pdf: bytes) -> str:
        """The web auditor page's verification (``/kiem-tra/xac-minh``), as the browser
        posts it (session cookie + CSRF header), its text."""
        from api.web.security import session_token

        secret = self.client.app.state.services.settings.secret_key  # type: ignore[attr-defined]
        token = self.tokens[who]
        answer = self.client.post("/kiem-tra/xac-minh", headers={
            "Cookie": f"kyso_session={token}", "X-CSRF-Token": session_token(secret, token),
            "HX-Request": "true"}, files=[("files", ("van-ban.pdf", pdf, "application/pdf"))])
        assert answer.status_code == 200, answer.text
        return html.unescape(html.unescape(answer.text))

    def add(self, who: str, pem: bytes, **form: str) -> Any:
        return self.client.post("/api/v1/admin/trust-anchors", headers=self.as_(who),
                                data=form, files={"file": ("ca.pem", pem, "application/x-pem")})

    def listing(self, who: str) -> list[dict[str, Any]]:
        answer = self.client.get("/api/v1/admin/trust-anchors", headers=self.as_(who))
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()
        return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of each kind for the module (PostgreSQL skipped when unreachable,
    as the other database tests do)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('trust-db') / 'kyso.db'}"
        return
    with throwaway_postgres("kyso_trust") as url:
        yield url


def _account(session: Session, username: str, body: Organisation | None,
             *roles: Role) -> None:
    user = create_user(session, username, PASSWORD, username)
    for role in roles:
        assert body is not None
        grant(session, user, body, role)


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from api.http.app import create_app

    data = DataDir(tmp_path_factory.mktemp("trust-scope") / "data").create()
    upgrade_database(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    store = FileStore(data.files)
    with sessions() as session, session.begin():
        bodies = []
        for name, place in (("UBND xã Tiên Lữ", "Tiên Lữ"), ("UBND xã Hưng Đạo", "Hưng Đạo")):
            body = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name=name,
                                abbreviation="UBND", place_name=place)
            session.add(body)
            session.flush()
            bodies.append(body)
        a, b = bodies
        _account(session, "quantri-a", a, Role.ADMIN)
        _account(session, "kiemtra-a", a, Role.AUDITOR)
        _account(session, "quantri-b", b, Role.ADMIN)
        _account(session, "kiemtra-b", b, Role.AUDITOR)
        seed_demo_province_admin(session)
        codes = []
        for body in (a, b):
            draft = new_draft(session, store, body, "quyet-dinh", "Về việc thử phạm vi tin cậy",
                              DRAFT.read_bytes())
            codes.append(ensure_link(session, draft).code)
        ids = (a.id, b.id)
    app = create_app(Settings(data_dir=data.root, database_url=database_url,
                              public_verify_limit=1000))
    with TestClient(app) as client:
        tokens = {}
        for who, password in [(u, PASSWORD) for u in
                              ("quantri-a", "kiemtra-a", "quantri-b", "kiemtra-b")] + [
                                  ("quantritinh", "quantritinh-demo")]:
            answer = client.post("/api/v1/auth/login",
                                 json={"username": who, "password": password})
            assert answer.status_code == 200, answer.text
            tokens[who] = answer.json()["token"]
        client.cookies.clear()  # each request says who it is
        yield Site(client, sessions, data, ids[0], ids[1], codes[0], codes[1], tokens)
    engine.dispose()


@pytest.fixture(scope="module")
def x(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pki, bytes]:
    """CA X (commune B's) and a PDF its forged "UBND xã Tiên Lữ" certificate signed."""
    pki = make_pki("CA X của xã Hưng Đạo", "UBND xã Tiên Lữ")
    return pki, sign_with(pki, tmp_path_factory.mktemp("x"))


def _trail(site: Site, sha256: str) -> list[dict[str, Any]]:
    """The audit events of every anchor row of this certificate, oldest first."""
    with site.sessions() as session:
        ids = [str(i) for i in session.scalars(select(TrustAnchor.id).where(
            TrustAnchor.sha256 == sha256))]
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.ADMIN_CHANGE,
            AuditEvent.object_type == "trust_anchor", AuditEvent.object_id.in_(ids))
            .order_by(AuditEvent.seq))
        return [{"actor": e.actor, "body_id": e.body_id, **json.loads(e.details)}
                for e in events]


# --- the tests -----------------------------------------------------------------------------

def test_a_communes_ca_is_trusted_only_for_that_commune(site: Site, x: tuple[Pki, bytes]) -> None:
    pki, pdf = x
    # before: nobody trusts X
    assert not site.trusted("kiemtra-b", pdf) and not site.trusted("kiemtra-a", pdf)

    added = site.add("quantri-b", pki.ca_pem)
    assert added.status_code == 201, added.text
    (entry,) = added.json()["added"]
    assert entry["scope"] == "body" and entry["body_id"] == site.b

    # B's auditor: trusted, anchored at X; A's auditor, in the same process right after
    # (same shared OCSP/CRL cache), and before again: not trusted
    report_b = site.verify("kiemtra-b", pdf)
    (sig,) = report_b["signatures"]
    assert sig["trusted"] is True and "CA X" in sig["trust_anchor"]
    assert sig["trust_anchor_origin"] == "admin"
    report_a = site.verify("kiemtra-a", pdf)
    (sig_a,) = report_a["signatures"]
    assert sig_a["trusted"] is False and report_a["verdict"] != "valid"
    assert UNTRUSTED_VI in json.dumps(report_a, ensure_ascii=False)
    assert site.trusted("kiemtra-b", pdf)

    # the public pages: B's own document's page trusts X, A's does not
    page_a = site.public(site.code_a, pdf)
    page_b = site.public(site.code_b, pdf)
    assert UNTRUSTED_VI in page_a
    assert UNTRUSTED_VI not in page_b and "CA X" in page_b

    # the web auditor page: the same answer for each body
    assert UNTRUSTED_VI in site.auditor_page("kiemtra-a", pdf)
    assert UNTRUSTED_VI not in site.auditor_page("kiemtra-b", pdf)

    # B's auditor asking for A's trust explicitly is refused (not a member)
    refused = site.client.post("/api/v1/verify", headers=site.as_("kiemtra-b"),
                               params={"body_id": site.a},
                               files=[("files", ("v.pdf", pdf, "application/pdf"))])
    assert refused.status_code == 404

    # listings: A's admin does not see X; B's admin sees it with its scope; the province
    # administrator sees it too
    sha = entry["sha256"]
    assert sha not in {row["sha256"] for row in site.listing("quantri-a")}
    mine = next(row for row in site.listing("quantri-b") if row["sha256"] == sha)
    assert mine["scope"] == "body" and mine["body"] == "UBND xã Hưng Đạo"
    assert mine["added_by"] == "quantri-b"
    assert sha in {row["sha256"] for row in site.listing("quantritinh")}
    scopes = {row["scope"] for row in site.listing("quantri-a")}
    assert "bundled" in scopes and "body" not in scopes

    # a demo CA is refused as before; a bundled root is not added again
    demo = site.add("quantri-b", make_pki(f"Root CA {DEMO_MARKER}", "Ai đó").ca_pem)
    assert demo.status_code == 422 and "demo" in demo.json()["error"]["en"]
    bundle = Path(__file__).resolve().parent.parent / "certs/data/trust/bundle-roots.pem"
    again = site.add("quantri-b", bundle.read_bytes())
    assert again.status_code == 201 and again.json()["added"] == []
    assert {a["scope"] for a in again.json()["already"]} == {"bundled"}

    # A's admin cannot add it for B, nor remove it
    assert site.add("quantri-a", pki.ca_pem, body_id=str(site.b)).status_code == 404
    assert site.client.delete(f"/api/v1/admin/trust-anchors/{entry['id']}",
                              headers=site.as_("quantri-a")).status_code == 404

    # B's admin removes it: no longer trusted, the removal is in the audit trail
    removed = site.client.delete(f"/api/v1/admin/trust-anchors/{entry['id']}",
                                 headers=site.as_("quantri-b"))
    assert removed.status_code == 200, removed.text
    assert not site.trusted("kiemtra-b", pdf)
    assert sha not in {row["sha256"] for row in site.listing("quantri-b")}
    trail = _trail(site, sha)
    assert [(e["actor"], e.get("added"), e.get("removed")) for e in trail] == [
        ("quantri-b", True, None), ("quantri-b", None, True)]
    assert {e["body_id"] for e in trail} == {site.b}
    with site.sessions() as session:  # the row is kept as history
        row = session.scalars(select(TrustAnchor).where(TrustAnchor.sha256 == sha)).one()
        assert row.removed_by == "quantri-b" and row.removed_at is not None


def test_only_a_province_administrator_adds_a_province_wide_ca(
        site: Site, tmp_path_factory: pytest.TempPathFactory) -> None:
    pki = make_pki("CA Y của tỉnh", "UBND xã Hưng Đạo")
    pdf = sign_with(pki, tmp_path_factory.mktemp("y"))

    refused = site.add("quantri-a", pki.ca_pem, scope="province")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert "quản trị cấp tỉnh" in error["vi"] and "province administrator" in error["en"]
    assert not site.trusted("kiemtra-a", pdf)

    added = site.add("quantritinh", pki.ca_pem, scope="province")
    assert added.status_code == 201, added.text
    (entry,) = added.json()["added"]
    assert entry["scope"] == "province" and entry["body_id"] is None
    assert site.trusted("kiemtra-a", pdf) and site.trusted("kiemtra-b", pdf)
    assert UNTRUSTED_VI not in site.public(site.code_a, pdf)
    for admin in ("quantri-a", "quantri-b"):
        row = next(r for r in site.listing(admin) if r["sha256"] == entry["sha256"])
        assert row["scope"] == "province"

    # a commune admin cannot remove it; the province administrator can
    assert site.client.delete(f"/api/v1/admin/trust-anchors/{entry['id']}",
                              headers=site.as_("quantri-a")).status_code == 403
    assert site.trusted("kiemtra-a", pdf)
    assert site.client.delete(f"/api/v1/admin/trust-anchors/{entry['id']}",
                              headers=site.as_("quantritinh")).status_code == 200
    assert not site.trusted("kiemtra-a", pdf) and not site.trusted("kiemtra-b", pdf)
    assert [(e["actor"], e["scope"], e.get("removed", False))
            for e in _trail(site, entry["sha256"])] == [
        ("quantritinh", "province", False), ("quantritinh", "province", True)]


def test_signing_contexts_and_the_operator_trust_what_the_body_trusts(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """The validation contexts a body's own signing uses (``Signing.for_body``: B-LT
    embedding, archive renewal, the worker's acts) and ``kyso verify`` (bundled +
    province, ``--body`` adds one body's)."""
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import PathBuildingError

    from documents import Signing

    pki = make_pki("CA Z của xã Hưng Đạo", "Người ký thử")
    (ca,) = load_certificates(pki.ca_pem, "ca.pem")
    (leaf,) = load_certificates(pki.cert_pem, "leaf.pem")
    base = site.data.trust_store()
    signing = Signing(trust=base)
    with site.sessions() as session, session.begin():
        body_b = session.get_one(Organisation, site.b)
        add_anchor(session, ca, Scope(body_b), actor="quantri-b", province_admin=False)
    with site.sessions() as session:
        for body_id, trusted in ((site.b, True), (site.a, False)):
            context = signing.for_body(session, body_id).validation_context
            validator = CertificateValidator(leaf, validation_context=context)
            if trusted:
                path = asyncio.run(validator.async_validate_path())
                assert path.trust_anchor.authority.name == ca.subject
            else:
                with pytest.raises(PathBuildingError):
                    asyncio.run(validator.async_validate_path())
        assert trust_for(session, base, [site.a]).find(ca) is None
        assert trust_for(session, base, [site.b]).find(ca) is not None

    with site.sessions() as session:
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("KYSO_DATABASE_URL", url)
    assert operator_trust(site.data).find(ca) is None
    assert operator_trust(site.data, "UBND xã Hưng Đạo").find(ca) is not None
    assert operator_trust(site.data, str(site.b)).find(ca) is not None
    assert operator_trust(site.data, str(site.a)).find(ca) is None


def test_the_old_global_trust_folder_becomes_province_wide_once(site: Site) -> None:
    legacy = make_pki("CA cũ do quản trị thêm", "Người ký cũ")
    removed = make_pki("CA đã gỡ", "Người ký đã gỡ")
    (legacy_ca,) = load_certificates(legacy.ca_pem, "legacy.pem")
    (removed_ca,) = load_certificates(removed.ca_pem, "removed.pem")
    with site.sessions() as session, session.begin():  # a body's CA, since removed
        body_b = session.get_one(Organisation, site.b)
        anchor, _ = add_anchor(session, removed_ca, Scope(body_b), actor="quantri-b",
                               province_admin=False)
        anchor.removed_at, anchor.removed_by = dt.datetime.now(dt.UTC), "quantri-b"
    bundle = Path(__file__).resolve().parent.parent / "certs/data/trust/bundle-roots.pem"
    site.data.trust.mkdir(exist_ok=True)
    (site.data.trust / "legacy.pem").write_bytes(legacy.ca_pem)
    (site.data.trust / "removed.pem").write_bytes(removed.ca_pem)
    (site.data.trust / "neac.pem").write_bytes(bundle.read_bytes())

    assert import_trust_folder(site.data, site.sessions) == 1
    assert site.data.legacy_trust_files() == []
    assert sorted(p.name for p in (site.data.trust / "imported").iterdir()) == [
        "legacy.pem", "neac.pem", "removed.pem"]
    base = site.data.trust_store()
    with site.sessions() as session:
        rows = session.scalars(select(TrustAnchor).where(
            TrustAnchor.added_by == IMPORT_ACTOR)).all()
        assert [(r.sha256, r.body_id) for r in rows] == [
            (hashlib.sha256(legacy_ca.dump()).hexdigest(), None)]
        # the imported one is province-wide: trusted for both bodies; the removed body CA
        # did not come back (nor became province-wide); bundled roots were not duplicated
        for body_id in (site.a, site.b):
            store = trust_for(session, base, [body_id])
            assert store.find(legacy_ca) is not None and store.find(removed_ca) is None
        assert len(trust_for(session, base).anchors) == len(base.anchors) + 1
    trail = _trail(site, rows[0].sha256)
    assert [(e["actor"], e["scope"]) for e in trail] == [(IMPORT_ACTOR, "province")]

    (site.data.trust / "legacy.pem").write_bytes(legacy.ca_pem)  # again: nothing new
    assert import_trust_folder(site.data, site.sessions) == 0


def test_the_operator_makes_a_province_administrator(site: Site) -> None:
    from typer.testing import CliRunner

    from api.cli.main import app

    with site.sessions() as session:
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
    env = {"KYSO_DATABASE_URL": url}
    runner = CliRunner()
    made = runner.invoke(app, ["--data-dir", str(site.data.root), "accounts", "province-admin",
                               "quantri-a"], env=env)
    assert made.exit_code == 0, made.output
    # the flag is read per request: past the province check, the empty file is refused
    assert site.add("quantri-a", b"", scope="province").status_code == 422
    taken = runner.invoke(app, ["--data-dir", str(site.data.root), "accounts", "province-admin",
                                "quantri-a", "--off"], env=env)
    assert taken.exit_code == 0, taken.output
    assert site.add("quantri-a", b"", scope="province").status_code == 403
    unknown = runner.invoke(app, ["--data-dir", str(site.data.root), "accounts",
                                  "province-admin", "khong-co-ai"], env=env)
    assert unknown.exit_code != 0
    with site.sessions() as session:
        user_id = session.scalar(select(AuditEvent.object_id).where(
            AuditEvent.object_type == "user", AuditEvent.actor == OPERATOR).limit(1))
        changes = [json.loads(e.details)["after"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "user",
                                     AuditEvent.object_id == user_id,
                                     AuditEvent.actor == OPERATOR).order_by(AuditEvent.seq))]
    assert changes == [{"province_admin": True}, {"province_admin": False}]
