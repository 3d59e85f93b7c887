"""The demo PKI: DEMO-labelled CAs, officials in NFC, keys that never leave their tokens."""

from __future__ import annotations

import socket
import unicodedata

import pkcs11
from pkcs11 import Attribute, ObjectClass

from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune, provision
from certs import DEMO_MARKER, OFFICIALS, DemoPki, free_port


def test_cas_are_labelled_demo_not_a_real_ca(commune: DemoCommune) -> None:
    for label in ("root", "interm", "tsa", "interm-ocsp"):
        assert DEMO_MARKER in commune.pki.cert(label).subject.human_friendly


def test_official_names_are_nfc_and_on_their_certificates(commune: DemoCommune) -> None:
    for official in OFFICIALS:
        cn = commune.pki.cert(official.label).subject.native["common_name"]
        assert cn == official.full_name
        assert unicodedata.is_normalized("NFC", cn)
    assert commune.pki.cert("ubnd").subject.native["common_name"] == "UBND xã Tiên Lữ"


def test_token_keys_are_sensitive_and_never_extractable(commune: DemoCommune) -> None:
    lib = pkcs11.lib(commune.hsm.module)
    for official in (o for o in OFFICIALS if o.key_store == "token"):
        token = lib.get_token(token_label=official.label)
        with token.open(user_pin=DEMO_PIN) as session:
            keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
            assert len(keys) == 1
            assert keys[0][Attribute.SENSITIVE] is True
            assert keys[0][Attribute.EXTRACTABLE] is False
            certs = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))
            assert [c[Attribute.VALUE] for c in certs] == [
                commune.pki.cert(official.label).dump()]


def test_provisioning_twice_reuses_what_exists(data: DataDir, commune: DemoCommune) -> None:
    before = commune.pki.cert("chu-tich").dump()
    again = provision(data.softhsm, data.pki)
    assert again.pki.cert("chu-tich").dump() == before
    assert again.pki.info == commune.pki.info


def test_a_new_demo_pki_takes_the_documented_port_when_it_is_free() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]
        holder.listen()
        assert free_port(preferred=taken) != taken
    assert free_port(preferred=taken) == taken


def test_the_pki_keeps_its_address_for_its_whole_life(data: DataDir, commune: DemoCommune) -> None:
    reopened = DemoPki(commune.pki.directory)
    assert reopened.base_url == commune.pki.base_url
    leaf = reopened.cert("chu-tich")
    urls = [d["distribution_point"].native[0] for d in leaf.crl_distribution_points]
    assert urls and all(u.startswith(f"http://127.0.0.1:{reopened.info.port}/") for u in urls)
