"""How the organisation's signatures look and what the issued file says about itself
(Decree 30 Appendix I): 10 pt corner text in an embedded Times metric twin, no caption
under the seal unless asked, the number and date in the body's font and flush against
the symbol, the document's metadata written in the issuing revision, a compact seal
image, and a /Contents room measured for the CMS of each PAdES level. Every file signed
here is validated (Kyso's verifier, which runs pyHanko's validator, and pyHanko's CLI)."""

# ruff: noqa: F811

from __future__ import annotations

import io
import re
import subprocess
import sys
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from asn1crypto import cms
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session, sessionmaker

from api.datadir import DataDir
from api.demo.art import appendix_pdf, seal
from api.demo.demo import DEMO_PIN, DemoCommune
from certs import validation_context
from documents import Document, FileStore, Signing, VersionKind, issue, latest_version
from signer import PadesLevel, SigningFailed, locate, open_reader, sign_pdf
from signer.appearance import compact_image
from signer.prepare import (
    DAY_FIELD,
    MONTH_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    plan_fields,
    prepare_draft,
)
from signer.profiles import CopyKind, appendix, copy, issuance
from signer.sign import RESERVE_MARGIN

from .helpers import verify
from .pdf_text import text_runs
from .test_issuance import (  # noqa: F401  (fixtures)
    approved,
    db,
    details,
    drafted,
    person,
    signing,
    store,
)

PYHANKO = str(Path(sys.executable).with_name("pyhanko"))
MAIN_NUMBER = "01/QĐ-UBND"


def _valid(data: DataDir, commune: DemoCommune, pdf: bytes, tmp_path: Path,
           signatures: int) -> None:
    """Kyso's verdict and pyHanko's CLI: every signature of ``pdf`` is valid."""
    report = verify(data, pdf)
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    assert len(report.signatures) == signatures
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    root = commune.pki.directory / "certs" / "root.cert.pem"
    check = subprocess.run([PYHANKO, "sign", "validate", "--trust", str(root),
                            "--trust-replace", "--executive-summary", str(path)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert all(line.endswith(":VALID") for line in check.stdout.split())


def _widget_runs(pdf: bytes, field: str, page: int = 0) -> list:  # type: ignore[type-arg]
    return [run for run in text_runs(pdf, page) if run.where == field]


def _text(pdf: bytes, tmp_path: Path, page: int, *options: str) -> str:
    """poppler's text of page ``page`` (1-based), widgets' appearances included."""
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *options, "-f", str(page), "-l", str(page), str(path),
                           "-"], capture_output=True, text=True, check=True, timeout=60).stdout


@dataclass(frozen=True)
class ImageFacts:
    colour_space: str
    bits: int
    size: int  # bytes stored, the soft mask's included
    mask_bits: int | None


def _images(pdf: bytes, field: str) -> list[ImageFacts]:
    """The image XObjects drawn by ``field``'s appearance, at any depth."""
    found: list[ImageFacts] = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        widgets = [f for f in doc.Root.AcroForm.Fields if str(f.get("/T")) == field]
        pending = [w.AP.N for w in widgets if "/AP" in w]
        while pending:
            form = pending.pop()
            resources: Any = form.get("/Resources")
            xobjects: Any = resources.get("/XObject") if resources is not None else None
            for xobject in (xobjects or {}).values():
                if xobject.get("/Subtype") == "/Form":
                    pending.append(xobject)
                    continue
                space = xobject.ColorSpace
                mask = xobject.get("/SMask")
                found.append(ImageFacts(
                    str(space[0] if isinstance(space, pikepdf.Array) else space),
                    int(xobject.BitsPerComponent),
                    len(xobject.read_raw_bytes()) + (len(mask.read_raw_bytes()) if mask else 0),
                    int(mask.BitsPerComponent) if mask is not None else None))
    return found


# --- attachments and copies: 10 pt, embedded Liberation Serif ----------------------------

@pytest.mark.parametrize("kind", ["attachment", "copy"])
def test_corner_text_is_printed_at_10_pt_in_an_embedded_times_metric_font(
        data: DataDir, commune: DemoCommune, tmp_path: Path, kind: str) -> None:
    pdf = appendix_pdf(f"Quyết định số {MAIN_NUMBER}")
    options = (appendix(pdf, MAIN_NUMBER, tsa_url=commune.pki.tsa_url) if kind == "attachment"
               else copy(pdf, CopyKind.SAO_Y, "UBND xã Tiên Lữ", "01/SY-UBND",
                         tsa_url=commune.pki.tsa_url))
    with data.token("ubnd").signer(DEMO_PIN) as body:
        signed = sign_pdf(pdf, body, options)
    _valid(data, commune, signed, tmp_path, 1)
    runs = _widget_runs(signed, options.field_name)
    assert runs and len(runs) == len(options.appearance.lines)  # type: ignore[union-attr]
    assert {run.size for run in runs} == {10.0}
    assert all(run.embedded and "LiberationSerif" in run.font for run in runs)
    text = _text(signed, tmp_path, 1)
    assert (MAIN_NUMBER if kind == "attachment" else "SAO Y") in text
    assert "+07:00" in text


# --- the issued document -------------------------------------------------------------------

def _issue(db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing,
           doc_id: str) -> tuple[str, bytes]:
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, session.begin():
        entry, pdf = issue(session, store, session.get_one(Document, doc_id), body, seal(),
                           details(), signing)
        return entry.number_symbol, pdf


@pytest.mark.slow
def test_issued_file_reads_its_number_without_gap_shows_the_seal_alone_and_says_what_it_is(
        db: sessionmaker[Session], store: FileStore, data: DataDir, commune: DemoCommune,
        tmp_path: Path) -> None:
    level_lt = Signing(tsa_url=commune.pki.tsa_url, level=PadesLevel.B_LT,
                       contexts=lambda: validation_context(data.trust_store(), online=True))
    doc_id = approved(db, store, data, level_lt)
    with db() as session:
        draft = latest_version(session, session.get_one(Document, doc_id), VersionKind.DRAFT)
        assert draft is not None
        with pikepdf.open(io.BytesIO(store.get(draft.sha256))) as doc:
            draft_title = str(doc.docinfo.get("/Title", ""))
    number, pdf = _issue(db, store, data, level_lt, doc_id)
    _valid(data, commune, pdf, tmp_path, 2)
    report = verify(data, pdf)
    assert [s.modification_level for s in report.signatures] == ["form_filling", "lta_updates"]

    # "Số: 01/QĐ-UBND": the number flush against the symbol, in the body's embedded font
    assert number == MAIN_NUMBER
    # no gap before the "/": poppler reads the number and the symbol as one run, after
    # "Số:"; the digits end where the "/" begins
    assert f"\n{number}\n" in _text(pdf, tmp_path, 1)
    assert f"Số: {number}" in " ".join(_text(pdf, tmp_path, 1, "-layout").split())
    boxes = {word: float(x_max) for x_max, word in re.findall(
        r'<word xMin="[^"]*" yMin="[^"]*" xMax="([^"]*)" yMax="[^"]*">([^<]*)</word>',
        _text(pdf, tmp_path, 1, "-bbox"))}
    starts = {word: float(x_min) for x_min, word in re.findall(
        r'<word xMin="([^"]*)"[^>]*>([^<]*)</word>', _text(pdf, tmp_path, 1, "-bbox"))}
    digits_end, symbol = boxes[number.split("/")[0]], "/" + number.split("/")[1]
    assert digits_end == pytest.approx(starts[symbol], abs=0.5)
    digits = _widget_runs(pdf, NUMBER_FIELD)
    assert digits and all(r.embedded and "LiberationSerif" in r.font for r in digits)
    assert {r.size for r in digits} == {13.0}  # the header line's size
    for field in (DAY_FIELD, MONTH_FIELD):
        runs = _widget_runs(pdf, field)
        assert runs and all(r.embedded and "LiberationSerif-Italic" in r.font for r in runs)

    # the seal alone: no caption under it
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        last = len(doc.pages) - 1
    assert _widget_runs(pdf, ORGANISATION_FIELD, last) == []
    # the seal image is stored compactly: a palette, a few KB
    (image,) = _images(pdf, ORGANISATION_FIELD)
    assert image.colour_space == "/Indexed" and image.size <= 15 * 1024

    # metadata: written in the issuing revision, so the organisation signature covers it
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        info = {k: str(v) for k, v in doc.docinfo.items()}
        with doc.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp_title, xmp_subject = xmp.get("dc:title"), xmp.get("dc:description")
    assert draft_title != number
    assert info["/Title"] == number == xmp_title
    assert info["/Subject"] == "Về việc thử nghiệm" == xmp_subject
    assert info["/Author"] == "UBND xã Tiên Lữ"
    reader = open_reader(pdf)
    organisation = reader.embedded_regular_signatures[1]
    issuing_revision = reader.xrefs.get_introducing_revision(
        reader.trailer.raw_get("/Info").reference)
    assert issuing_revision <= organisation.signed_revision


@pytest.mark.slow
def test_a_body_that_asks_gets_its_name_and_the_time_under_the_seal(
        db: sessionmaker[Session], store: FileStore, data: DataDir, commune: DemoCommune,
        tmp_path: Path) -> None:
    captioned = Signing(tsa_url=commune.pki.tsa_url, seal_caption=True)
    doc_id = approved(db, store, data, captioned)
    _, pdf = _issue(db, store, data, captioned, doc_id)
    _valid(data, commune, pdf, tmp_path, 2)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        last = len(doc.pages) - 1
    runs = _widget_runs(pdf, ORGANISATION_FIELD, last)
    assert len(runs) == 2 and {r.size for r in runs} == {6.0}
    text = _text(pdf, tmp_path, last + 1)
    assert "UBND xã Tiên Lữ" in text and "+07:00" in text


# --- images ----------------------------------------------------------------------------------

def test_any_uploaded_image_is_reduced_to_a_small_palette_with_its_transparency(
        data: DataDir, commune: DemoCommune, tmp_path: Path) -> None:
    demo = Image.open(io.BytesIO(seal()))
    assert demo.mode == "P" and "transparency" in demo.info and len(seal()) <= 15 * 1024
    # a busy upload: a photo-like gradient seal with soft edges, 1200 px, RGBA
    upload = Image.new("RGBA", (1200, 1200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(upload)
    for r in range(560, 0, -4):
        draw.ellipse([600 - r, 600 - r, 600 + r, 600 + r],
                     fill=(200 + r % 50, 20 + r % 30, 30, 255 if r < 540 else 120))
    raw = io.BytesIO()
    upload.save(raw, format="PNG")
    palette, levels = compact_image(raw.getvalue())
    assert palette.mode == levels.mode == "P" and max(palette.size) == 1000
    assert len(palette.getcolors(256) or []) <= 16
    assert {v for _, v in levels.getcolors(256) or []} <= set(range(16))

    pdf = (Path(__file__).parent / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes()
    prepared = prepare_draft(pdf, plan_fields(locate(pdf)))
    with data.token("ubnd").signer(DEMO_PIN) as body:
        signed = sign_pdf(prepared, body, issuance(raw.getvalue(), "UBND xã Tiên Lữ", None,
                                                   None, None, tsa_url=commune.pki.tsa_url))
    _valid(data, commune, signed, tmp_path, 1)
    (image,) = _images(signed, ORGANISATION_FIELD)
    assert (image.colour_space, image.bits, image.mask_bits) == ("/Indexed", 4, 4)
    # a third of what 8-bit RGB and an 8-bit soft mask (pyHanko's own way) would take
    scaled = upload.resize((1000, 1000))
    plain = len(zlib.compress(scaled.convert("RGB").tobytes())) + len(
        zlib.compress(scaled.getchannel("A").tobytes()))
    assert image.size < plain / 3


# --- /Contents sized for the level --------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("level", list(PadesLevel))
def test_contents_room_is_the_measured_cms_plus_the_margin(
        data: DataDir, commune: DemoCommune, tmp_path: Path, level: PadesLevel) -> None:
    pdf = appendix_pdf(f"Quyết định số {MAIN_NUMBER}")
    tsa = None if level is PadesLevel.B_B else commune.pki.tsa_url
    options = appendix(pdf, MAIN_NUMBER, tsa_url=tsa, level=level,
                       validation_context=validation_context(data.trust_store(), online=True))
    with data.token("ubnd").signer(DEMO_PIN) as body:
        signed = sign_pdf(pdf, body, options)
    _valid(data, commune, signed, tmp_path, 1)
    (embedded,) = open_reader(signed).embedded_regular_signatures
    room = len(embedded.sig_object["/Contents"])  # bytes (the hex digits / 2)
    written = len(cms.ContentInfo.load(embedded.pkcs7_content, strict=False).dump())
    # the CA chain up to the root travels in the CMS
    assert len(embedded.signed_data["certificates"]) >= 3
    assert RESERVE_MARGIN <= room - written <= RESERVE_MARGIN + 128, (level, room, written)
    assert verify(data, signed).signatures[0].pades_level == level.value


def test_a_room_too_small_for_the_cms_fails_and_writes_nothing(
        data: DataDir, commune: DemoCommune) -> None:
    pdf = appendix_pdf(f"Quyết định số {MAIN_NUMBER}")
    options = appendix(pdf, MAIN_NUMBER, tsa_url=commune.pki.tsa_url)
    with data.token("ubnd").signer(DEMO_PIN) as body, pytest.raises(SigningFailed):
        sign_pdf(pdf, body, replace(options, bytes_reserved=2048))


@pytest.mark.slow
def test_a_draft_with_its_own_xmp_gets_it_rewritten_and_the_approval_stays_valid(
        data: DataDir, commune: DemoCommune, tmp_path: Path) -> None:
    from api.demo.art import handwritten_signature
    from signer import DocumentInfo
    from signer.profiles import approval

    source = (Path(__file__).parent / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes()
    with pikepdf.open(io.BytesIO(source)) as doc:  # what Word's own export carries
        with doc.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["dc:title"] = "Dự thảo QĐ"
        out = io.BytesIO()
        doc.save(out)
    prepared = prepare_draft(out.getvalue(), plan_fields(locate(out.getvalue())))
    tsa = commune.pki.tsa_url
    with data.token("pho-chu-tich-duc").signer(DEMO_PIN) as hand:
        approved_pdf = sign_pdf(prepared, hand, approval(handwritten_signature(), tsa_url=tsa))
    info = DocumentInfo("07/QĐ-UBND", "Về việc thử nghiệm", "UBND xã Tiên Lữ")
    with data.token("ubnd").signer(DEMO_PIN) as body:
        issued_pdf = sign_pdf(approved_pdf, body, issuance(
            seal(), "UBND xã Tiên Lữ", "07", "05", "11", tsa_url=tsa, info=info))
    _valid(data, commune, issued_pdf, tmp_path, 2)
    assert verify(data, issued_pdf).signatures[0].modification_level == "form_filling"
    with pikepdf.open(io.BytesIO(issued_pdf)) as doc:
        with doc.open_metadata(set_pikepdf_as_editor=False) as xmp:
            assert (xmp.get("dc:title"), xmp.get("dc:creator")) == ("07/QĐ-UBND",
                                                                    ["UBND xã Tiên Lữ"])
        assert str(doc.docinfo["/Title"]) == "07/QĐ-UBND"
