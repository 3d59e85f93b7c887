"""What each revision added after a signature changed, compared with the one before.

Kyso's own analysis, next to pyHanko's modification level: per later revision, the
pages (count, content streams, resources), the annotations on each page (widgets of
form fields excepted), the form fields (added, removed, filled, overwritten, redrawn)
and the DSS. ``signature``, ``timestamp``, ``dss`` and ``form_filling`` are allowed
after a signature; every other kind is flagged (see :mod:`signer.verdict`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from .malformed import PDF_ERRORS
from .report import Change

if TYPE_CHECKING:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = ["ALLOWED_CHANGES", "changes_after"]

#: Kyso's own change kinds that leave an earlier signature valid
ALLOWED_CHANGES = ("signature", "timestamp", "dss", "form_filling")


#: The most nodes a page tree or field tree walk here visits (a hostile file never
#: reaches this far: signer.guard refuses loops and huge trees before verification).
WALK_LIMIT = 5000


def _ref_key(ref: Any) -> tuple[int, int] | None:
    return (ref.idnum, ref.generation) if hasattr(ref, "idnum") else None


def _pages(root: generic.DictionaryObject, limit: int = WALK_LIMIT) -> list[Any]:
    """The page leaves, each node visited once (a loop is cut), at most ``limit`` nodes."""
    out: list[Any] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Any, int]] = [(root.raw_get("/Pages"), 0)]
    visited = 0
    while stack and visited < limit:
        ref, depth = stack.pop()
        key = _ref_key(ref)
        if depth > 64 or (key is not None and key in seen):
            continue
        if key is not None:
            seen.add(key)
        visited += 1
        node = ref.get_object()
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            kids = list(islice(node.get("/Kids", []), WALK_LIMIT))
            stack.extend((kid, depth + 1) for kid in reversed(kids))
        else:
            out.append(node)
    return out


#: An object of a revision: (object number, generation, where the revision's
#: cross-reference section puts it: a byte offset, a place in an object stream).
_Key = tuple[int, int, object]


class _Digests:
    """What a page's streams are, per revision, without reading them when possible.

    An object that a later revision did not rewrite stands at the same byte offset in
    both revisions' cross-reference sections: the same bytes, so no need to read, hash or
    decode it (a 200-page scan's page images are never loaded). One that moved is read
    once (its encoded bytes, never inflated) and its SHA-256 kept per (object, offset)
    for every revision that still points there."""

    def __init__(self, reader: PdfFileReader) -> None:
        self.reader = reader
        self._hashes: dict[_Key, str] = {}

    def token(self, ref: Any, revision: int) -> _StreamToken | str:
        """A comparable stand-in for the object ``ref`` (an indirect reference, or a
        direct object) refers to in ``revision``."""
        if not hasattr(ref, "idnum"):
            return repr(ref)
        where = self.reader.xrefs.get_historical_ref(ref.reference, revision)
        return _StreamToken(self, ref, (ref.idnum, ref.generation, where))

    def digest(self, token: _StreamToken) -> str:
        found = self._hashes.get(token.key)
        if found is None:
            h = hashlib.sha256()
            obj = token.ref.get_object()
            items = obj if isinstance(obj, list) else [obj]
            for item in items:
                if item is None:
                    continue
                item = item.get_object()
                try:  # the encoded bytes: a change shows as well, and nothing is inflated
                    h.update(item.encoded_data)
                except AttributeError:  # not a stream: use its text
                    h.update(repr(item).encode())
            found = self._hashes[token.key] = h.hexdigest()
        return found


class _StreamToken:
    """One object of one revision; equal to another when both stand at the same offset
    (the same bytes) or, failing that, when their encoded bytes hash alike."""

    __slots__ = ("digests", "key", "ref")

    def __init__(self, digests: _Digests, ref: Any, key: _Key) -> None:
        self.digests, self.ref, self.key = digests, ref, key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _StreamToken):
            return NotImplemented
        # an offset in the file is the same bytes; a place in an object stream is not
        # (the object stream itself may have been rewritten)
        if self.key == other.key and isinstance(self.key[2], int):
            return True
        return self.digests.digest(self) == self.digests.digest(other)

    __hash__ = None  # type: ignore[assignment]


#: What stands for an object of a revision: its token, or the text of a direct object.
_Token = _StreamToken | str
#: What a page's resources are: their names and each XObject's token; () for none.
_Resources = tuple[str, tuple[tuple[str, _Token], ...]] | tuple[()]


def _content(digests: _Digests, page: generic.DictionaryObject, revision: int) -> _Token:
    if "/Contents" not in page:
        return ""
    return digests.token(page.raw_get("/Contents"), revision)


def _resources(digests: _Digests, page: generic.DictionaryObject,
               revision: int) -> _Resources:
    try:
        resources = page["/Resources"]
    except KeyError:  # inherited from the page tree, or none: nothing of the page's own
        return ()
    # an unreadable resource raises: changes_after reports the revision as not analysable
    xobjects = resources.get("/XObject", {})
    return (repr(sorted(resources.keys())),
            tuple((name, digests.token(xobjects.raw_get(name), revision))
                  for name in sorted(xobjects)))


def _annot_key(ref: Any) -> str:
    return f"{ref.idnum}/{ref.generation}" if hasattr(ref, "idnum") else repr(ref)[:60]


def _fields(root: generic.DictionaryObject) -> dict[str, tuple[str, str, str]]:
    """Fully qualified name → (type, value, annotation key) of every form field."""
    out: dict[str, tuple[str, str, str]] = {}
    seen: set[tuple[int, int]] = set()

    def walk(ref: Any, prefix: str, depth: int) -> None:
        key = _ref_key(ref)
        if depth > 32 or len(seen) > WALK_LIMIT or (key is not None and key in seen):
            return
        if key is not None:
            seen.add(key)
        node = ref.get_object()
        name = str(node.get("/T", ""))
        full = f"{prefix}.{name}" if prefix and name else (name or prefix)
        kids = list(islice(node.get("/Kids", []), WALK_LIMIT))
        if kids and any("/T" in k.get_object() for k in kids):
            for kid in kids:
                walk(kid, full, depth + 1)
            return
        ftype = str(node.get("/FT", ""))
        value = node.get("/V")
        value_text = "" if value is None else str(value.get_object() if ftype != "/Sig"
                                                 else "signed")
        out[full] = (ftype, value_text, _annot_key(ref))

    try:
        for ref in islice(root["/AcroForm"]["/Fields"], WALK_LIMIT):
            walk(ref, "", 0)
    except KeyError:  # no form
        pass
    return out


def _dss_digest(root: generic.DictionaryObject) -> str:
    """What the DSS holds, by object numbers (a later revision may add to it), or ""."""
    if "/DSS" not in root:
        return ""
    h = hashlib.sha256()
    try:
        dss = root["/DSS"]
        for key in sorted(dss.keys()):
            value = dss.raw_get(key)
            h.update(key.encode() + repr(value).encode())
            try:
                resolved = value.get_object()
                items = resolved if isinstance(resolved, list) else sorted(resolved.keys())
                h.update(repr(list(items)).encode())
            except AttributeError:  # neither an array nor a dictionary: its text is kept
                pass
    except KeyError:  # no DSS
        h.update(b"none")
    return h.hexdigest()


@dataclass
class _Snapshot:
    #: per page: what its content streams and its resources are (comparable tokens)
    content: list[_Token]
    resources: list[_Resources]
    annots: list[dict[str, str]]  # per page: annotation key → subtype
    fields: dict[str, tuple[str, str, str]]
    #: fingerprint of the DSS (its entries' object numbers), "" without one
    dss: str


def _snapshot(digests: _Digests, revision: int) -> _Snapshot:
    root = digests.reader.get_historical_root(revision)
    pages = _pages(root)
    annots: list[dict[str, str]] = []
    for page in pages:
        found: dict[str, str] = {}
        for ref in islice(page.get("/Annots", []) or [], WALK_LIMIT):
            found[_annot_key(ref)] = str(ref.get_object().get("/Subtype", "?"))
        annots.append(found)
    return _Snapshot(
        content=[_content(digests, p, revision) for p in pages],
        resources=[_resources(digests, p, revision) for p in pages],
        annots=annots,
        fields=_fields(root),
        dss=_dss_digest(root),
    )


def _rect(reader: PdfFileReader, revision: int, key: str) -> str:
    try:
        idnum, gen = (int(v) for v in key.split("/"))
        from pyhanko.pdf_utils.generic import Reference

        obj = reader.get_historical_resolver(revision)(Reference(idnum, gen, reader))
        return " ".join(f"{float(v):.0f}" for v in obj["/Rect"])
    except PDF_ERRORS:  # only shown: the change itself is already a finding
        return "?"


def _diff(reader: PdfFileReader, before: _Snapshot, after: _Snapshot,
          revision: int) -> list[Change]:
    """What ``revision`` (0-based) changed compared with the one before it."""
    changes: list[Change] = []
    n = revision + 1
    if len(before.content) != len(after.content):
        changes.append(Change(n, "pages", f"{len(before.content)} → {len(after.content)} pages"))
    widget_keys = {v[2] for v in after.fields.values()} | {v[2] for v in before.fields.values()}
    for i in range(min(len(before.content), len(after.content))):
        if before.content[i] != after.content[i]:
            changes.append(Change(n, "page_content", f"page {i + 1}: content stream changed"))
        if before.resources[i] != after.resources[i]:
            changes.append(Change(n, "page_resources",
                                  f"page {i + 1}: resources (images/forms/fonts) changed"))
        for key, subtype in after.annots[i].items():
            if key not in before.annots[i] and key not in widget_keys:
                changes.append(Change(n, "annotation",
                                      f"page {i + 1}: {subtype} annotation added at "
                                      f"[{_rect(reader, revision, key)}]"))
        for key, subtype in before.annots[i].items():
            if key not in after.annots[i] and key not in widget_keys:
                changes.append(Change(n, "annotation", f"page {i + 1}: {subtype} annotation "
                                                       "removed"))
    refs = _explicit_refs(reader, revision)
    for name, (ftype, value, key) in after.fields.items():
        old = before.fields.get(name)
        if old is None:
            kind = "signature" if ftype == "/Sig" else "field_added"
            changes.append(Change(n, kind, f"field '{name}' ({ftype or '?'}) added"))
        elif old[1] != value:
            if ftype == "/Sig":
                changes.append(Change(n, "signature", f"signature field '{name}' signed"))
            elif old[1] in ("", "None"):
                changes.append(Change(n, "form_filling", f"field '{name}' filled: {value!r}"))
            else:
                changes.append(Change(n, "form_value_changed",
                                      f"field '{name}' changed: {old[1]!r} → {value!r}"))
        elif key in refs and ftype != "/Sig" and old == (ftype, value, key):
            changes.append(Change(n, "form_filling", f"field '{name}' appearance redrawn"))
    for name in before.fields.keys() - after.fields.keys():
        changes.append(Change(n, "field_removed", f"field '{name}' removed"))
    if after.dss and not before.dss:
        changes.append(Change(n, "dss", "validation data (DSS) added"))
    elif after.dss != before.dss and before.dss:
        changes.append(Change(n, "dss", "validation data (DSS) updated" if after.dss
                              else "validation data (DSS) removed"))
    return changes


def _explicit_refs(reader: PdfFileReader, revision: int) -> set[str]:
    return {f"{r.idnum}/{r.generation}"
            for r in reader.xrefs.explicit_refs_in_revision(revision)}


def changes_after(reader: PdfFileReader, signed_revision: int) -> list[Change]:
    """Every change made by the revisions after ``signed_revision`` (0-based), in order.

    A revision whose changes cannot be named is ``other``; one that cannot be read
    at all is a finding too, never an exception.
    """
    changes: list[Change] = []
    total = reader.xrefs.total_revisions
    if signed_revision + 1 >= total:  # nothing after the signature
        return changes
    digests = _Digests(reader)
    try:
        before = _snapshot(digests, signed_revision)
        for rev in range(signed_revision + 1, total):
            after = _snapshot(digests, rev)
            found = _diff(reader, before, after, rev)
            changes.extend(found or [Change(rev + 1, "other",
                                            "objects changed outside pages and fields")])
            before = after
    except PDF_ERRORS as exc:  # a revision that cannot be read is itself a finding
        changes.append(Change(signed_revision + 2, "other",
                              f"later revision cannot be analysed ({type(exc).__name__})"))
    return changes
