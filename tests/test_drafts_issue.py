"""Every draft of the corpus is prepared where its own text says, signed by a person, then
numbered, dated and sealed — and both signatures stay valid; or it is refused with a reason.
Each is issued in a year other than the one it was written in: the page prints the date of
issue whole (``pdftotext`` of the issued file), never the draft's year."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from api.datadir import DataDir
from api.demo.art import handwritten_signature, seal
from api.demo.demo import DEMO_PIN, DemoCommune
from certs import validation_context
from documents.issuance import date_fills
from signer import (
    Appearance,
    DraftHasNoSignatureBlock,
    SigningOptions,
    locate,
    sign_pdf,
    verify_pdf,
)
from signer.prepare import (
    DAY_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    PERSON_FIELD,
    YEAR_FIELD,
    plan_fields,
    prepare_draft,
)
from signer.sign import FieldFill

from .conftest import TESTS_DATA

DRAFTS = sorted((TESTS_DATA / "drafts").glob("*.pdf"))
#: The issued files, kept after the run for people to look at; not committed.
ARTEFACTS = Path(__file__).resolve().parent.parent / ".test-artefacts" / "drafts-issued"
MANY_BLOCKS = {"official_nd30_phuluc3_from_doc.pdf", "official_nd30_phuluc3_from_docx.pdf"}
#: The drafts print 2025 (or a blank year); they are issued in 2026.
ISSUED_ON = date(2026, 1, 9)


def printed_date_line(pdf: bytes, page: int) -> str:
    """The page's ``…, ngày … tháng … năm …`` line as poppler extracts it (form field
    appearances included), single-spaced."""
    text = subprocess.run(["pdftotext", "-f", str(page + 1), "-l", str(page + 1), "-", "-"],
                          input=pdf, capture_output=True, check=True).stdout.decode()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return next(line for line in lines if ", ngày" in line and "tháng" in line)


def test_the_corpus_is_there() -> None:
    assert len(DRAFTS) == 18


@pytest.mark.parametrize("draft", [d for d in DRAFTS if d.name in MANY_BLOCKS], ids=str)
def test_a_file_of_many_templates_is_refused_with_a_reason(draft: Path) -> None:
    with pytest.raises(DraftHasNoSignatureBlock) as err:
        plan_fields(locate(draft.read_bytes()))
    assert "14" in err.value.en and "14" in err.value.vi


def _issue(data: DataDir, pdf: bytes) -> tuple[Any, Any, bytes]:
    """Locate, prepare, approve (vice-chair's SoftHSM token) and issue ``pdf`` on
    :data:`ISSUED_ON`, number 07; the layout, the plan and the issued file."""
    layout = locate(pdf)
    plan = plan_fields(layout)
    prepared = prepare_draft(pdf, plan)
    with data.token("pho-chu-tich").signer(DEMO_PIN) as person:
        approved = sign_pdf(prepared, person, SigningOptions(
            field_name=PERSON_FIELD, appearance=Appearance.handwritten(handwritten_signature())))
    wanted = {NUMBER_FIELD: "07", **date_fills(ISSUED_ON)}
    fills = tuple(FieldFill(name, wanted[name]) for name, _ in plan.text_fields())
    with data.token("ubnd").signer(DEMO_PIN) as body:
        issued = sign_pdf(approved, body, SigningOptions(
            field_name=ORGANISATION_FIELD, fills=fills,
            appearance=Appearance.seal(seal(), "UBND xã Tiên Lữ")))
    return layout, plan, issued


def test_a_date_typed_in_the_draft_is_covered_by_the_date_of_issue(
        data: DataDir, commune: DemoCommune) -> None:
    """A day typed with room around it is covered like a blank; a one-digit month typed
    tight between the words cannot take two digits: it stays, and
    `documents.issuance.printed_date` refuses issuing in another month."""
    from .test_locate import HEADER, synthetic_draft

    pdf = synthetic_draft([
        *HEADER,
        (100.0, 115.0, "Số:        /QĐ-UBND", "r", 13.0),
        (300.0, 115.0, "Tiên Lữ, ngày   05   tháng   3   năm 2025", "i", 14.0),
        (370.0, 415.0, "CHỦ TỊCH", "b", 14.0),
        (360.0, 495.0, "Nguyễn Văn Hùng", "b", 14.0),
    ])
    layout, plan, issued = _issue(data, pdf)
    assert layout.date is not None and layout.date.day_blank is None  # typed in
    assert plan.day is not None and plan.month is not None and plan.year is not None
    assert printed_date_line(issued, 0) == "Tiên Lữ, ngày 09 tháng 01 năm 2026"
    store = data.trust_store()
    assert verify_pdf(issued, lambda: validation_context(store)).verdict == "valid"
    tight = locate(synthetic_draft([
        (300.0, 115.0, "Tiên Lữ, ngày 05 tháng 3 năm 2025", "i", 14.0)])).date
    assert tight is not None and tight.day_box is not None and tight.month_box is None


@pytest.mark.slow
@pytest.mark.parametrize("draft", [d for d in DRAFTS if d.name not in MANY_BLOCKS],
                         ids=lambda d: d.name)
def test_draft_is_prepared_signed_and_issued(data: DataDir, commune: DemoCommune,
                                             draft: Path) -> None:
    layout, plan, issued = _issue(data, draft.read_bytes())
    block = layout.signature
    assert block is not None
    # the person's field sits between the last title line and the name, centred on them
    x1, y1, x2, y2 = plan.person.rect
    assert block.name_box.y1 - 1 <= y1 and y2 <= block.title_boxes[-1].y0 + 1
    assert abs((x1 + x2) / 2 - block.name_box.center[0]) < block.name_box.width
    # the seal covers the left third of the signature image
    assert plan.organisation.rect[2] == pytest.approx(x1 + (x2 - x1) / 3)
    assert layout.date is not None and plan.year is not None
    fills = plan.text_fields()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / draft.name).write_bytes(issued)
    store = data.trust_store()
    report = verify_pdf(issued, lambda: validation_context(store), draft.name, store)
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    assert [s.modification_level for s in report.signatures] == ["form_filling", "none"]
    with pikepdf.open(io.BytesIO(issued)) as doc:
        values = {str(f.T): str(f.get("/V", "")) for f in doc.Root.AcroForm.Fields}
    assert {values[name] for name, _ in fills} <= {"07", "09", "01", "2026"}
    assert (NUMBER_FIELD in values) == (layout.number is not None)
    assert values[YEAR_FIELD] == "2026" and values[DAY_FIELD] == "09"
    # what the page says: the date of issue, whole, and nothing of the draft's year
    line = printed_date_line(issued, layout.date.line.page)
    assert line.endswith(", ngày 09 tháng 01 năm 2026"), line
    assert "2025" not in line and "…" not in line.split(", ngày")[1]
