"""A fresh PKI for the go-live tests: not the demo's, built from nothing for each run.

A root and an issuing CA of an imaginary province's "certification authority", a TSA and
an OCSP responder, and one leaf certificate per holder for a public key the test made
(on a SoftHSM token, as a commune's token would hold it). :func:`serving` runs its
TSA/OCSP/CRL/AIA services (certomancer's Animator) on a loopback port until the block
ends, so Kyso reaches them over real HTTP exactly as it reaches a real CA's.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ARCH = "hoa-binh"
ROOT_CN = "CA gốc Thử nghiệm tỉnh Hòa Bình (KHÔNG DÙNG THẬT)"
ISSUING_CN = "CA cấp chứng thư Thử nghiệm tỉnh Hòa Bình"


@dataclass(frozen=True)
class Holder:
    """Who a leaf certificate is for, and the public key (PEM) it certifies."""

    label: str
    common_name: str
    organisation: str
    unit: str
    public_key_pem: bytes
    title: str | None = None


@dataclass
class FreshPki:
    directory: Path
    port: int
    config: Any

    def cert(self, label: str) -> x509.Certificate:
        from certomancer.registry import ArchLabel, CertLabel

        arch = self.config.get_pki_arch(ArchLabel(ARCH))
        return x509.Certificate.load(arch.get_cert(CertLabel(label)).dump())

    @property
    def root(self) -> x509.Certificate:
        return self.cert("root")

    @property
    def root_pem(self) -> bytes:
        return bytes(pem.armor("CERTIFICATE", self.root.dump()))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ARCH}"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa/tsa"


def _private_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def build_fresh_pki(directory: Path, holders: Sequence[Holder]) -> FreshPki:
    from certomancer.registry import CertomancerConfig

    keys_dir = directory / "keys"
    keys_dir.mkdir(parents=True)
    for name in ("root", "issuing", "tsa", "ocsp"):
        _private_key(keys_dir / f"{name}.key.pem")
    keys: dict[str, Any] = {n: {"path": f"{n}.key.pem"} for n in ("root", "issuing", "tsa",
                                                                  "ocsp")}
    for holder in holders:
        (keys_dir / f"{holder.label}.pub.pem").write_bytes(holder.public_key_pem)
        keys[holder.label] = {"path": f"{holder.label}.pub.pem", "public-only": True}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    early, years = now - dt.timedelta(days=30), dt.timedelta(days=3650)

    def usage(*names: str) -> dict[str, Any]:
        return {"id": "key_usage", "critical": True,
                "smart-value": {"schema": "key-usage", "params": list(names)}}

    ca = [{"id": "basic_constraints", "critical": True, "value": {"ca": True}},
          usage("digital_signature", "key_cert_sign", "crl_sign")]
    crl = {"id": "crl_distribution_points",
           "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["issuing"]}}}
    aia = {"id": "authority_information_access", "smart-value": {
        "schema": "aia-urls", "params": {"ocsp-responder-names": ["issuing"],
                                         "ca-issuer-links": [{"repo": "root",
                                                              "include-repo-authority": False,
                                                              "cert-labels": ["issuing"]}]}}}
    entities: dict[str, Any] = {
        "root": {"common-name": ROOT_CN, "organization-name": "Tỉnh Hòa Bình (thử nghiệm)"},
        "issuing": {"common-name": ISSUING_CN, "organization-name": "Tỉnh Hòa Bình (thử nghiệm)"},
        "tsa": {"common-name": "Dấu thời gian Thử nghiệm Hòa Bình"},
        "ocsp": {"common-name": "OCSP Thử nghiệm Hòa Bình"},
    }
    certs: dict[str, Any] = {
        "root": {"subject": "root", "issuer": "root", "extensions": ca,
                 "validity": {"valid-from": _iso(early), "valid-to": _iso(now + 2 * years)}},
        "issuing": {"issuer": "root", "validity": {"valid-from": _iso(early),
                                                   "valid-to": _iso(now + years)},
                    "extensions": [*ca, {"id": "crl_distribution_points", "smart-value": {
                        "schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}}}]},
        "tsa": {"issuer": "root", "validity": {"valid-from": _iso(early),
                                               "valid-to": _iso(now + years)},
                "extensions": [usage("digital_signature"),
                               {"id": "extended_key_usage", "critical": True,
                                "value": ["time_stamping"]}]},
        "ocsp": {"issuer": "issuing", "validity": {"valid-from": _iso(early),
                                                   "valid-to": _iso(now + years)},
                 "extensions": [usage("digital_signature"),
                                {"id": "extended_key_usage", "critical": True,
                                 "value": ["ocsp_signing"]}, {"id": "ocsp_no_check"}]},
    }
    for holder in holders:
        entity = {"common-name": holder.common_name, "organization-name": holder.organisation,
                  "organizational-unit-name": holder.unit, "state-or-province-name": "Hòa Bình"}
        if holder.title:
            entity["title"] = holder.title
        entities[holder.label] = entity
        certs[holder.label] = {
            "subject": holder.label, "subject-key": holder.label, "issuer": "issuing",
            "validity": {"valid-from": _iso(now - dt.timedelta(days=1)),
                         "valid-to": _iso(now + dt.timedelta(days=730))},
            "extensions": [usage("digital_signature", "non_repudiation"), crl,
                           aia]}
    port = _free_port()
    config = CertomancerConfig({
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {ARCH: {"path-prefix": "keys", "keys": keys}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH, "entity-defaults": {"country-name": "VN"},
            "entities": entities, "certs": certs,
            "services": {
                "ocsp": {"issuing": {"for-issuer": "issuing", "responder-cert": "ocsp",
                                     "signing-key": "ocsp"}},
                "crl-repo": {"root": {"for-issuer": "root", "signing-key": "root",
                                      "simulated-update-schedule": "P90D"},
                             "issuing": {"for-issuer": "issuing", "signing-key": "issuing",
                                         "simulated-update-schedule": "P1D"}},
                "cert-repo": {"root": {"for-issuer": "root", "publish-issued-certs": True}},
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
            },
        }},
    }, key_search_dir=str(directory))
    return FreshPki(directory=directory, port=port, config=config)


@contextmanager
def serving(pki: FreshPki) -> Iterator[FreshPki]:
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Animator(AnimatorArchStore(pki.config.pki_archs), with_web_ui=False)
    server = make_server("127.0.0.1", pki.port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-pki", daemon=True)
    thread.start()
    try:
        yield pki
    finally:
        server.shutdown()
        server.server_close()
