"""Drafts still marked "DỰ THẢO" are refused, naming the mark and where it is, or — when the
drafter asks — prepared with the mark taken off the page, so no issued page says DỰ THẢO.
The marked drafts are real drafts of the corpus with a mark drawn on them by the test."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.cli.operations import verify_document
from api.datadir import DataDir
from api.demo.art import handwritten_signature, seal
from api.demo.demo import DEMO_PIN
from documents import (
    AuditAction,
    AuditEvent,
    Document,
    DocumentStatus,
    FileStore,
    Organisation,
    Signing,
    VersionKind,
    approve,
    issue,
    latest_version,
    new_draft,
    prepare,
)
from signer import DraftMarked, MarkNotCovered, PdfHostile, find_draft_marks, locate
from signer.fonts import serif_fonts
from signer.prepare import check_draft, plan_fields, prepare_draft

from .conftest import TESTS_DATA
from .test_issuance import db, details, person, signing, store  # noqa: F401  (fixtures)

DRAFTS = TESTS_DATA / "drafts"
QD = DRAFTS / "a_quyet_dinh_1trang.pdf"
Draw = Callable[[Any, float, float], None]


def _fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = serif_fonts()
    pdfmetrics.registerFont(TTFont("KsSerif", regular))
    pdfmetrics.registerFont(TTFont("KsSerifBold", bold))


def stamped(draft: Path, draw: Draw, *, page: int = 0, inline: bool = True) -> bytes:
    """``draft`` with what ``draw(canvas, width, height)`` paints (ReportLab, embedded
    Noto/Liberation Serif) added to one page: written into the page's own content stream
    (``inline``, as a word processor does), or as a form XObject overlay."""
    from reportlab.pdfgen import canvas as reportlab

    _fonts()
    with pikepdf.open(draft) as doc:
        target = doc.pages[page]
        width, height = float(target.mediabox[2]), float(target.mediabox[3])
        buffer = io.BytesIO()
        sheet = reportlab.Canvas(buffer, pagesize=(width, height))
        draw(sheet, width, height)
        sheet.showPage()
        sheet.save()
        with pikepdf.open(io.BytesIO(buffer.getvalue())) as mark:
            source = mark.pages[0]
            if not inline:
                target.add_overlay(source, pikepdf.Rectangle(0, 0, width, height))
            else:
                renames: dict[str, str] = {}
                for key, font in source.Resources.Font.items():
                    renames[key] = f"/KsMark{len(renames)}"
                    target.Resources.Font[renames[key]] = doc.copy_foreign(font)
                ops = []
                for instruction in pikepdf.parse_content_stream(source):
                    operands = list(instruction.operands)
                    if str(instruction.operator) == "Tf":
                        operands[0] = pikepdf.Name(renames[str(operands[0])])
                    ops.append((operands, instruction.operator))
                target.contents_add(doc.make_stream(b"q\n"), prepend=True)
                target.contents_add(doc.make_stream(
                    b"Q\nq\n" + pikepdf.unparse_content_stream(ops) + b"\nQ\n"))
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def top_line(text: str, size: float = 13, spacing: float = 0) -> Draw:
    """A standalone line at the top right, above the header (in the top margin)."""
    def draw(c: Any, width: float, height: float) -> None:
        label = c.beginText()
        label.setFont("KsSerifBold", size)
        label.setCharSpace(spacing)
        label.setTextOrigin(width - 150, height - 38)
        label.textLine(text)
        c.drawText(label)
    return draw


def rotated_watermark(c: Any, width: float, height: float) -> None:
    c.saveState()
    c.setFillGray(0.85)
    c.translate(width / 2, height / 2)
    c.rotate(45)
    c.setFont("KsSerifBold", 72)
    c.drawCentredString(0, 0, "DỰ THẢO")
    c.restoreState()


def light_watermark(c: Any, width: float, height: float) -> None:
    c.setFillGray(0.8)
    c.setFont("KsSerifBold", 60)
    c.drawCentredString(width / 2, height / 2, "BẢN DỰ THẢO")


def body_mentions(c: Any, width: float, height: float) -> None:
    """Sentences that speak of a draft: body text, never a mark (one in the top third)."""
    c.setFont("KsSerif", 14)
    c.drawString(85, height - 180, "Xét dự thảo Quy chế làm việc của Ủy ban nhân dân xã;")
    c.drawString(85, height - 400, "Dự thảo Kế hoạch đã được lấy ý kiến các thôn.")
    c.drawString(85, height - 420, "- Dự thảo (lần 2);")


def _prepare(pdf: bytes, cover: bool = False) -> bytes:
    return prepare_draft(pdf, plan_fields(locate(pdf)), cover_draft_mark=cover)


def _text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


@pytest.mark.parametrize("draft", sorted(DRAFTS.glob("*.pdf")), ids=lambda d: d.name)
def test_no_draft_of_the_corpus_carries_a_mark(draft: Path) -> None:
    assert find_draft_marks(draft.read_bytes()) == []


@pytest.mark.parametrize("mark", [
    top_line("DỰ THẢO"), top_line("Dự thảo"), top_line("DU THAO"), top_line("D Ự   T H Ả O"),
    top_line("DỰ THẢO", spacing=6), top_line("(Dự thảo lần 2)"), top_line("BẢN DỰ THẢO"),
    top_line("Dự thảo 3", size=11)],
    ids=["caps", "sentence-case", "no-diacritics", "spaced", "char-spacing", "lan-2", "ban",
         "small"])
def test_a_mark_line_at_the_top_refuses_the_draft_naming_it(mark: Draw) -> None:
    pdf = stamped(QD, mark)
    with pytest.raises(DraftMarked) as err:
        _prepare(pdf)
    assert "ở đầu trang 1 (bên phải)" in err.value.vi and "che dấu DỰ THẢO" in err.value.vi
    assert "at the top of page 1 (right)" in err.value.en
    assert "cover_draft_mark=true" in err.value.en


def test_the_page_of_the_mark_is_named(tmp_path: Path) -> None:
    pdf = stamped(DRAFTS / "c_thong_bao_2trang.pdf", top_line("DỰ THẢO"), page=1)
    with pytest.raises(DraftMarked) as err:
        _prepare(pdf)
    assert "trang 2" in err.value.vi and "page 2" in err.value.en


@pytest.mark.parametrize(("mark", "vi", "en"), [
    (rotated_watermark, "chữ xoay", "rotated text"),
    (light_watermark, "chữ cỡ lớn", "large text"),
])
def test_a_watermark_refuses_the_draft(mark: Draw, vi: str, en: str) -> None:
    with pytest.raises(DraftMarked) as err:
        _prepare(stamped(QD, mark))
    assert "hình mờ" in err.value.vi and vi in err.value.vi
    assert "watermark on page 1" in err.value.en and en in err.value.en


def test_a_draft_stamp_annotation_refuses_the_draft() -> None:
    with pikepdf.open(QD) as doc:
        stamp = doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Stamp, Name=pikepdf.Name.Draft,
            Rect=pikepdf.Array([400, 780, 560, 820])))
        doc.pages[0].obj.Annots = pikepdf.Array([stamp])
        out = io.BytesIO()
        doc.save(out)
    with pytest.raises(DraftMarked) as err:
        _prepare(out.getvalue())
    assert "Draft" in err.value.vi and "trang 1" in err.value.vi
    covered = _prepare(out.getvalue(), cover=True)
    with pikepdf.open(io.BytesIO(covered)) as doc:
        assert all(a.Subtype == "/Widget" for a in doc.pages[0].Annots)


def _with_stamp(**extra: Any) -> bytes:
    with pikepdf.open(QD) as doc:
        stamp = doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Stamp, Name=pikepdf.Name.Draft,
            Rect=pikepdf.Array([400, 780, 560, 820]), **extra))
        doc.pages[0].obj.Annots = pikepdf.Array([stamp])
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def test_a_draft_stamp_is_left_to_preparation_but_refused_elsewhere() -> None:
    """The upload check of a draft lets a "Draft" stamp through (preparation names it or
    takes it off); the same check for another file (an attachment) refuses it as any
    annotation outside the allow-list; a stamp carrying an action is refused always."""
    pdf = _with_stamp()
    check_draft(pdf, draft_marks=True)
    with pytest.raises(PdfHostile) as err:
        check_draft(pdf)
    assert err.value.code == "active" and "/Stamp" in err.value.en
    scripted = _with_stamp(A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                JS=pikepdf.String("app.alert(1)")))
    with pytest.raises(PdfHostile) as err:
        check_draft(scripted, draft_marks=True)
    assert err.value.code == "active"
    with pytest.raises(PdfHostile):
        _prepare(scripted, cover=True)


def test_a_body_that_speaks_of_a_draft_is_not_refused() -> None:
    pdf = stamped(QD, body_mentions)
    assert find_draft_marks(pdf) == []
    prepared = _prepare(pdf)
    assert "Xét dự thảo Quy chế" in _text(prepared)


def test_covering_takes_only_the_marks_off_the_page() -> None:
    def both(c: Any, width: float, height: float) -> None:
        top_line("DỰ THẢO")(c, width, height)
        rotated_watermark(c, width, height)

    covered = _prepare(stamped(QD, both), cover=True)
    assert find_draft_marks(covered) == []
    text = _text(covered)
    assert "DỰ THẢO" not in text.upper() and "THẢO" not in text.upper()
    # everything else reads as the same draft prepared without marks
    assert text == _text(_prepare(QD.read_bytes()))
    layout = locate(covered)
    assert layout.signature is not None and layout.signature.name == "Nguyễn Văn Hùng"


def test_a_mark_that_cannot_be_taken_off_is_refused_even_when_asked() -> None:
    pdf = stamped(QD, top_line("DỰ THẢO"), inline=False)  # inside a form XObject
    with pytest.raises(DraftMarked):
        _prepare(pdf)
    with pytest.raises(MarkNotCovered) as err:
        _prepare(pdf, cover=True)
    assert "DỰ THẢO" in err.value.vi and "XObject" in err.value.en


@pytest.mark.slow
def test_a_marked_draft_is_refused_or_covered_then_signed_and_issued_without_it(
        db: sessionmaker[Session], store: FileStore, data: DataDir,  # noqa: F811
        signing: Signing) -> None:  # noqa: F811
    pdf = stamped(DRAFTS / "t1_mau12_quyet_dinh.pdf", top_line("DỰ THẢO"))
    with db() as session, session.begin():
        body = session.scalars(select(Organisation)).one()
        doc_id = new_draft(session, store, body, "quyet-dinh", "Có dấu dự thảo", pdf).id
    with db() as session, pytest.raises(DraftMarked), session.begin():
        prepare(session, store, session.get_one(Document, doc_id))
    with db() as session:
        document = session.get_one(Document, doc_id)
        assert document.status is DocumentStatus.DRAFT
        assert latest_version(session, document, VersionKind.PREPARED) is None
    with db() as session, session.begin():
        prepare(session, store, session.get_one(Document, doc_id), actor="chuyenvien",
                cover_draft_mark=True)
    with db() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.PREPARE)).one()
        assert json.loads(event.details)["draft_marks_covered"] == [
            {"page": 1, "kind": "line", "text": "DỰ THẢO"}]
    with data.token("pho-chu-tich-duc").signer(DEMO_PIN) as hand, db() as session, \
            session.begin():
        approve(session, store, session.get_one(Document, doc_id),
                person(session, "Lê Minh Đức"), hand, handwritten_signature(), signing)
    with data.token("ubnd").signer(DEMO_PIN) as body_signer, db() as session, \
            session.begin():
        _, issued = issue(session, store, session.get_one(Document, doc_id), body_signer,
                          seal(), details(day=date(2026, 1, 2)), signing)
    text = _text(issued)
    assert "THẢO" not in text.upper() and "ngày 02 tháng 01 năm 2026" in " ".join(text.split())
    assert verify_document(data, issued).verdict == "valid"
