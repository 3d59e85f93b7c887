"""The text layout of a document's prepared version, read once per process.

Reading the layout (:func:`signer.locate`) costs tens of milliseconds a page, and a
document needs it several times: routing checks the signature block, the approval checks
it again, the clerk's page and the issue read the date line. A stored version never
changes (files are named by their SHA-256), and signing adds no page content — an
approval made here writes only its signature field, one made elsewhere is accepted only
when it changed nothing else (:mod:`signer.returned`) — so the layout of the PREPARED
version is the layout of every version signed from it. It is kept per process, by hash,
for the most recent :data:`KEPT` documents.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from signer import DraftLayout, locate

from .storage import FileStore

__all__ = ["KEPT", "prepared_layout"]

#: layouts kept per process (a few kB each)
KEPT = 512

_kept: OrderedDict[str, DraftLayout] = OrderedDict()
_lock = threading.Lock()


def prepared_layout(store: FileStore, sha256: str, pdf: bytes | None = None) -> DraftLayout:
    """The layout of the stored version ``sha256`` (its bytes ``pdf`` when the caller has
    them already)."""
    with _lock:
        found = _kept.get(sha256)
        if found is not None:
            _kept.move_to_end(sha256)
            return found
    layout = locate(pdf if pdf is not None else store.get(sha256))
    with _lock:
        _kept[sha256] = layout
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return layout
