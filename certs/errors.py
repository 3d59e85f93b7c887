"""The one exception tree of Kyso.

Every package raises a subclass of :class:`KysoError`; the boundary (`api/`)
turns it into one line in Vietnamese and English and an exit code or an HTTP
status. Lower packages define their own subclasses next to the code that
raises them::

    KysoError
    ├── CertsError              certs/: trust store, demo PKI, PKI services
    ├── TokenError              tokens/: wrong PIN, locked token, missing module/key …
    └── SignerError             signer/: unreadable PDF, signing refused …
"""

from __future__ import annotations

import unicodedata


class KysoError(Exception):
    """An error with a message for people, in Vietnamese and in English."""

    #: Exit code the command line uses for this error (2 = unusable input).
    exit_code: int = 2

    def __init__(self, vi: str, en: str) -> None:
        self.vi = unicodedata.normalize("NFC", vi)
        self.en = en
        super().__init__(f"{self.vi} / {self.en}")

    def one_line(self) -> str:
        """The message as one line, Vietnamese first."""
        return f"Lỗi: {self.vi} — Error: {self.en}".replace("\n", " ")


class CertsError(KysoError):
    """Trust store, demo PKI or PKI services failed."""
