"""Every draft of the corpus is prepared where its own text says, signed by a person, then
numbered, dated and sealed — and both signatures stay valid; or it is refused with a reason."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from api.datadir import DataDir
from api.demo import DEMO_PIN, DemoCommune
from api.demo_art import handwritten_signature, seal
from certs import validation_context
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
    MONTH_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    PERSON_FIELD,
    plan_fields,
    prepare_draft,
)
from signer.sign import FieldFill

from .conftest import TESTS_DATA

DRAFTS = sorted((TESTS_DATA / "drafts").glob("*.pdf"))
MANY_BLOCKS = {"official_nd30_phuluc3_from_doc.pdf", "official_nd30_phuluc3_from_docx.pdf"}


def test_the_corpus_is_there() -> None:
    assert len(DRAFTS) == 18


@pytest.mark.parametrize("draft", [d for d in DRAFTS if d.name in MANY_BLOCKS], ids=str)
def test_a_file_of_many_templates_is_refused_with_a_reason(draft: Path) -> None:
    with pytest.raises(DraftHasNoSignatureBlock) as err:
        plan_fields(locate(draft.read_bytes()))
    assert "14" in err.value.en and "14" in err.value.vi


@pytest.mark.slow
@pytest.mark.parametrize("draft", [d for d in DRAFTS if d.name not in MANY_BLOCKS],
                         ids=lambda d: d.name)
def test_draft_is_prepared_signed_and_issued(data: DataDir, commune: DemoCommune,
                                             draft: Path) -> None:
    pdf = draft.read_bytes()
    layout = locate(pdf)
    plan = plan_fields(layout)
    block = layout.signature
    assert block is not None
    # the person's field sits between the last title line and the name, centred on them
    x1, y1, x2, y2 = plan.person.rect
    assert block.name_box.y1 - 1 <= y1 and y2 <= block.title_boxes[-1].y0 + 1
    assert abs((x1 + x2) / 2 - block.name_box.center[0]) < block.name_box.width
    # the seal covers the left third of the signature image
    assert plan.organisation.rect[2] == pytest.approx(x1 + (x2 - x1) / 3)

    prepared = prepare_draft(pdf, plan)
    with data.token("pho-chu-tich").signer(DEMO_PIN) as person:
        approved = sign_pdf(prepared, person, SigningOptions(
            field_name=PERSON_FIELD, appearance=Appearance.handwritten(handwritten_signature())))
    fills = tuple(FieldFill(name, text) for name, text in
                  ((NUMBER_FIELD, "07"), (DAY_FIELD, "09"), (MONTH_FIELD, "12"))
                  if name in dict(plan.text_fields()))
    with data.token("ubnd").signer(DEMO_PIN) as body:
        issued = sign_pdf(approved, body, SigningOptions(
            field_name=ORGANISATION_FIELD, fills=fills,
            appearance=Appearance.seal(seal(), "UBND xã Tiên Lữ")))

    store = data.trust_store()
    report = verify_pdf(issued, lambda: validation_context(store), draft.name, store)
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    assert [s.modification_level for s in report.signatures] == ["form_filling", "none"]
    with pikepdf.open(io.BytesIO(issued)) as doc:
        values = {str(f.T): str(f.get("/V", "")) for f in doc.Root.AcroForm.Fields}
    assert {values[f.field] for f in fills} <= {"07", "09", "12"}
    assert (NUMBER_FIELD in values) == (layout.number is not None)
