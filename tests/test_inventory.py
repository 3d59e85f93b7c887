"""Who holds which key: the certificates in use, their holders, keys and expiry warnings."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from openpyxl import load_workbook

from api.exports import certificates_xlsx
from documents import (
    AuditAction,
    CertificateInUse,
    Channel,
    Designation,
    ExpiryWarning,
    KeyRole,
    OrganisationKey,
    Person,
    certificates_in_use,
    expiry_warning,
    record,
    register_certificate,
)

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    add_authority,
    commune_fixture,
    db_fixture,
    postgres_url_fixture,
    sqlite_template_fixture,
)

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def certificate(name: str, not_after: datetime) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "CA thử nghiệm")])
    cert = (cx509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(0xABC123)
            .not_valid_before(not_after - timedelta(days=730)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@pytest.mark.parametrize(("days", "step"), [
    (90, None), (60.5, None), (59, ExpiryWarning.DAYS_60), (30, ExpiryWarning.DAYS_30),
    (8, ExpiryWarning.DAYS_30), (7, ExpiryWarning.DAYS_7), (0.5, ExpiryWarning.DAYS_7),
    (0, ExpiryWarning.EXPIRED), (-3, ExpiryWarning.EXPIRED)])
def test_the_warning_steps_are_60_30_and_7_days(days: float, step: ExpiryWarning | None) -> None:
    assert expiry_warning(NOW + timedelta(days=days), NOW) is step


def three_keys(db: Database, commune: Commune) -> tuple[str, list[CertificateInUse]]:
    """A deputy on the agent whose certificate ends in 20 days, a signer on a remote
    service not registered yet, and the body's seal on a server token."""
    soon = certificate("Lê Minh Đức", NOW + timedelta(days=20))
    people = list(commune.people)
    with db.Session() as session:
        deputy = add_authority(session, commune, people[0], designation=Designation.KT,
                               on_behalf_of="CHỦ TỊCH")
        deputy.certificate_sha256 = hashlib.sha256(soon.dump()).hexdigest()
        deputy.token_name = "agent"
        other = add_authority(session, commune, people[1])
        other.token_name = "remote:mysign"
        session.add(OrganisationKey(body_id=commune.body_id, certificate_sha256="cd" * 32,
                                    token_name="ubnd"))
        session.flush()
        register_certificate(session, session.get_one(Person, commune.people[people[0]]), soon,
                             actor="quantri")
        record(session, AuditAction.SIGN, actor=people[0], body_id=commune.body_id,
               object_type="document", object_id="d1",
               details={"caused_by": {"certificate_sha256": deputy.certificate_sha256}})
        session.commit()
        holder = session.get_one(Person, commune.people[people[0]]).full_name
        rows = certificates_in_use(session, [commune.body_id], now=NOW)

    return holder, rows


def test_every_key_in_use_is_listed_with_its_holder_and_where_it_is(
        db: Database, commune: Commune) -> None:
    holder, rows = three_keys(db, commune)

    assert len(rows) == 3
    first = rows[0]  # the soonest expiry first
    assert (first.holder, first.capacity, first.role, first.channel) == (
        holder, "KT. CHỦ TỊCH", KeyRole.PERSON, Channel.AGENT)
    assert first.issuer is not None and "CA thử nghiệm" in first.issuer
    assert first.serial == "ABC123" and first.warning is ExpiryWarning.DAYS_30
    assert first.last_used is not None and "kyso agent" in first.key_location
    by_role = {(r.role, r.channel): r for r in rows[1:]}
    remote = by_role[(KeyRole.PERSON, Channel.REMOTE)]
    assert not remote.registered and remote.last_used is None and "mysign" in remote.key_location
    seal = by_role[(KeyRole.BODY, Channel.SERVER)]
    assert seal.holder == seal.body and "ubnd" in seal.key_location


def test_another_bodys_keys_are_not_listed(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        add_authority(session, commune, next(iter(commune.people)))
        session.commit()
        assert certificates_in_use(session, [commune.body_id + 1000], now=NOW) == []
        assert len(certificates_in_use(session, [commune.body_id], now=NOW)) == 1


def test_the_export_lists_each_key_with_dates_as_dates_and_warnings_in_words(
        db: Database, commune: Commune) -> None:
    holder, rows = three_keys(db, commune)
    sheet = load_workbook(io.BytesIO(certificates_xlsx(rows, title="Chứng thư số — UBND"))
                          ).active
    assert sheet["A1"].value == "Chứng thư số — UBND"
    assert [c.value for c in sheet[2]][:3] == ["Người/cơ quan giữ", "Cơ quan", "Loại"]
    first = [c.value for c in sheet[3]]
    assert first[0] == holder and first[6] == "ABC123"
    assert first[8] == datetime(2026, 12, 22) and sheet["I3"].number_format == "DD/MM/YYYY"
    assert first[10] == "hết hạn trong 30 ngày"
    assert "chưa đăng ký" in str([c.value for c in sheet[4]] + [c.value for c in sheet[5]])
    assert sheet.max_row == 5
