"""The data directory: where one Kyso instance keeps tokens, PKI, database and outputs.

Chosen by ``--data-dir``, else ``KYSO_DATA_DIR``, else the per-user data
directory, so that several instances never collide::

    tokens.json     the configured tokens (no PINs: those are never stored)
    softhsm/        SoftHSM2 configuration and token files (demo)
    pki/            the demo PKI (certomancer)
    trust/          CA files of older versions (global admin CAs): imported at start as
                    province-wide anchors into the database, then moved to trust/imported/
    out/            signed files the demo writes
    kyso.db         the SQLite database (unless KYSO_DATABASE_URL names another)
    files/          every PDF version, by SHA-256, never overwritten
    images/         seal and signature files of older versions (unused: the pictures a
                    signature shows are in the database, documents/pictures.py)
    cache/revocation/  OCSP responses and CRLs ``kyso sign`` fetched, reused by the next
                    run for as long as a worker reuses its own (``certs.SharedFetchers``)

Everything in it is for the service's account alone: the directory and its folders are
0700, its files 0600 (the service processes run with umask 077, :func:`private_files`,
so what they write later is private too).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certs import DemoPki, Origin, SharedFetchers, TrustStore, bundled_store
from tokens import Token, TokenError, token_from_settings

from .environment import ENV_DATABASE_URL as ENV_DATABASE_URL
from .environment import ENVIRONMENT, Environment

#: The umask of Kyso's processes: nothing they write is readable by other accounts.
PRIVATE_UMASK = 0o077
#: What :meth:`DataDir.create` makes private if an older Kyso left it readable.
_KNOWN_DIRS = ("softhsm", "pki", "pkcs12", "trust", "out", "files", "images", "cache")
_KNOWN_FILES = ("tokens.json", "kyso.db", "kyso.db-wal", "kyso.db-shm", "celery-broker.db",
                "celery-results.db", *(f"celery-beat-schedule{suffix}"
                                       for suffix in ("", ".dat", ".bak", ".dir", ".db")))


def private_files() -> None:
    """Set this process's umask so that every file and folder it creates is private
    (0600 / 0700): called first by the ``kyso`` command, the API and the worker."""
    os.umask(PRIVATE_UMASK)
#: Certificate files the trust folder may hold.
TRUST_SUFFIXES = (".pem", ".cer", ".crt", ".der")


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("kyso", appauthor=False))


def _environment() -> Environment:
    return ENVIRONMENT


def resolve(option: Path | None) -> Path:
    if option is not None:
        return option.expanduser().resolve()
    return _environment().data_dir or default_data_dir()


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def softhsm(self) -> Path:
        return self.root / "softhsm"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def trust(self) -> Path:
        return self.root / "trust"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def database_url(self) -> str:
        return _environment().database_url or f"sqlite:///{self.root / 'kyso.db'}"

    @property
    def tokens_file(self) -> Path:
        return self.root / "tokens.json"

    def create(self) -> DataDir:
        """Make the directory (0700), and tighten what an older Kyso made readable."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path, mode in [(self.root, 0o700), *((self.root / d, 0o700) for d in _KNOWN_DIRS),
                           *((self.root / f, 0o600) for f in _KNOWN_FILES)]:
            with contextlib.suppress(FileNotFoundError, PermissionError):
                if path.stat().st_mode & 0o777 != mode:
                    path.chmod(mode)
        return self

    # -- tokens -----------------------------------------------------------------
    def token_settings(self) -> dict[str, dict[str, Any]]:
        if not self.tokens_file.exists():
            return {}
        try:
            data = json.loads(self.tokens_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise TokenError(f"tệp cấu hình {self.tokens_file} bị hỏng",
                             f"{self.tokens_file} is damaged") from exc
        return dict(data.get("tokens", {}))

    def save_token_settings(self, tokens: dict[str, dict[str, Any]]) -> None:
        tmp = self.tokens_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps({"tokens": tokens}, indent=2, ensure_ascii=False))
        tmp.chmod(0o600)
        tmp.replace(self.tokens_file)

    def token(self, name: str) -> Token:
        settings = self.token_settings()
        if name not in settings:
            known = ", ".join(sorted(settings)) or "—"
            raise TokenError(f"chưa cấu hình thiết bị ký '{name}' (có: {known})",
                             f"no token named '{name}' is configured (known: {known})")
        return token_from_settings(name, settings[name])

    def activate_softhsm(self) -> None:
        """Point the SoftHSM2 module at this data directory's tokens (before it loads)."""
        _environment().set_default("SOFTHSM2_CONF", str(self.softhsm / "softhsm2.conf"))

    # -- trust ------------------------------------------------------------------
    def demo_pki(self) -> DemoPki | None:
        return DemoPki(self.pki) if DemoPki.exists(self.pki) else None

    def trust_store(self) -> TrustStore:
        """What every body trusts: the bundled Vietnamese roots + this instance's demo root.

        Administrators' anchors live in the database, province-wide or per body
        (``documents.anchors``); ``documents.trust_for`` adds them per verification.
        """
        store = bundled_store()
        pki = self.demo_pki()
        if pki is not None:
            store.add(pki.root, Origin.DEMO, str(pki.directory))
            for cert in pki.chain:
                store.add(cert, Origin.DEMO, str(pki.directory))
        return store

    def fetch_cache(self) -> SharedFetchers:
        """The OCSP/CRL fetches of this directory's commands, kept in ``cache/revocation``
        for the next command (each ``kyso sign`` is a new process)."""
        return SharedFetchers(folder=self.root / "cache" / "revocation")

    def legacy_trust_files(self) -> list[Path]:
        """CA files in the trust folder not imported yet (older versions trusted them
        for every body)."""
        if not self.trust.is_dir():
            return []
        return [p for p in sorted(self.trust.iterdir())
                if p.is_file() and p.suffix.lower() in TRUST_SUFFIXES]
