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
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certs import DemoPki, Origin, TrustStore, bundled_store
from tokens import Token, token_from_settings
from tokens.errors import TokenError

ENV_DATA_DIR = "KYSO_DATA_DIR"
ENV_DATABASE_URL = "KYSO_DATABASE_URL"
#: Certificate files the trust folder may hold.
TRUST_SUFFIXES = (".pem", ".cer", ".crt", ".der")


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("kyso", appauthor=False))


def resolve(option: Path | None) -> Path:
    if option is not None:
        return option.expanduser().resolve()
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env).expanduser().resolve() if env else default_data_dir()


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
        return os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{self.root / 'kyso.db'}"

    @property
    def tokens_file(self) -> Path:
        return self.root / "tokens.json"

    def create(self) -> DataDir:
        self.root.mkdir(parents=True, exist_ok=True)
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
        tmp.write_text(json.dumps({"tokens": tokens}, indent=2, ensure_ascii=False),
                       encoding="utf-8")
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
        os.environ.setdefault("SOFTHSM2_CONF", str(self.softhsm / "softhsm2.conf"))

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

    def legacy_trust_files(self) -> list[Path]:
        """CA files in the trust folder not imported yet (older versions trusted them
        for every body)."""
        if not self.trust.is_dir():
            return []
        return [p for p in sorted(self.trust.iterdir())
                if p.is_file() and p.suffix.lower() in TRUST_SUFFIXES]
