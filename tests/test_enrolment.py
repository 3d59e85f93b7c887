"""A certificate is checked against the trust store (and its CA's OCSP) before it is bound
to a person, and again before the holder is asked for a PIN."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.datadir import DataDir
from api.demo.demo import provision
from certs import DemoPki, Origin, TrustStore, serving, validation_context
from documents import (
    AuditAction,
    AuditEvent,
    CertificateMismatch,
    Person,
    SignerCertificate,
    check_before_pin,
    enrol_certificate,
    register_certificate,
)
from documents.accounts import Role, create_user, grant
from documents.golive import approval_certificate
from signer import CertificateExpired, CertificateRevoked, CertificateUntrusted

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    add_authority,
    commune_fixture,
    db_fixture,
    new_document,
    postgres_url_fixture,
    sqlite_template_fixture,
)
from .support.fresh_pki import Holder, build_fresh_pki


@pytest.fixture(scope="module")
def pki(data: DataDir) -> Iterator[DemoPki]:
    """The demo PKI (a valid, an expired and a revoked holder), its OCSP responder up."""
    with serving(provision(data.softhsm, data.pki).pki) as served:
        yield served


def trusting(pki: DemoPki) -> TrustStore:
    store = TrustStore()
    store.add(pki.root, Origin.DEMO, "test")
    store.extend(pki.chain, Origin.DEMO, "test")
    return store


def bound_to(db: Database, commune: Commune, cert: x509.Certificate) -> int:
    """A person whose signing authority names ``cert``; their id."""
    name = next(iter(commune.people))
    with db.Session() as session:
        authority = add_authority(session, commune, name)
        authority.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        session.commit()
        return authority.person_id


def enrol(db: Database, person_id: int, cert: x509.Certificate, store: TrustStore) -> None:
    with db.Session() as session:
        enrol_certificate(session, session.get_one(Person, person_id), cert,
                          validation_context(store, online=True), actor="quantri")
        session.commit()


def kept(db: Database, cert: x509.Certificate) -> bool:
    with db.Session() as session:
        return session.get(SignerCertificate, hashlib.sha256(cert.dump()).hexdigest()) \
            is not None


def test_a_valid_certificate_is_kept_with_its_chain_and_the_act_audited(
        db: Database, commune: Commune, pki: DemoPki) -> None:
    cert = pki.cert("chu-tich")
    person_id = bound_to(db, commune, cert)
    with db.Session() as session:
        facts = enrol_certificate(session, session.get_one(Person, person_id), cert,
                                  validation_context(trusting(pki), online=True),
                                  actor="quantri")
        session.commit()
    assert "Nguyễn Văn Hùng" in facts.subject
    assert facts.serial == format(cert.serial_number, "X")
    assert facts.chain[-1].dump() == pki.root.dump()
    with db.Session() as session:
        row = session.get_one(SignerCertificate, facts.sha256)
        assert [c.dump() for c in row.chain][-1] == pki.root.dump()
        assert session.query(AuditEvent).filter_by(
            action=AuditAction.ADMIN_CHANGE, object_id=facts.sha256).count() == 1


@pytest.mark.parametrize(("label", "refusal", "words"), [
    ("het-han", CertificateExpired, "hết hạn"),
    ("thu-hoi", CertificateRevoked, "thu hồi"),
])
def test_an_expired_or_revoked_certificate_is_refused_and_nothing_kept(
        db: Database, commune: Commune, pki: DemoPki, label: str,
        refusal: type[Exception], words: str) -> None:
    cert = pki.cert(label)
    person_id = bound_to(db, commune, cert)
    with pytest.raises(refusal) as refused:
        enrol(db, person_id, cert, trusting(pki))
    assert words in str(refused.value)
    assert not kept(db, cert)


def test_a_certificate_from_a_ca_outside_the_trust_store_is_refused(
        db: Database, commune: Commune, pki: DemoPki, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    foreign = build_fresh_pki(tmp_path / "pki", [
        Holder("la", "Người Lạ", "UBND xã Khác", "Văn phòng", key)])
    cert = foreign.cert("la")
    person_id = bound_to(db, commune, cert)
    with pytest.raises(CertificateUntrusted):
        enrol(db, person_id, cert, trusting(pki))
    assert not kept(db, cert)


def test_a_valid_certificate_not_registered_for_the_person_is_refused(
        db: Database, commune: Commune, pki: DemoPki) -> None:
    person_id = bound_to(db, commune, pki.cert("chu-tich"))
    with pytest.raises(CertificateMismatch):
        enrol(db, person_id, pki.cert("pho-chu-tich-duc"), trusting(pki))


def test_before_the_pin_a_certificate_that_ran_out_since_enrolment_is_refused(
        db: Database, commune: Commune, pki: DemoPki) -> None:
    cert = pki.cert("chu-tich")
    person_id = bound_to(db, commune, cert)
    enrol(db, person_id, cert, trusting(pki))
    not_after = cert["tbs_certificate"]["validity"]["not_after"].native
    context = validation_context(trusting(pki), online=False)
    with db.Session() as session:
        authority = add_authority(session, commune, next(iter(commune.people)))
        authority.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        today = check_before_pin(session, authority, context, at=datetime.now(UTC))
        assert today is not None and today.not_after == not_after
        with pytest.raises(CertificateExpired):
            check_before_pin(session, authority, context, at=not_after + timedelta(days=1))


def test_before_the_pin_a_certificate_kyso_has_not_seen_is_left_to_the_agent(
        db: Database, commune: Commune, pki: DemoPki) -> None:
    with db.Session() as session:
        authority = add_authority(session, commune, next(iter(commune.people)))
        assert check_before_pin(session, authority,
                                validation_context(trusting(pki), online=False)) is None


@pytest.mark.parametrize(("label", "refused"), [("chu-tich", False), ("thu-hoi", True)])
def test_approving_checks_the_signers_certificate_before_the_pin(
        db: Database, commune: Commune, pki: DemoPki, label: str, refused: bool) -> None:
    store = trusting(pki)
    cert = pki.cert(label)
    with db.Session() as session:
        authority = add_authority(session, commune, "chu-tich")
        authority.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        person = session.get_one(Person, commune.people["chu-tich"])
        # registered earlier, when it was still good: the registration is not re-checked
        register_certificate(session, person, cert, pki.chain, actor="quantri")
        user = create_user(session, "chutich.tl", "mat-khau-rat-dai-2026", person.full_name,
                           person=person)
        grant(session, user, person.body, Role.SIGNER)
        document = new_document(session, commune)
        context = validation_context(store, online=True)
        if refused:
            with pytest.raises(CertificateRevoked, match="thu hồi"):
                approval_certificate(session, user, document, context)
        else:
            facts = approval_certificate(session, user, document, context)
            assert facts is not None and facts.sha256 == authority.certificate_sha256


def test_before_the_pin_the_chain_registered_with_the_certificate_builds_its_path(
        db: Database, commune: Commune, pki: DemoPki) -> None:
    """The store trusts only the root; the intermediate came with the certificate (from the
    token or the remote service) and is what links the two."""
    assert pki.chain, "the demo PKI has an intermediate CA"
    cert = pki.cert("chu-tich")
    only_root = TrustStore()
    only_root.add(pki.root, Origin.DEMO, "test")
    context = validation_context(only_root, online=False)
    with db.Session() as session:
        authority = add_authority(session, commune, "chu-tich")
        authority.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        person = session.get_one(Person, commune.people["chu-tich"])
        register_certificate(session, person, cert, [], actor="quantri")
        with pytest.raises(CertificateUntrusted):  # nothing links the leaf to the root
            check_before_pin(session, authority, context)
        register_certificate(session, person, cert, pki.chain, actor="quantri")
        facts = check_before_pin(session, authority, validation_context(only_root,
                                                                          online=False))
        assert facts is not None and facts.chain[-1].dump() == pki.root.dump()
