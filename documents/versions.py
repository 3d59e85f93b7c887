"""How versions are named to people: each distinct from the others of its kind, the same
in the pages, the trail and the JSON API ("Dự thảo", "Dự thảo đã sửa lần 1" …)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import DocumentVersion, VersionKind

__all__ = ["CORRECTED", "numbered", "version_label", "version_labels"]


#: Kinds a corrected draft makes again: their later versions are "đã sửa lần n".
CORRECTED = {VersionKind.DRAFT, VersionKind.PREPARED}


def version_label(kind: VersionKind, ordinal: int) -> str:
    """A version as the lists and the trail name it, distinct from the others of its kind:
    "Dự thảo", then "Dự thảo đã sửa lần 1", "Dự thảo đã sửa lần 2" …; "Phụ lục", "Phụ lục
    (bản thứ 2)" …"""
    if ordinal <= 1:
        return kind.value
    if kind is VersionKind.DRAFT:
        return f"{kind.value} đã sửa lần {ordinal - 1}"
    if kind in CORRECTED:
        return f"{kind.value} (bản sửa lần {ordinal - 1})"
    return f"{kind.value} (bản thứ {ordinal})"


def numbered(versions: Sequence[DocumentVersion]) -> list[tuple[DocumentVersion, int, str]]:
    """Each version (oldest first) with its ordinal among those of its kind and its label."""
    seen: dict[VersionKind, int] = {}
    out = []
    for version in versions:
        seen[version.kind] = seen.get(version.kind, 0) + 1
        out.append((version, seen[version.kind], version_label(version.kind, seen[version.kind])))
    return out


def version_labels(db: Session, document_ids: set[str]) -> dict[tuple[str, str], str]:
    """The label of every version of these documents, by (document id, SHA-256)."""
    by_document: dict[str, list[DocumentVersion]] = {}
    for version in db.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id.in_(document_ids)).order_by(DocumentVersion.id)):
        by_document.setdefault(version.document_id, []).append(version)
    labels: dict[tuple[str, str], str] = {}
    for document_id, versions in by_document.items():
        for version, _, label in numbered(versions):
            labels.setdefault((document_id, version.sha256), label)
    return labels
