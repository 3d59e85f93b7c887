"""The demo commune: tokens on SoftHSM, the DEMO PKI, and a document signed end to end."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem

from certs import OFFICIALS, DemoPki, free_port
from tokens import SoftHsm, TokenError, refresh_module

#: PIN of every demo token. Demo only: real tokens' PINs are never known to Kyso.
DEMO_PIN = "246810"
DEMO_SO_PIN = "13579135"
KEY_ID = "01"


@dataclass(frozen=True)
class DemoCommune:
    pki: DemoPki
    hsm: SoftHsm
    #: every demo signer's token name: SoftHSM tokens and PKCS#12 files
    token_names: list[str]

    def pkcs12_path(self, label: str) -> Path:
        return self.pki.directory.parent / "pkcs12" / f"{label}.p12"


def provision(softhsm_dir: Path, pki_dir: Path, port: int | None = None) -> DemoCommune:
    """Create (or reuse) one SoftHSM token per official and the PKI that certifies them.

    A new PKI publishes its TSA, OCSP, CRL and CA certificates (the URLs in every demo
    certificate) on ``port`` when it is free, else on any free port (the CLI passes
    ``KYSO_DEMO_PKI_PORT``, 8791 by default). The data directory keeps the port
    (pki/pki.json) for as long as the PKI lives, and ``kyso serve`` and ``kyso verify``
    serve it there whenever they run.

    Keys are generated on the tokens; the PKI sees public keys only, and each
    certificate is written back onto its token. A half-made earlier attempt is
    thrown away and made again, so running this twice is safe.
    """
    if not DemoPki.exists(pki_dir):
        shutil.rmtree(pki_dir, ignore_errors=True)
        shutil.rmtree(softhsm_dir, ignore_errors=True)
    hsm = SoftHsm.at(softhsm_dir)
    on_tokens = [o for o in OFFICIALS if o.key_store == "token"]
    if DemoPki.exists(pki_dir):
        pki = DemoPki(pki_dir)
    else:
        public_keys = {}
        for o in on_tokens:
            hsm.init_token(o.label, DEMO_SO_PIN, DEMO_PIN)
            der = hsm.generate_key(o.label, DEMO_PIN, o.label, KEY_ID, o.key_type)
            public_keys[o.label] = pem.armor("PUBLIC KEY", der)
        pki = DemoPki.create(pki_dir, free_port(preferred=port), public_keys)
        for o in on_tokens:
            hsm.store_certificate(o.label, DEMO_PIN, o.label, KEY_ID, pki.cert(o.label).dump())
        # a module this process loaded earlier must see the new tokens
        with contextlib.suppress(TokenError):
            refresh_module(hsm.module)
    commune = DemoCommune(pki=pki, hsm=hsm, token_names=[o.label for o in OFFICIALS])
    for o in OFFICIALS:
        if o.key_store == "file" and not commune.pkcs12_path(o.label).exists():
            pki.write_pkcs12(o.label, commune.pkcs12_path(o.label), DEMO_PIN)
    return commune


def token_settings(commune: DemoCommune) -> dict[str, dict[str, str]]:
    """The tokens.json entries of the demo tokens (PKCS#11 on SoftHSM)."""
    settings: dict[str, dict[str, str]] = {}
    for o in OFFICIALS:
        if o.key_store == "file":
            settings[o.label] = {"backend": "pkcs12", "path": str(commune.pkcs12_path(o.label))}
        else:
            settings[o.label] = {"backend": "pkcs11", "module": commune.hsm.module,
                                 "token_label": o.label, "key_label": o.label}
    return settings
