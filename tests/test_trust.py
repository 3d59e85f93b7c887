"""The trust store: the real Vietnamese roots shipped with Kyso, and demo anchors told apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.datadir import DataDir
from certs import DEMO_MARKER, CertsError, Origin, TrustStore, bundled_store, load_certificates

# SHA-256 of the DER, as published in shared/trust/SOURCES.md (copied to certs/data/trust/).
ROOT_CA_G2 = "f04ba4b459a7c9a1b971ad9b1cb833e695a80c79aea63b174b66a70edfe2fdb8"
NEAC_ROOT = "bac8bf609ab420a8ee1780d74f4de5c7f7184959d2a7375b0a75e4c29f0908e7"
CP_CA_G2 = "d8cab7a4aef92e6bb2509d7c61cee7b44f3731b2d21074963530277b366fae4b"


def test_bundled_store_holds_the_nine_roots_and_twenty_intermediates() -> None:
    store = bundled_store()
    assert len(store.anchors) == 9
    assert len(store.intermediates) == 20
    assert all(entry.origin is Origin.BUNDLED for entry in store)


@pytest.mark.parametrize("fingerprint", [ROOT_CA_G2, NEAC_ROOT])
def test_real_roots_are_anchors_with_the_published_fingerprints(fingerprint: str) -> None:
    anchors = {e.sha256: e for e in bundled_store() if e.is_anchor}
    assert fingerprint in anchors
    assert not anchors[fingerprint].is_demo


def test_the_government_intermediate_is_not_an_anchor() -> None:
    entry = next(e for e in bundled_store() if e.sha256 == CP_CA_G2)
    assert not entry.is_anchor
    assert "CA phục vụ các cơ quan Nhà nước G2" in entry.subject


def test_data_dir_store_adds_the_demo_root_marked_as_demo(data: DataDir) -> None:
    store = data.trust_store()
    demo = [e for e in store if e.is_demo]
    assert {e.is_anchor for e in demo} == {True, False}  # root and intermediate
    assert all(DEMO_MARKER in e.subject for e in demo)
    assert all(DEMO_MARKER not in e.subject for e in store if not e.is_demo)


def test_a_demo_certificate_cannot_pass_for_a_real_ca(data: DataDir) -> None:
    demo_root = data.demo_pki().root  # type: ignore[union-attr]
    with pytest.raises(CertsError) as err:
        TrustStore().add(demo_root, Origin.ADMIN, "uploaded.pem")
    assert "demo" in err.value.en


def test_admin_added_ca_files_are_loaded_with_their_origin(tmp_path: Path) -> None:
    bundle = Path(__file__).resolve().parent.parent / "certs/data/trust/bundle-roots.pem"
    data = DataDir(tmp_path).create()
    data.trust.mkdir()
    (data.trust / "neac.pem").write_bytes(bundle.read_bytes())
    store = data.trust_store()
    admin = [e for e in store if e.origin is Origin.ADMIN]
    assert admin == []  # the same certificates are already bundled: no duplicates
    assert len(store.anchors) == 9


def test_unreadable_certificate_file_is_a_clear_error() -> None:
    with pytest.raises(CertsError) as err:
        load_certificates(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
                          "broken.pem")
    assert "broken.pem" in err.value.vi
