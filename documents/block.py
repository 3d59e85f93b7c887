"""Does the draft's signature block print the person who will sign it?

The block (found by :func:`signer.locate`) prints a designation line ("KT. CHỦ TỊCH"), a
title ("PHÓ CHỦ TỊCH") and a name. The last signer of a route signs in that block, so
routing checks them against that person and their signing authority before anybody is
asked to sign: a mismatch found only at signing time strands the document.
"""

from __future__ import annotations

import unicodedata

from signer import SignatureBlock

from .models import Designation, Person, SigningAuthority

#: Names that templates print where the signer's name goes: nobody to compare with.
PLACEHOLDER_NAMES = {"Họ và tên", "Họ và tên người ký"}


def _same(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())

    return norm(a) == norm(b)


def block_differences(block: SignatureBlock | None, person: Person,
                      authority: SigningAuthority) -> list[tuple[str, str]]:
    """What the block prints differently from ``person`` signing under ``authority``:
    (Vietnamese, English) pairs, none when they agree or the block names nobody."""
    if block is None or block.name in PLACEHOLDER_NAMES:
        return []
    found: list[tuple[str, str]] = []
    if not _same(block.name, person.full_name):
        found.append((f"tên in là {block.name}, người ký là {person.full_name}",
                      f"the printed name is {block.name}, the signer is {person.full_name}"))
    title = block.titles[-1] if block.titles else ""
    if title and not _same(title, person.position):
        found.append((f"chức vụ in là {title}, chức vụ người ký là {person.position}",
                      f"the printed title is {title}, the signer's is {person.position}"))
    printed = block.designation or ""
    held = authority.designation.value if authority.designation is not Designation.NONE else ""
    if printed != held:
        found.append((f"thẩm quyền in là “{printed or 'ký trực tiếp'}”, người ký được giao "
                      f"“{held or 'ký trực tiếp'}”",
                      f"the printed designation is '{printed or 'none'}', the signer holds "
                      f"'{held or 'none'}'"))
    return found
