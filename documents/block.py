"""Does the draft's signature block print the person who will sign it?

The block (found by :func:`signer.locate`) prints a designation line ("KT. CHỦ TỊCH"), a
title ("PHÓ CHỦ TỊCH") and a name. The last signer of a route signs in that block, so
routing checks them against that person and their signing authority before anybody is
asked to sign: a mismatch found only at signing time strands the document.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

from signer import SignatureBlock

from .models import Designation, Person, SigningAuthority

#: Names that templates print where the signer's name goes: nobody to compare with.
PLACEHOLDER_NAMES = {"Họ và tên", "Họ và tên người ký"}


def _same(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())

    return norm(a) == norm(b)


class Difference(NamedTuple):
    """One thing the block prints otherwise: ``what`` is "name", "title" or "designation"."""

    what: str
    vi: str
    en: str


def block_differences(block: SignatureBlock | None, person: Person,
                      authority: SigningAuthority) -> list[Difference]:
    """What the block prints differently from ``person`` signing under ``authority``;
    none when they agree or the block names nobody."""
    if block is None or block.name in PLACEHOLDER_NAMES:
        return []
    found: list[Difference] = []
    if not _same(block.name, person.full_name):
        found.append(Difference(
            "name", f"tên in là {block.name}, người ký là {person.full_name}",
            f"the printed name is {block.name}, the signer is {person.full_name}"))
    title = block.titles[-1] if block.titles else ""
    if title and not _same(title, person.position):
        found.append(Difference(
            "title", f"chức vụ in là {title}, chức vụ người ký là {person.position}",
            f"the printed title is {title}, the signer's is {person.position}"))
    printed = block.designation or ""
    held = authority.designation.value if authority.designation is not Designation.NONE else ""
    if printed != held:
        found.append(Difference(
            "designation", f"thẩm quyền in là “{printed or 'ký trực tiếp'}”, người ký được "
            f"giao “{held or 'ký trực tiếp'}”",
            f"the printed designation is '{printed or 'none'}', the signer holds "
            f"'{held or 'none'}'"))
    return found


def overridable(differences: list[Difference]) -> bool:
    """Whether a drafter's reason may send the document all the same: a title or a
    designation printed otherwise, yes (e.g. a title changed since the draft); another
    person's name, never (the approval signature would sit under somebody else's name)."""
    return all(d.what != "name" for d in differences)
