"""Timestamp requests (RFC 3161) with one TLS set-up per process.

pyHanko's ``HTTPTimeStamper`` without a session opens a new aiohttp session for every
request, and each new session builds a TLS context from certifi's bundle — some 60 to
170 ms of CPU on this machine kind, paid twice per document (approval and seal) even when
the TSA is plain HTTP. :func:`timestamper` opens the session over a TLS context made once
per process (a context is safe to share between threads and event loops; sessions are
not, so each signing opens and closes its own).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from .blocking import run_blocking

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import HTTPTimeStamper

#: seconds a timestamp request may take
TSA_TIMEOUT = 10


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every timestamp request: certifi's roots, as pyHanko uses."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


@asynccontextmanager
async def timestamper(url: str, timeout: float = TSA_TIMEOUT) -> AsyncIterator[HTTPTimeStamper]:
    """A pyHanko ``HTTPTimeStamper`` for ``url`` on a session of its own, closed on exit."""
    import aiohttp
    from pyhanko.sign.timestamps import HTTPTimeStamper

    connector = aiohttp.TCPConnector(ssl=tls_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield HTTPTimeStamper(url, timeout=timeout, session=session)


def probe(url: str, what: bytes, timeout: float = TSA_TIMEOUT) -> None:
    """Ask ``url`` for a real timestamp of ``what``'s SHA-256 (health and readiness checks);
    raises pyHanko's ``TimestampRequestError``, ``OSError`` or ``TimeoutError`` when the
    TSA does not give one."""
    import hashlib

    async def request() -> None:
        async with timestamper(url, timeout) as client:
            await client.async_timestamp(hashlib.sha256(what).digest(), "sha256")

    run_blocking(request())
