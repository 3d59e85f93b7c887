"""The provider-neutral seam for remote signing services.

A remote signing service keeps the person's key in its own HSM; Kyso only ever
sends it digests. The person authorises a batch once (PIN, OTP, an OAuth2 code
or a confirmation on their phone), then the service signs the digests the
authorisation covers. :class:`RemoteSigningProvider` is that exchange, small
enough for the CSC API v2 (:mod:`tokens.csc`) and for the Vietnamese services
that are not CSC-conformant (VNPT SmartCA, Viettel MySign; rules-vn.md §7).
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from asn1crypto import x509

#: How a credential's use is authorised: ``explicit`` (PIN and/or OTP sent with
#: credentials/authorize), ``oauth2code`` (the person signs in at the service and
#: the service hands back a code), ``implicit`` (the service asks the person
#: itself, e.g. "confirm on your phone").
AuthMode = Literal["explicit", "oauth2code", "implicit"]


@dataclass(frozen=True)
class RemoteCredential:
    """A key at a remote service, with what a client needs to use it."""

    credential_id: str
    certificate: x509.Certificate
    #: the CA certificates the service returned (issuer first when it says so)
    chain: tuple[x509.Certificate, ...]
    #: ``"rsa"`` or ``"ec"``
    key_algorithm: str
    key_length: int
    #: signature algorithm OIDs the key accepts
    sign_algorithms: tuple[str, ...]
    #: 1: one authorisation for N signatures; 2: the authorisation is bound to the hashes
    scal: Literal[1, 2]
    #: most signatures one authorisation (and one signing call) may cover
    multisign: int
    auth_mode: AuthMode
    #: the factors explicit authorisation asks for: ``"PIN"``, ``"OTP"``
    auth_objects: tuple[str, ...] = ()
    enabled: bool = True
    description: str = ""

    @property
    def needs_pin(self) -> bool:
        return "PIN" in self.auth_objects

    @property
    def needs_otp(self) -> bool:
        return "OTP" in self.auth_objects


@dataclass(frozen=True)
class Grant:
    """One authorisation the service issued, for ``count`` digests from ``start``.

    ``sad`` is the signature activation data (CSC explicit mode);
    ``access_token`` a credential-scoped OAuth2 token (CSC oauth2code mode);
    ``handle`` a provider's own transaction id (asynchronous providers).
    None of them is ever logged or stored.
    """

    start: int
    count: int
    sad: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    handle: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Authorization:
    """What the person authorised: which digests, until when, with which grants."""

    credential_id: str
    digests: tuple[bytes, ...]
    hash_algorithm: str
    grants: tuple[Grant, ...]
    #: the earliest expiry of its grants
    expires_at: dt.datetime

    def covers(self, digests: list[bytes]) -> bool:
        return tuple(digests) == self.digests

    def expired(self, now: dt.datetime | None = None) -> bool:
        return (now or dt.datetime.now(dt.UTC)) >= self.expires_at


class RemoteSigningProvider(abc.ABC):
    """A remote signing service: list keys, authorise a batch, sign its digests.

    The flow is the same for every provider::

        cred = provider.credential(cid)                  # certificate, chain, limits
        auth = provider.authorize(cid, digests, secret)  # the person says yes, once
        sigs = provider.sign_digests(auth, digests)      # raw signature values, same order

    Errors leave a provider as :class:`~tokens.errors.TokenError` subclasses
    (:class:`~tokens.errors.RemoteSigningError` and :class:`~tokens.errors.WrongPin`).

    **Asynchronous "confirm on your phone" providers** (VNPT SmartCA, Viettel
    MySign — not CSC-conformant, rules-vn.md §7) fit the same three calls:

    - :meth:`credential` maps their "get certificate" call (auth mode
      ``"implicit"``, ``scal`` 2: their transaction names the exact hashes);
    - :meth:`authorize` submits the signing transaction with all the digests
      (their "sign hash" call, ``secret`` is None), then polls the transaction
      status every few seconds until the person confirms in the app, refuses, or
      the transaction times out (raise ``RemoteAuthRefused`` / ``SadExpired``).
      Those services sign at confirmation time, so the adapter keeps the
      transaction id in :attr:`Grant.handle` and may fetch the signatures here;
    - :meth:`sign_digests` returns the signatures of that confirmed transaction
      (fetching them by ``handle`` if :meth:`authorize` did not), checking they
      are for exactly the authorised digests.

    :meth:`authorize` therefore may block for minutes with such providers: call
    it from a worker or an executor, never from an event loop.
    """

    @abc.abstractmethod
    def credentials(self) -> list[str]:
        """The ids of the credentials the client's account may use."""

    @abc.abstractmethod
    def credential(self, credential_id: str) -> RemoteCredential:
        """The credential's certificate, chain, algorithms and limits."""

    @abc.abstractmethod
    def authorize(self, credential_id: str, digests: list[bytes], secret: str | None = None,
                  otp: str | None = None, hash_algorithm: str = "sha256") -> Authorization:
        """Have the person authorise signing ``digests`` (one per document).

        ``secret`` is the PIN or password when the credential asks for one,
        ``otp`` the one-time password; neither is kept.
        """

    @abc.abstractmethod
    def sign_digests(self, authorization: Authorization, digests: list[bytes]) -> list[bytes]:
        """Sign ``digests`` under ``authorization``; raw signature values in the same order.

        RSA PKCS#1 v1.5 signatures are the bare signature block; ECDSA
        signatures are DER ``ECDSA-Sig-Value``, as CMS wants them.
        """
