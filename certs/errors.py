"""Errors of the trust store, the demo PKI and the PKI services.

Its tree (drawn by tests/support/error_classes.draw_tree)::

    KysoError
    └── CertsError          Trust store, demo PKI or PKI services failed
        └── CertificateRefused
"""

from __future__ import annotations

from common import Category, KysoError


class CertsError(KysoError):
    """Trust store, demo PKI or PKI services failed."""

    category = Category.UNAVAILABLE


class CertificateRefused(CertsError):
    """A certificate that cannot be read, or may not be trusted as asked (a DEMO CA as a
    real one)."""

    category = Category.BAD_INPUT
