"""The draft's signature block against the person chosen to sign it."""

from __future__ import annotations

from documents import block_differences
from documents.block import overridable
from documents.models import Designation, Person, SigningAuthority
from signer import Box, SignatureBlock

BOX = Box(page=0, x0=0.0, y0=0.0, x1=1.0, y1=1.0)


def block(name: str, *titles: str, designation: str | None = None) -> SignatureBlock:
    return SignatureBlock(titles=titles, title_boxes=tuple(BOX for _ in titles),
                          designation=designation, name=name, name_box=BOX,
                          signing_area=BOX)


DUC = Person(full_name="Lê Minh Đức", position="Phó Chủ tịch")
KT = SigningAuthority(designation=Designation.KT, on_behalf_of="Chủ tịch")
OWN = SigningAuthority(designation=Designation.NONE)


def test_a_block_that_prints_the_signer_agrees() -> None:
    printed = block("Lê Minh Đức", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", designation="KT.")
    assert block_differences(printed, DUC, KT) == []


def test_name_title_and_designation_are_each_named_when_they_differ() -> None:
    printed = block("Trần Thị Thu Hà", "CHỦ TỊCH")
    found = block_differences(printed, DUC, KT)
    assert [d.what for d in found] == ["name", "title", "designation"]
    assert not overridable(found)  # another person's name: never sent on a reason
    differences = [d.en for d in found]
    assert "Trần Thị Thu Hà" in differences[0] and "Lê Minh Đức" in differences[0]
    assert "CHỦ TỊCH" in differences[1] and "Phó Chủ tịch" in differences[1]
    assert "'none'" in differences[2] and "'KT.'" in differences[2]


def test_case_spacing_and_unicode_form_do_not_count() -> None:
    decomposed = "Le\u0302 Minh  \u0110u\u031b\u0301c"  # NFD, two spaces
    printed = block(decomposed, "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", designation="KT.")
    assert block_differences(printed, DUC, KT) == []


def test_templates_and_drafts_without_a_block_name_nobody() -> None:
    assert block_differences(None, DUC, OWN) == []
    assert block_differences(block("Họ và tên", "CHỦ TỊCH"), DUC, OWN) == []


def test_a_title_changed_since_the_draft_may_be_sent_with_a_reason() -> None:
    printed = block("Lê Minh Đức", "KT. CHỦ TỊCH", "ỦY VIÊN", designation="KT.")
    found = block_differences(printed, DUC, KT)
    assert [d.what for d in found] == ["title"] and overridable(found)
