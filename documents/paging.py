"""Pages of long lists, by keyset: a body's documents (years of them in a province) and a
signer's queue, a page at a time, each page found by a seek on an index, never by an
offset.

A page is read after or before a **cursor**, the sort key of a row the caller was shown,
written as an opaque URL-safe text (:func:`encode_cursor`). Rows that arrive later never
shift a page that has a cursor: a document created after the first page was read is newer
than every cursor of it, so "older than the cursor" pages keep showing the same rows.

Documents sort by ``(created_at, id)``: the time a document was made never changes, so a
document does not jump between pages as it moves through its life (its status does; a
status filter shows it where it now is). ``id`` breaks ties of the same instant. Each
(body, status) part is read by its own query, ``ORDER BY created_at, id LIMIT n + 1`` on
``ix_document_body_status_created`` (or ``ix_document_body_created`` without a status),
and the parts are merged: ``status IN (…)`` would make the database sort every matching
row first.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from .errors import UnknownValue
from .models import Document, DocumentStatus

T = TypeVar("T")

#: The page sizes callers may ask for.
MAX_PAGE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, in the list's order, and the cursors of its neighbours:
    ``following`` reads the next page (rows after the last one shown), ``preceding`` the
    page before (rows before the first one shown); None where there is none."""

    items: list[T]
    following: str | None = None
    preceding: str | None = None


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order."""

    expr: ColumnElement[Any] | InstrumentedAttribute[Any]
    ascending: bool = True


def encode_cursor(values: Sequence[object]) -> str:
    """The sort key of a row as opaque URL-safe text (times in UTC ISO form)."""
    plain = [v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, kinds: Sequence[type]) -> list[Any]:
    """The values :func:`encode_cursor` wrote, each checked against ``kinds`` (``datetime``
    read back from ISO form, or None: a key may be a nullable time).
    A cursor that is not one is an :class:`UnknownValue` (a 422), never a server error."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("shape")
        return [_typed(value, kind) for value, kind in zip(values, kinds, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise UnknownValue("vị trí trang", "page cursor", text[:80]) from exc


def _typed(value: Any, kind: type) -> Any:
    if kind is datetime:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError("time")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment.astimezone(UTC)
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError("int")
    if kind is str and (not isinstance(value, str) or len(value) > 64):
        raise TypeError("str")
    return value


def past(keys: Sequence[SortKey], values: Sequence[Any], *, forward: bool = True
         ) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order ``keys`` make (``forward``), or strictly
    before them. The first key's bound is also given alone (``created_at <= c AND (…)``)
    so the database seeks the index to the cursor instead of reading up to it."""
    def beyond(key: SortKey, value: Any, strict: bool) -> ColumnElement[bool]:
        up = key.ascending == forward
        found: ColumnElement[bool]
        if strict:
            found = key.expr > value if up else key.expr < value
        else:
            found = key.expr >= value if up else key.expr <= value
        return found

    alternatives = []
    for index, key in enumerate(keys):
        same = [k.expr == v for k, v in zip(keys[:index], values[:index], strict=True)]
        alternatives.append(and_(*same, beyond(key, values[index], strict=True)))
    return and_(beyond(keys[0], values[0], strict=False), or_(*alternatives))


# --- a body's documents ------------------------------------------------------------------

#: Documents sort by when they were made, then id.
DOCUMENT_KINDS: tuple[type, ...] = (datetime, str)


def document_cursor(document: Document) -> str:
    return encode_cursor([document.created_at, document.id])


def document_key(document: Document) -> tuple[datetime, str]:
    return (document.created_at, document.id)


def document_page(session: Session, body_ids: Iterable[int], *,
                  statuses: Sequence[DocumentStatus] = (), limit: int = 50,
                  following: str | None = None, preceding: str | None = None,
                  oldest_first: bool = False,
                  narrowed: Mapping[DocumentStatus, ColumnElement[bool]] | None = None,
                  ) -> Page[Document]:
    """A page of the documents of ``body_ids`` (of ``statuses``, all without), newest
    first (``oldest_first``: oldest first), ``limit`` of them: those following the cursor
    ``following`` in that order, or preceding the cursor ``preceding`` (a
    :attr:`Page.following` / :attr:`Page.preceding`; neither: the first page).

    ``narrowed`` adds a condition to the documents of one status (the drafter's refused
    drafts: DRAFT *and* a problem). Going back past the start gives the first page whole."""
    limit = max(1, min(limit, MAX_PAGE))
    bodies = sorted(set(body_ids))
    if not bodies:
        return Page([])
    keys = [SortKey(Document.created_at, oldest_first), SortKey(Document.id, oldest_first)]
    cursor = following or preceding
    bound = None
    if cursor is not None:
        bound = past(keys, decode_cursor(cursor, DOCUMENT_KINDS), forward=preceding is None)
    parts: list[tuple[int, DocumentStatus | None]] = [
        (body, status) for body in bodies
        for status in (list[DocumentStatus | None](statuses) or [None])]

    def read(forward: bool, condition: ColumnElement[bool] | None) -> list[Document]:
        order = [k.expr.asc() if k.ascending == forward else k.expr.desc() for k in keys]
        found: list[list[Document]] = []
        for body, status in parts:
            query = select(Document).where(Document.body_id == body)
            if status is not None:
                query = query.where(Document.status == status)
                extra = (narrowed or {}).get(status)
                if extra is not None:
                    query = query.where(extra)
            if condition is not None:
                query = query.where(condition)
            found.append(list(session.scalars(query.order_by(*order).limit(limit + 1))))
        rank: Callable[[Document], Any] = document_key
        merged = heapq.merge(*found, key=rank, reverse=forward != oldest_first)
        return [d for _, d in zip(range(limit + 1), merged, strict=False)]

    if preceding is not None:
        rows = read(False, bound)
        if len(rows) <= limit:  # back at the start: the first page, whole
            return document_page(session, bodies, statuses=statuses, limit=limit,
                                 oldest_first=oldest_first, narrowed=narrowed)
        shown = list(reversed(rows[:limit]))
        return Page(shown, following=document_cursor(shown[-1]),
                    preceding=document_cursor(shown[0]))
    rows = read(True, bound)
    shown = rows[:limit]
    following_cursor = document_cursor(shown[-1]) if len(rows) > limit else None
    back = document_cursor(shown[0]) if cursor is not None and shown else None
    return Page(shown, following=following_cursor, preceding=back)


def status_counts(session: Session, body_ids: Iterable[int]) -> dict[DocumentStatus, int]:
    """How many documents of ``body_ids`` are at each status (0 for none): one pass over
    ``ix_document_body_status_created``, for the counts the pages' headers show."""
    counts = dict.fromkeys(DocumentStatus, 0)
    for status, count in session.execute(
            select(Document.status, func.count()).where(Document.body_id.in_(set(body_ids)))
            .group_by(Document.status)):
        counts[status] = count
    return counts


def document_count(session: Session, body_ids: Iterable[int],
                   statuses: Sequence[DocumentStatus],
                   narrowed: Mapping[DocumentStatus, ColumnElement[bool]] | None = None) -> int:
    """How many documents of ``body_ids`` :func:`document_page` lists with these
    arguments (every page of them)."""
    total = 0
    for status in statuses:
        query = select(func.count()).select_from(Document).where(
            Document.body_id.in_(set(body_ids)), Document.status == status)
        extra = (narrowed or {}).get(status)
        if extra is not None:
            query = query.where(extra)
        total += session.scalar(query) or 0
    return total


def parse_statuses(values: Iterable[str]) -> list[DocumentStatus]:
    """Status names as a caller writes them (repeated, or comma-separated), checked."""
    names = [n.strip().upper() for v in values for n in v.split(",") if n.strip()]
    statuses = []
    for name in names:
        if name not in DocumentStatus.__members__:
            raise UnknownValue("trạng thái", "status", name, DocumentStatus.__members__)
        if DocumentStatus[name] not in statuses:
            statuses.append(DocumentStatus[name])
    return statuses
