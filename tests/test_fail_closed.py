"""Verification fails closed: an algorithm or structure Kyso cannot read is a finding that
makes the signature not valid, never a check skipped; and a fault of Kyso's own inside a
check is raised, never reported as a malformed document."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from asn1crypto import algos, cms

import signer.verify
from api.datadir import DataDir
from api.demo.demo import DemoCommune
from signer import Report, Verdict

from .helpers import sign_as, verify

#: An object identifier that names no algorithm.
UNKNOWN_OID = "1.3.6.1.4.1.55555.1.2"

_CONTENTS = re.compile(rb"/Contents\s*<([0-9a-fA-F]+)>")


@pytest.fixture(scope="module")
def signed(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> bytes:
    return sign_as(data, commune.pki, "chu-tich", sample_pdf)


def edit_cms(pdf: bytes, change: Callable[[cms.SignerInfo, cms.SignedData], None]) -> bytes:
    """``pdf`` with its (only) signature's CMS edited by ``change`` and embedded again in
    the same room: /ByteRange and every other byte stay where they were."""
    (found,) = list(_CONTENTS.finditer(pdf))
    room = len(found.group(1))
    info = cms.ContentInfo.load(bytes.fromhex(found.group(1).decode()).rstrip(b"\0"))
    signed_data = info["content"]
    change(signed_data["signer_infos"][0], signed_data)
    der = bytes(info.dump(force=True)).hex().encode()
    assert len(der) <= room
    start, end = found.span(1)
    return pdf[:start] + der.ljust(room, b"0") + pdf[end:]


def _reasons(report: Report) -> list[str]:
    return [f"{r.code}: {r.en}" for s in report.signatures for r in s.reasons]


def test_the_unedited_file_is_valid(data: DataDir, signed: bytes) -> None:
    same = edit_cms(signed, lambda info, _: None)
    assert verify(data, same).verdict is Verdict.VALID


def test_an_unknown_digest_algorithm_is_a_finding_not_a_skip(data: DataDir,
                                                            signed: bytes) -> None:
    def unknown_digest(info: cms.SignerInfo, signed_data: cms.SignedData) -> None:
        info["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": UNKNOWN_OID})
        signed_data["digest_algorithms"] = [algos.DigestAlgorithm({"algorithm": UNKNOWN_OID})]

    report = verify(data, edit_cms(signed, unknown_digest))
    assert report.verdict is not Verdict.VALID
    (sig,) = report.signatures
    assert sig.verdict is not Verdict.VALID
    assert any(UNKNOWN_OID in r for r in _reasons(report)), _reasons(report)


def test_an_unknown_signature_algorithm_is_a_finding_not_a_skip(data: DataDir,
                                                               signed: bytes) -> None:
    def unknown_mechanism(info: cms.SignerInfo, _: cms.SignedData) -> None:
        info["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": UNKNOWN_OID})

    report = verify(data, edit_cms(signed, unknown_mechanism))
    assert report.verdict is not Verdict.VALID
    (sig,) = report.signatures
    assert sig.verdict is not Verdict.VALID
    assert any(UNKNOWN_OID in r for r in _reasons(report)), _reasons(report)


@pytest.mark.parametrize("check", ["weak_algorithms", "pades_level", "byte_range_problem"])
def test_a_bug_inside_a_check_is_raised_not_called_a_malformed_document(
        data: DataDir, signed: bytes, monkeypatch: pytest.MonkeyPatch, check: str) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a fault of Kyso's own")

    monkeypatch.setattr(signer.verify, check, bug)
    with pytest.raises(RuntimeError, match="a fault of Kyso's own"):
        verify(data, signed)
