"""Preparing a draft: refusals, and fields that later steps fill without breaking signatures."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from api.datadir import DataDir
from api.demo.art import handwritten_signature, seal
from api.demo.demo import DEMO_PIN, DemoCommune
from certs import validation_context
from signer import Appearance, PdfEncrypted, SigningOptions, sign_pdf, verify_pdf
from signer.prepare import (
    DAY_FIELD,
    MONTH_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    PERSON_FIELD,
    YEAR_FIELD,
    DraftLimits,
    DraftRefused,
    FieldPlan,
    Place,
    check_draft,
    prepare_draft,
)
from signer.sign import FieldFill

from .helpers import sign_as

H = 841.89
# Where the elements of the sample Quyết định are (shared/samples/drafts/positions.json,
# converted to PDF coordinates): the number blank, the day and month blanks, the printed
# year, and the room between "CHỦ TỊCH" and the name.
PLAN = FieldPlan(
    person=Place(0, (345.0, 166.0, 485.0, 222.0)),
    organisation=Place(0, (290.0, 133.0, 392.0, 245.0)),
    number=Place(0, (124.2, H - 120.6, 150.2, H - 103.7)),
    day=Place(0, (372.7, H - 121.9, 393.7, H - 103.7)),
    month=Place(0, (425.6, H - 121.9, 446.6, H - 103.7)),
    year=Place(0, (474.2, H - 121.9, 502.2, H - 103.7)),
)


def _with(pdf: bytes, change: object) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        change(doc)  # type: ignore[operator]
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def test_prepared_draft_has_every_field_with_its_lock(sample_pdf: bytes) -> None:
    prepared = prepare_draft(sample_pdf, PLAN)
    with pikepdf.open(io.BytesIO(prepared)) as doc:
        fields = {str(f.T): f for f in doc.Root.AcroForm.Fields}
        assert set(fields) == {PERSON_FIELD, ORGANISATION_FIELD, NUMBER_FIELD, DAY_FIELD,
                               MONTH_FIELD, YEAR_FIELD}
        assert fields[PERSON_FIELD].FT == "/Sig" and fields[NUMBER_FIELD].FT == "/Tx"
        assert "/Lock" not in fields[PERSON_FIELD]  # copies and attachments add fields later
        assert fields[ORGANISATION_FIELD].Lock.Action == "/Include"
        assert [str(f) for f in fields[ORGANISATION_FIELD].Lock.Fields] == [
            NUMBER_FIELD, DAY_FIELD, MONTH_FIELD, YEAR_FIELD]
        assert len(doc.pages[0].Annots) == 6


def test_a_draft_is_prepared_only_once(sample_pdf: bytes) -> None:
    with pytest.raises(DraftRefused) as err:
        prepare_draft(prepare_draft(sample_pdf, PLAN), PLAN)
    assert "already prepared" in err.value.en


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: setattr(d.Root, "OpenAction", pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))), "/JavaScript"),
    (lambda d: setattr(d.Root, "OpenAction", pikepdf.Dictionary(
        S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))), "/Launch"),
])
def test_active_content_is_refused(sample_pdf: bytes, change: object, expected: str) -> None:
    with pytest.raises(DraftRefused) as err:
        check_draft(_with(sample_pdf, change))
    assert expected in err.value.en and "tự chạy" in err.value.vi


def test_limits(sample_pdf: bytes) -> None:
    with pytest.raises(DraftRefused, match="pages"):
        check_draft(sample_pdf, DraftLimits(max_pages=0))
    with pytest.raises(DraftRefused, match="larger than"):
        check_draft(sample_pdf, DraftLimits(max_bytes=1024))


def test_encrypted_draft(sample_pdf: bytes, tmp_path: object) -> None:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(sample_pdf)) as doc:
        doc.save(out, encryption=pikepdf.Encryption(owner="o", user="", R=6))
    with pytest.raises(PdfEncrypted):
        check_draft(out.getvalue())


def test_signed_file_is_not_a_draft(data: DataDir, commune: DemoCommune,
                                    sample_pdf: bytes) -> None:
    signed = sign_as(data, commune.pki, "chu-tich", sample_pdf)
    with pytest.raises(DraftRefused) as err:
        check_draft(signed)
    assert "already signed" in err.value.en
    check_draft(signed, allow_signatures=True)


def test_person_then_clerk_keeps_both_signatures_valid(data: DataDir,
                                                      commune: DemoCommune,
                                                      sample_pdf: bytes) -> None:
    prepared = prepare_draft(sample_pdf, PLAN)
    tsa = commune.pki.tsa_url
    with data.token("pho-chu-tich").signer(DEMO_PIN) as person:
        approved = sign_pdf(prepared, person, SigningOptions(
            field_name=PERSON_FIELD, tsa_url=tsa,
            appearance=Appearance.handwritten(handwritten_signature())))
    with data.token("ubnd").signer(DEMO_PIN) as body:
        issued = sign_pdf(approved, body, SigningOptions(
            field_name=ORGANISATION_FIELD, tsa_url=tsa,
            appearance=Appearance.seal(seal(), "UBND xã Tiên Lữ"),
            fills=(FieldFill(NUMBER_FIELD, "05"), FieldFill(DAY_FIELD, "05", "Times-Italic", 14),
                   FieldFill(MONTH_FIELD, "3", "Times-Italic", 14))))
    store = data.trust_store()
    report = verify_pdf(issued, lambda: validation_context(store), "issued", store)
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    person_sig, body_sig = report.signatures
    assert (person_sig.field, person_sig.modification_level) == (PERSON_FIELD, "form_filling")
    assert (body_sig.field, body_sig.coverage) == (ORGANISATION_FIELD, "entire_file")
    assert body_sig.signer == "UBND xã Tiên Lữ"
    with pikepdf.open(io.BytesIO(issued)) as doc:
        values = {str(f.T): str(f.get("/V", "")) for f in doc.Root.AcroForm.Fields}
    assert (values[NUMBER_FIELD], values[DAY_FIELD], values[MONTH_FIELD]) == ("05", "05", "3")


def test_a_change_beyond_form_filling_breaks_the_person_signature(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    prepared = prepare_draft(sample_pdf, PLAN)
    with data.token("chu-tich").signer(DEMO_PIN) as person:
        approved = sign_pdf(prepared, person, SigningOptions(field_name=PERSON_FIELD))
    writer = IncrementalPdfFileWriter(io.BytesIO(approved))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/FreeText"),
        generic.pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(v)
                                                        for v in (50, 50, 200, 80)]),
        generic.pdf_name("/Contents"): generic.TextStringObject("Số: 99"),
    }))
    page["/Annots"].append(note)
    writer.update_container(page["/Annots"])
    out = io.BytesIO()
    writer.write(out)
    store = data.trust_store()
    (sig,) = verify_pdf(out.getvalue(), lambda: validation_context(store)).signatures
    assert sig.verdict == "invalid"
    assert sig.modification_level not in ("none", "form_filling")


def test_attachment_and_copy_are_signed_top_right_without_seal(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes, tmp_path: object) -> None:
    import subprocess

    from signer.profiles import CopyKind, appendix, copy

    appendix_pdf = (Path(__file__).parent / "data" / "c_thong_bao_2trang.pdf").read_bytes()
    with data.token("ubnd").signer(DEMO_PIN) as body:
        attached = sign_pdf(appendix_pdf, body, appendix(appendix_pdf, "05/QĐ-UBND"))
        copied = sign_pdf(sample_pdf, body, copy(sample_pdf, CopyKind.SAO_Y,
                                                 "UBND xã Tiên Lữ", "01/SY-UBND"))
    store = data.trust_store()
    for pdf, expected in ((attached, ["05/QĐ-UBND", "+07:00"]),
                          (copied, ["SAO Y", "UBND xã Tiên Lữ", "Số: 01/SY-UBND"])):
        assert verify_pdf(pdf, lambda: validation_context(store)).verdict == "valid"
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-x", "360", "-y", "0",
                               "-W", "240", "-H", "110", "-", "-"], input=pdf,
                              capture_output=True, check=True).stdout.decode()
        for part in expected:
            assert part in text
        assert pdf.count(b"/Subtype /Image") == 0  # no seal image on attachments and copies
