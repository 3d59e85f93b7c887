"""The demo commune: tokens on SoftHSM, the DEMO PKI, and a document signed end to end."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem

from certs import OFFICIALS, DemoPki, free_port
from tokens import SoftHsm, refresh_module

#: PIN of every demo token. Demo only: real tokens' PINs are never known to Kyso.
DEMO_PIN = "246810"
DEMO_SO_PIN = "13579135"
KEY_ID = "01"


@dataclass(frozen=True)
class DemoCommune:
    pki: DemoPki
    hsm: SoftHsm
    token_names: list[str]


def provision(softhsm_dir: Path, pki_dir: Path) -> DemoCommune:
    """Create (or reuse) one SoftHSM token per official and the PKI that certifies them.

    Keys are generated on the tokens; the PKI sees public keys only, and each
    certificate is written back onto its token. A half-made earlier attempt is
    thrown away and made again, so running this twice is safe.
    """
    if not DemoPki.exists(pki_dir):
        shutil.rmtree(pki_dir, ignore_errors=True)
        shutil.rmtree(softhsm_dir, ignore_errors=True)
    hsm = SoftHsm.at(softhsm_dir)
    if DemoPki.exists(pki_dir):
        pki = DemoPki(pki_dir)
    else:
        public_keys = {}
        for o in OFFICIALS:
            hsm.init_token(o.label, DEMO_SO_PIN, DEMO_PIN)
            der = hsm.generate_key(o.label, DEMO_PIN, o.label, KEY_ID, o.key_type)
            public_keys[o.label] = pem.armor("PUBLIC KEY", der)
        pki = DemoPki.create(pki_dir, free_port(), public_keys)
        for o in OFFICIALS:
            hsm.store_certificate(o.label, DEMO_PIN, o.label, KEY_ID, pki.cert(o.label).dump())
        try:
            refresh_module(hsm.module)  # a module loaded earlier must see the new tokens
        except Exception:  # noqa: BLE001 - only matters if it was loaded; re-raised on use
            pass
    return DemoCommune(pki=pki, hsm=hsm, token_names=[o.label for o in OFFICIALS])


def token_settings(commune: DemoCommune) -> dict[str, dict[str, str]]:
    """The tokens.json entries of the demo tokens (PKCS#11 on SoftHSM)."""
    return {
        name: {"backend": "pkcs11", "module": commune.hsm.module,
               "token_label": name, "key_label": name}
        for name in commune.token_names
    }
