"""The DEMO PKI of the demo commune "UBND xã Tiên Lữ" (Phú Thọ). NOT A REAL CA.

Built with certomancer: a root and an intermediate that mimic the Government
special-use hierarchy (each labelled DEMO — NOT A REAL CA), a TSA, an OCSP
responder and CRLs, and the certificates of the commune's officials and of the
UBND itself. The officials' keys live on tokens: this module only ever sees
their public keys, so the private keys never leave the token. The CA, TSA and
OCSP keys are generated here, into the PKI's own folder.

Everything is written under one folder (``pki/`` of a data directory)::

    kyso-pki.yml      certomancer configuration
    pki.json          what Kyso needs to know (port, labels, officials)
    keys/             CA/TSA/OCSP private keys, officials' public keys
    certs/            every certificate, PEM
"""

from __future__ import annotations

import datetime as dt
import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from asn1crypto import pem, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import CertsError
from .trust import DEMO_MARKER

ARCH = "tien-lu"
COMMUNE = "UBND xã Tiên Lữ"
PROVINCE = "Phú Thọ"
ROOT_CN = f"{DEMO_MARKER} — RootCA chuyên dùng Chính phủ (Kyso demo)"
INTERM_CN = f"{DEMO_MARKER} — CA phục vụ các cơ quan Nhà nước (Kyso demo)"
DEMO_ORG = "Kyso DEMO — không phải Ban Cơ yếu Chính phủ"

KeyType = Literal["rsa", "ec"]
Status = Literal["valid", "expired", "revoked"]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Official:
    """A certificate holder of the demo commune: a person or the UBND itself."""

    label: str  # certificate, token and key label
    full_name: str  # common name: a person's name, or the body's name
    title: str  # position title as printed above the signature ("CHỦ TỊCH")
    unit: str  # managing unit (OU)
    is_organisation: bool = False
    key_type: KeyType = "rsa"
    status: Status = "valid"
    #: "token": the key is generated on a (SoftHSM) token and never leaves it;
    #: "file": a software key handed out as a PKCS#12 file (servers without an HSM).
    key_store: Literal["token", "file"] = "token"


#: The demo commune's certificate holders. The last two exist to show refusals.
OFFICIALS: tuple[Official, ...] = tuple(
    Official(
        label=o.label,
        full_name=nfc(o.full_name),
        title=nfc(o.title),
        unit=nfc(o.unit),
        is_organisation=o.is_organisation,
        key_type=o.key_type,
        status=o.status,
        key_store=o.key_store,
    )
    for o in (
        Official("chu-tich", "Nguyễn Văn Hùng", "Chủ tịch", "Ủy ban nhân dân"),
        Official("pho-chu-tich", "Trần Thị Thu Hà", "Phó Chủ tịch", "Ủy ban nhân dân",
                 key_type="ec"),
        Official("pho-chu-tich-duc", "Lê Minh Đức", "Phó Chủ tịch", "Ủy ban nhân dân"),
        Official("truong-phong-vhxh", "Lê Đức Thắng", "Trưởng phòng",
                 "Phòng Văn hóa - Xã hội"),
        Official("ubnd", COMMUNE, "Ủy ban nhân dân xã Tiên Lữ", "Văn phòng HĐND và UBND",
                 is_organisation=True),
        Official("chuyen-vien-vp", "Bùi Thị Lan", "Chuyên viên", "Văn phòng HĐND và UBND",
                 key_store="file"),
        Official("het-han", "Phạm Quốc Bảo", "Phó Trưởng phòng", "Phòng Kinh tế",
                 status="expired"),
        Official("thu-hoi", "Đỗ Minh Tuấn", "Chuyên viên", "Phòng Kinh tế",
                 status="revoked"),
    )
)


def official(label: str) -> Official:
    for o in OFFICIALS:
        if o.label == label:
            return o
    raise CertsError(f"không có người ký '{label}' trong PKI demo",
                     f"no signer '{label}' in the demo PKI")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _ku(*usages: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True,
            "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _leaf_extensions() -> list[dict[str, Any]]:
    return [
        _ku("digital_signature", "non_repudiation"),
        {"id": "crl_distribution_points",
         "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["interm"]}}},
        {"id": "authority_information_access",
         "smart-value": {"schema": "aia-urls", "params": {
             "ocsp-responder-names": ["interm"],
             "ca-issuer-links": [{"repo": "root", "include-repo-authority": False,
                                  "cert-labels": ["interm"]}]}}},
    ]


def _write_private_key(path: Path) -> None:
    if path.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path.chmod(0o600)


def _config(port: int, now: dt.datetime, public_keys: Mapping[str, str]) -> dict[str, Any]:
    keys: dict[str, Any] = {name: {"path": f"{name}.key.pem"}
                            for name in ("root", "interm", "tsa", "interm-ocsp")}
    for label in public_keys:
        keys[label] = {"path": f"{label}.pub.pem", "public-only": True}
    for o in OFFICIALS:
        if o.key_store == "file":
            keys[o.label] = {"path": f"{o.label}.key.pem"}

    ca_ext = [{"id": "basic_constraints", "critical": True, "value": {"ca": True}},
              _ku("digital_signature", "key_cert_sign", "crl_sign")]
    entities: dict[str, Any] = {
        "root": {"common-name": ROOT_CN, "organization-name": DEMO_ORG},
        "interm": {"common-name": INTERM_CN, "organization-name": DEMO_ORG},
        "tsa": {"common-name": f"{DEMO_MARKER} — Máy chủ cấp dấu thời gian (Kyso demo)",
                "organization-name": DEMO_ORG},
        "interm-ocsp": {"common-name": f"{DEMO_MARKER} — OCSP (Kyso demo)",
                        "organization-name": DEMO_ORG},
    }
    ten_years = dt.timedelta(days=3650)
    certs: dict[str, Any] = {
        "root": {"subject": "root", "issuer": "root",
                 "validity": {"valid-from": _iso(now - dt.timedelta(days=30)),
                              "valid-to": _iso(now + 2 * ten_years)},
                 "extensions": ca_ext},
        "interm": {"issuer": "root",
                   "validity": {"valid-from": _iso(now - dt.timedelta(days=30)),
                                "valid-to": _iso(now + ten_years)},
                   "extensions": [
                       {"id": "basic_constraints", "critical": True,
                        "value": {"ca": True, "path-len-constraint": 0}},
                       _ku("digital_signature", "key_cert_sign", "crl_sign"),
                       {"id": "crl_distribution_points", "smart-value": {
                           "schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}}},
                   ]},
        "tsa": {"issuer": "root",
                "validity": {"valid-from": _iso(now - dt.timedelta(days=30)),
                             "valid-to": _iso(now + ten_years)},
                "extensions": [
                    _ku("digital_signature"),
                    {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                    {"id": "crl_distribution_points", "smart-value": {
                        "schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}}},
                ]},
        "interm-ocsp": {"issuer": "interm",
                        "validity": {"valid-from": _iso(now - dt.timedelta(days=30)),
                                     "valid-to": _iso(now + ten_years)},
                        "extensions": [
                            _ku("digital_signature"),
                            {"id": "extended_key_usage", "critical": True,
                             "value": ["ocsp_signing"]},
                            {"id": "ocsp_no_check"},
                        ]},
    }
    for o in OFFICIALS:
        if o.label not in public_keys and o.key_store != "file":
            continue
        entity: dict[str, Any] = {"common-name": o.full_name,
                                  "organizational-unit-name": o.unit,
                                  "organization-name": COMMUNE,
                                  "state-or-province-name": PROVINCE}
        if not o.is_organisation:
            entity["title"] = o.title
        entities[o.label] = entity
        if o.status == "expired":
            validity = {"valid-from": _iso(now - dt.timedelta(days=400)),
                        "valid-to": _iso(now - dt.timedelta(days=35))}
        else:
            validity = {"valid-from": _iso(now - dt.timedelta(days=1)),
                        "valid-to": _iso(now + dt.timedelta(days=3 * 365))}
        spec: dict[str, Any] = {"subject": o.label, "subject-key": o.label, "issuer": "interm",
                                "validity": validity, "extensions": _leaf_extensions()}
        if o.status == "revoked":
            spec["revocation"] = {"revoked-since": _iso(now - dt.timedelta(minutes=5)),
                                  "reason": "key_compromise"}
        certs[o.label] = spec

    return {
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {ARCH: {"path-prefix": "keys", "keys": keys}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "VN"},
            "entities": entities,
            "certs": certs,
            "services": {
                "ocsp": {"interm": {"for-issuer": "interm", "responder-cert": "interm-ocsp",
                                    "signing-key": "interm-ocsp"}},
                "crl-repo": {
                    "root": {"for-issuer": "root", "signing-key": "root",
                             "simulated-update-schedule": "P90D"},
                    "interm": {"for-issuer": "interm", "signing-key": "interm",
                               "simulated-update-schedule": "P1D"},
                },
                "cert-repo": {"root": {"for-issuer": "root", "publish-issued-certs": True},
                              "interm": {"for-issuer": "interm",
                                         "publish-issued-certs": False}},
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
            },
        }},
    }


@dataclass(frozen=True)
class PkiInfo:
    port: int
    created: str
    officials: list[str]


class DemoPki:
    """A demo PKI on disk: its certificates and the URLs of its services."""

    CONFIG = "kyso-pki.yml"
    INFO = "pki.json"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            raw = json.loads((directory / self.INFO).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CertsError(f"chưa có PKI demo trong {directory}",
                             f"no demo PKI in {directory}") from exc
        self.info = PkiInfo(**raw)

    @classmethod
    def exists(cls, directory: Path) -> bool:
        return (directory / cls.INFO).is_file() and (directory / cls.CONFIG).is_file()

    @classmethod
    def create(cls, directory: Path, port: int, public_keys: Mapping[str, bytes]) -> DemoPki:
        """Generate the PKI for the officials whose public keys (PEM) are given."""
        keys_dir = directory / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        file_keyed = [o.label for o in OFFICIALS if o.key_store == "file"]
        for name in ("root", "interm", "tsa", "interm-ocsp", *file_keyed):
            _write_private_key(keys_dir / f"{name}.key.pem")
        for label, pub in public_keys.items():
            official(label)  # refuse unknown labels early
            (keys_dir / f"{label}.pub.pem").write_bytes(pub)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        config = _config(port, now, {k: "" for k in public_keys})
        (directory / cls.CONFIG).write_text(
            yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        info = PkiInfo(port=port, created=now.isoformat(),
                       officials=[*public_keys, *file_keyed])
        (directory / cls.INFO).write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
        pki = cls(directory)
        pki.dump_certificates()
        return pki

    def certomancer_config(self) -> Any:
        from certomancer.registry import CertomancerConfig

        return CertomancerConfig.from_file(str(self.directory / self.CONFIG),
                                           key_search_dir=str(self.directory))

    def architecture(self) -> Any:
        from certomancer.registry import ArchLabel

        return self.certomancer_config().get_pki_arch(ArchLabel(ARCH))

    def dump_certificates(self) -> None:
        from certomancer.registry import CertLabel

        arch = self.architecture()
        out = self.directory / "certs"
        out.mkdir(exist_ok=True)
        labels = ["root", "interm", "tsa", "interm-ocsp", *self.info.officials]
        for label in labels:
            cert = arch.get_cert(CertLabel(label))
            (out / f"{label}.cert.pem").write_bytes(pem.armor("CERTIFICATE", cert.dump()))

    def write_pkcs12(self, label: str, path: Path, password: str) -> None:
        """Package a software-keyed official's key and certificate chain as PKCS#12."""
        from certomancer.registry import CertLabel

        if official(label).key_store != "file":
            raise CertsError(f"khóa của '{label}' nằm trên token, không xuất được",
                             f"the key of '{label}' lives on a token and cannot be exported")
        data = self.architecture().package_pkcs12(
            CertLabel(label), certs_to_embed=[CertLabel("interm")],
            password=password.encode("utf-8"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)

    def cert(self, label: str) -> x509.Certificate:
        path = self.directory / "certs" / f"{label}.cert.pem"
        try:
            _, _, der = pem.unarmor(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise CertsError(f"thiếu chứng thư '{label}' của PKI demo",
                             f"demo PKI certificate '{label}' is missing") from exc
        return x509.Certificate.load(der)

    @property
    def root(self) -> x509.Certificate:
        return self.cert("root")

    @property
    def chain(self) -> list[x509.Certificate]:
        """CA certificates to embed next to a signer's certificate."""
        return [self.cert("interm")]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.info.port}/{ARCH}"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp/interm"
