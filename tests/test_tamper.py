"""The tamper corpus (tests/tamper.py), built at test time from documents the demo
tokens sign: each attack is reported NOT valid, with a reason naming its class."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune
from signer import PdfTruncated, PdfUnreadable, Report, SigningOptions, locate, sign_pdf
from signer.prepare import (
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    PERSON_FIELD,
    plan_fields,
    prepare_draft,
)
from signer.sign import FieldFill

from . import tamper
from .helpers import sign_as, verify

OTHER_PDF = Path(__file__).parent / "data" / "b_cong_van_vhxh_1trang.pdf"


@pytest.fixture(scope="module")
def signed(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> bytes:
    return sign_as(data, commune.pki, "chu-tich", sample_pdf)


@pytest.fixture(scope="module")
def other_signed(data: DataDir, commune: DemoCommune) -> bytes:
    return sign_as(data, commune.pki, "chu-tich", OTHER_PDF.read_bytes())


@pytest.fixture(scope="module")
def approved(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> bytes:
    """Prepared with empty number/date fields, then approved by the vice-chairman."""
    prepared = prepare_draft(sample_pdf, plan_fields(locate(sample_pdf)))
    with data.token("pho-chu-tich").signer(DEMO_PIN) as person:
        return sign_pdf(prepared, person, SigningOptions(field_name=PERSON_FIELD,
                                                         tsa_url=commune.pki.tsa_url))


@pytest.fixture(scope="module")
def issued(data: DataDir, commune: DemoCommune, approved: bytes) -> bytes:
    """The clerk's organisation signature, filling (and locking) the number."""
    with data.token("ubnd").signer(DEMO_PIN) as body:
        return sign_pdf(approved, body, SigningOptions(
            field_name=ORGANISATION_FIELD, tsa_url=commune.pki.tsa_url,
            fills=(FieldFill(NUMBER_FIELD, "05"),)))


def _codes(report: Report) -> set[str]:
    return {r.code for r in report.reasons} | {r.code for s in report.signatures
                                               for r in s.reasons}


def _not_valid(data: DataDir, pdf: bytes, code: str) -> Report:
    report = verify(data, pdf)
    assert report.verdict == "invalid", (code, _codes(report))
    assert code in _codes(report), _codes(report)
    return report


def test_untouched_documents_are_valid(data: DataDir, signed: bytes, issued: bytes) -> None:
    assert verify(data, signed).verdict == "valid"
    report = verify(data, issued)
    assert report.verdict == "valid", _codes(report)
    person, body = report.signatures
    # the number filled after the approval is flagged as a note, not a failure
    assert {c.kind for c in person.changes} == {"signature", "form_filling"}
    assert "form_filled_after" in {n.code for n in person.notes}
    assert (person.revisions_after, body.revisions_after) == (1, 0)
    assert person.bytes_after > 0 and body.bytes_after == 0


def test_incremental_update_changing_page_content(data: DataDir, signed: bytes) -> None:
    report = _not_valid(data, tamper.change_page_content(signed), "page_content")
    (sig,) = report.signatures
    assert sig.intact  # the signed revision itself is untouched: the update is the attack
    assert sig.coverage == "entire_revision" and sig.revisions_after == 1
    assert any(c.kind == "page_content" and "page 1" in c.detail for c in sig.changes)


def test_shadow_hide_with_an_opaque_annotation(data: DataDir, signed: bytes) -> None:
    report = _not_valid(data, tamper.overlay_annotation(signed), "annotation")
    (change,) = report.signatures[0].changes
    assert change.kind == "annotation" and "/Square" in change.detail
    assert "60 690 320 750" in change.detail


def test_shadow_overlay_with_a_new_form_field(data: DataDir, signed: bytes) -> None:
    report = _not_valid(data, tamper.overlay_new_field(signed), "field_added")
    assert "Overlay" in report.signatures[0].reasons[0].en


def test_changing_a_signed_field_value(data: DataDir, issued: bytes) -> None:
    report = _not_valid(data, tamper.change_field_value(issued, NUMBER_FIELD, "99"),
                        "form_value_changed")
    person, body = report.signatures
    for sig in (person, body):
        assert sig.verdict == "invalid"
        assert any("'05' → '99'" in r.en for r in sig.reasons)
    assert body.modification_level == "other"  # the organisation signature locked it


def test_filling_an_empty_field_after_approval_is_allowed_and_noted(
        data: DataDir, approved: bytes) -> None:
    """The control for the test above: filling is what issuance does; overwriting is not."""
    report = verify(data, tamper.change_field_value(approved, NUMBER_FIELD, "05"))
    assert report.verdict == "valid", _codes(report)
    assert "form_filled_after" in {n.code for n in report.signatures[0].notes}


def test_wrapping_byte_range_short_of_the_file(data: DataDir, signed: bytes) -> None:
    report = _not_valid(data, tamper.wrap_short_byte_range(signed), "signature_wrapping")
    assert "digest_mismatch" in _codes(report)


def test_wrapping_with_content_moved_into_the_gap(data: DataDir, signed: bytes) -> None:
    report = _not_valid(data, tamper.wrap_moved_content(signed), "signature_wrapping")
    assert "inserted or moved" in report.reasons[0].en


def test_emptied_contents(data: DataDir, signed: bytes) -> None:
    report = _not_valid(data, tamper.empty_contents(signed), "contents_empty")
    assert report.signatures[0].field == "KySo_PheDuyet"


def test_contents_swapped_with_another_documents_signature(
        data: DataDir, signed: bytes, other_signed: bytes) -> None:
    assert verify(data, other_signed).verdict == "valid"  # the donor is a good signature
    report = _not_valid(data, tamper.swap_contents(signed, other_signed), "digest_mismatch")
    assert report.signatures[0].signer == "Nguyễn Văn Hùng"
    assert "another document" in report.signatures[0].reasons[0].en


@pytest.mark.parametrize("cut", [1, 10, 3000])
def test_truncated_files(data: DataDir, signed: bytes, cut: int) -> None:
    report = _not_valid(data, tamper.truncate(signed, len(signed) - cut), "truncated")
    assert f"only {len(signed) - cut}" in next(
        r.en for r in [*report.reasons, *(x for s in report.signatures for x in s.reasons)]
        if r.code == "truncated")


def test_file_cut_before_its_signature_is_unreadable_and_says_truncated(
        data: DataDir, signed: bytes) -> None:
    with pytest.raises(PdfTruncated) as err:
        verify(data, tamper.truncate(signed, 0.5))
    assert isinstance(err.value, PdfUnreadable) and "truncated" in err.value.en


@pytest.mark.parametrize("garbage", [b"<html><script>alert('x')</script></html>",
                                     b"PK\x03\x04 zip polyglot tail", b"junk\n%%EOF\n"])
def test_appended_garbage_is_invalid(data: DataDir, signed: bytes, garbage: bytes) -> None:
    report = _not_valid(data, tamper.append_garbage(signed, garbage), "appended_data")
    # the signature itself is intact; the file around it is not the file that was signed
    assert report.signatures[0].intact
    assert report.signatures[0].signer == "Nguyễn Văn Hùng"


def test_appended_whitespace_is_only_a_note(data: DataDir, signed: bytes) -> None:
    report = verify(data, tamper.append_garbage(signed, b"\r\n \n"))
    assert report.verdict == "valid"
    assert [n.code for n in report.notes] == ["trailing_whitespace"]
    assert report.trailing_bytes == 4


def test_malformed_signature_dictionary_and_cms(data: DataDir, signed: bytes) -> None:
    start, end = tamper._contents_gap(signed)
    noise = random.Random(6).randbytes((end - start) // 2).hex().encode()
    _not_valid(data, signed[:start] + noise + signed[end:], "malformed_signature")
    no_range = signed.replace(b"/ByteRange", b"/ByteRangX", 1)
    assert verify(data, no_range).verdict == "invalid"


def test_random_damage_never_escapes_as_an_exception(data: DataDir, signed: bytes) -> None:
    start, end = tamper._contents_gap(signed)
    rng = random.Random(15)
    outside = [i for i in (rng.randrange(len(signed)) for _ in range(60))
               if not start <= i < end][:20]
    for position in outside:
        damaged = bytearray(signed)
        damaged[position] ^= 0x20
        try:
            report = verify(data, bytes(damaged))
        except PdfUnreadable:
            continue
        assert report.verdict != "valid", position
