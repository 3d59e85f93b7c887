"""OCSP responses, CRLs and issuer certificates fetched once per process and reused.

A pyHanko validation context fetches revocation information for itself and forgets it
when it is dropped; verifying a batch makes one context per signature (and pyHanko
asks for the signer's OCSP response, the intermediate's CRL, … each time), so the same
responses would be fetched again for every file. :class:`SharedFetchers` keeps what was
fetched for a short time (:data:`SHARED_FETCH_TTL`) and hands every context its own
:class:`~pyhanko_certvalidator.fetchers.Fetchers` backed by that cache:

- each context still gets a fresh request budget (pyHanko's ``FetchLimits``) and sees
  only the responses *it* used, so reports never mix evidence between files;
- a failed fetch is not kept: the next context asks the server again;
- an entry is dropped when older than the time to live, or once the OCSP response or
  CRL itself says it is stale (its ``nextUpdate`` has passed).

The price is that a certificate revoked during the time to live is seen as revoked
only after the cached "good" response expires (5 minutes by default). Use one instance
per process (e.g. per batch worker); it is safe to share between threads.

Given a ``folder`` (``kyso sign``: the data directory's ``cache/revocation``), what is
fetched is also written there (DER, one file per request) and found again by the next
process, which has no memory of its own: a command run several times in a row then asks
the OCSP responder once per time to live, as a worker does. A response read back from
disk counts by the time it says itself it was made where it says so — an OCSP
response's ``producedAt``, signed by the responder, not when the file was written —, a
CRL (made once per period, hours before it is fetched) by when it was fetched, and as in
memory never past its ``nextUpdate``; the validator then checks it as it checks a fetched
one (a CRL within its own validity period is what it accepts embedded in a file, too).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

from asn1crypto import crl, ocsp, x509
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.fetchers import (
    CertificateFetcher,
    CRLFetcher,
    Fetchers,
    OCSPFetcher,
)
from pyhanko_certvalidator.fetchers.common_utils import gather_aia_issuer_urls
from pyhanko_certvalidator.util import issuer_serial

#: how long fetched revocation information and certificates are reused
SHARED_FETCH_TTL = dt.timedelta(minutes=5)
#: at most this many cached entries (OCSP responses, CRL sets, issuer lists) per process
MAX_ENTRIES = 10_000

def _past(moment: dt.datetime | None) -> bool:
    return moment is not None and moment < dt.datetime.now(dt.UTC)


def _ocsp_stale(response: ocsp.OCSPResponse) -> bool:
    try:
        singles = response["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]
        return any(_past(single["next_update"].native) for single in singles)
    except (KeyError, TypeError, ValueError):
        return True


def _crl_stale(lists: Iterable[crl.CertificateList]) -> bool:
    try:
        return any(_past(item["tbs_cert_list"]["next_update"].native) for item in lists)
    except (KeyError, TypeError, ValueError):
        return True


def _made_at(kind: object, value: Any) -> dt.datetime | None:
    """When the responder says it made ``value`` (a cached OCSP response's signed
    ``producedAt``); None for what does not say when it was fetched (CRLs are made once
    per period, hours or days before they are fetched; issuer certificates)."""
    if kind != "ocsp":
        return None
    try:
        made = value["response_bytes"]["response"].parsed["tbs_response_data"]["produced_at"]
        return made.native  # type: ignore[no-any-return]
    except (KeyError, TypeError, ValueError):
        return dt.datetime.min.replace(tzinfo=dt.UTC)  # unreadable: too old to use


def _encode(kind: object, value: Any) -> bytes:
    """``value`` as the DER it came as: one OCSP response, or length-prefixed items."""
    if kind == "ocsp":
        return bytes(value.dump())
    return b"".join(len(item.dump()).to_bytes(4, "big") + item.dump() for item in value)


def _decode(kind: object, data: bytes) -> Any:
    if kind == "ocsp":
        return ocsp.OCSPResponse.load(data)
    spec = crl.CertificateList if kind == "crl" else x509.Certificate
    items, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        items.append(spec.load(data[at + 4:at + 4 + size]))
        at += 4 + size
    return items


class SharedFetchers:
    """A process's cache of fetched OCSP responses, CRLs and issuer certificates.

    :meth:`fetchers` gives a new pyHanko ``Fetchers`` for one validation context
    (pass it as ``validation_context(..., shared=this)``).
    """

    def __init__(self, ttl: dt.timedelta = SHARED_FETCH_TTL, *, timeout: float = 5,
                 clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_ENTRIES, folder: Path | None = None) -> None:
        self.ttl = ttl.total_seconds()
        #: where fetched answers are also kept for the next process (None: memory only)
        self.folder = folder
        self.timeout = timeout
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        #: requests answered from the cache / sent to a server, since creation
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def fetchers(self) -> Fetchers:
        """Fetchers for one validation context, with its own request budget."""
        from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

        inner = RequestsFetcherBackend(per_request_timeout=self.timeout).get_fetchers()
        return Fetchers(ocsp_fetcher=_CachedOcsp(inner.ocsp_fetcher, self),
                        crl_fetcher=_CachedCrl(inner.crl_fetcher, self),
                        cert_fetcher=_CachedCerts(inner.cert_fetcher, self))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: Hashable, stale: Callable[[Any], bool]) -> Any:
        """The cached value for ``key``, or None when absent, too old or stale."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._read(key)
            if entry is not None and self._clock() - entry[0] < self.ttl and not stale(entry[1]):
                self._entries[key] = entry
                self.hits += 1
                return entry[1]
            self._entries.pop(key, None)
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))  # the oldest
            self._entries[key] = (self._clock(), value)
            self._write(key, value)

    def _file(self, key: Hashable) -> Path | None:
        if self.folder is None:
            return None
        kind = key[0] if isinstance(key, tuple) else None
        return self.folder / f"{kind}-{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}.der"

    def _read(self, key: Hashable) -> tuple[float, Any] | None:
        """``key``'s answer kept on disk by an earlier process, with the monotonic time
        it counts as fetched at (its age by the CA's own time), or None."""
        path = self._file(key)
        if path is None:
            return None
        kind = key[0] if isinstance(key, tuple) else None
        try:
            value = _decode(kind, path.read_bytes())
            age_from = _made_at(kind, value)
            if age_from is None:  # CRLs, issuer certificates: by the file's age
                age = time.time() - path.stat().st_mtime
            else:
                age = (dt.datetime.now(dt.UTC) - age_from).total_seconds()
        except (OSError, ValueError, TypeError, KeyError):
            return None  # absent or unreadable: fetched again
        if not 0 <= age < self.ttl:
            return None
        return self._clock() - age, value

    def _write(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` on disk for the next process (a cache: no fsync; written beside
        and renamed, so a reader never sees half a file). A failure only costs a fetch."""
        path = self._file(key)
        if path is None:
            return
        kind = key[0] if isinstance(key, tuple) else None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".fetch-")
        except OSError:
            return
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(_encode(kind, value))
            os.replace(partial, path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(partial)


class _CachedOcsp(OCSPFetcher):
    def __init__(self, inner: OCSPFetcher, cache: SharedFetchers) -> None:
        self._inner = inner
        self._cache = cache
        self._used: dict[Hashable, ocsp.OCSPResponse] = {}

    async def fetch(self, cert: Any, authority: Authority) -> ocsp.OCSPResponse:
        key = ("ocsp", issuer_serial(cert), authority.hashable)
        response = self._cache.get(key, _ocsp_stale)
        if response is None:
            response = await self._inner.fetch(cert, authority)  # a failure is not cached
            self._cache.put(key, response)
        self._used[key] = response
        return response

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return list(self._used.values())

    def fetched_responses_for_cert(self, cert: Any) -> Iterable[ocsp.OCSPResponse]:
        target = issuer_serial(cert)
        return [resp for key, resp in self._used.items() if key[1] == target]  # type: ignore[index]


class _CachedCrl(CRLFetcher):
    def __init__(self, inner: CRLFetcher, cache: SharedFetchers) -> None:
        self._inner = inner
        self._cache = cache
        self._used: dict[bytes, list[crl.CertificateList]] = {}

    async def fetch(self, cert: Any, *,
                    use_deltas: Any = None) -> Iterable[crl.CertificateList]:
        key = ("crl", issuer_serial(cert), bool(use_deltas))
        lists = self._cache.get(key, _crl_stale)
        if lists is None:
            lists = list(await self._inner.fetch(cert, use_deltas=use_deltas))
            if lists:
                self._cache.put(key, lists)
        self._used[issuer_serial(cert)] = lists
        return lists  # type: ignore[no-any-return]

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        seen: dict[bytes, crl.CertificateList] = {}
        for lists in self._used.values():
            for item in lists:
                seen.setdefault(item.dump(), item)
        return list(seen.values())

    def fetched_crls_for_cert(self, cert: Any) -> Iterable[crl.CertificateList]:
        return self._used[issuer_serial(cert)]  # KeyError: not fetched yet, as pyHanko expects


class _CachedCerts(CertificateFetcher):
    def __init__(self, inner: CertificateFetcher, cache: SharedFetchers) -> None:
        self._inner = inner
        self._cache = cache
        self._used: dict[bytes, x509.Certificate] = {}

    async def fetch_cert_issuers(self, cert: Any) -> AsyncGenerator[x509.Certificate, None]:
        key = ("issuers", tuple(gather_aia_issuer_urls(cert)))
        found = self._cache.get(key, lambda _value: False)
        if found is None:
            found = [c async for c in self._inner.fetch_cert_issuers(cert)]
            if found:  # nothing found may be a failure the fetcher swallowed
                self._cache.put(key, found)
        for issuer in found:
            self._used[issuer.dump()] = issuer
            yield issuer

    def fetch_crl_issuers(self, certificate_list: Any) -> AsyncGenerator[x509.Certificate, None]:
        return self._inner.fetch_crl_issuers(certificate_list)

    def fetched_certs(self) -> Iterable[x509.Certificate]:
        return [*self._used.values(), *self._inner.fetched_certs()]
