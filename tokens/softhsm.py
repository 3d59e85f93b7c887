"""SoftHSM2 tokens for the demo and the tests: a real PKCS#11 token in a folder.

Each data directory gets its own ``softhsm2.conf`` and token folder, so several
instances never see each other's tokens. Keys are generated ON the token
(sensitive, never extractable); only the public key comes out, and the
certificate issued for it is written back next to the key.

Provisioning runs Debian's ``softhsm2-util`` and OpenSC's ``pkcs11-tool`` in
child processes, so the calling process's own PKCS#11 state is untouched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import ModuleMissing, TokenError

SOFTHSM_MODULE_PATHS = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


def find_softhsm_module() -> str:
    for path in SOFTHSM_MODULE_PATHS:
        if Path(path).is_file():
            return path
    raise ModuleMissing("libsofthsm2.so")


@dataclass(frozen=True)
class SoftHsm:
    """A private SoftHSM2 installation rooted at ``directory``."""

    directory: Path
    module: str

    @classmethod
    def at(cls, directory: Path) -> SoftHsm:
        hsm = cls(directory, find_softhsm_module())
        (directory / "tokens").mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        if not hsm.conf.exists():
            hsm.conf.write_text(
                f"directories.tokendir = {directory / 'tokens'}\n"
                "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                encoding="utf-8",
            )
        return hsm

    @property
    def conf(self) -> Path:
        return self.directory / "softhsm2.conf"

    def _run(self, *args: str) -> str:
        tool = shutil.which(args[0])
        if tool is None:
            raise TokenError(f"thiếu công cụ {args[0]} (cài gói softhsm2 và opensc)",
                             f"{args[0]} is missing (install softhsm2 and opensc)")
        env = {**os.environ, "SOFTHSM2_CONF": str(self.conf)}
        proc = subprocess.run([tool, *args[1:]], env=env, capture_output=True, text=True,
                              check=False, timeout=120)
        if proc.returncode != 0:
            raise TokenError(f"{args[0]} thất bại: {proc.stderr.strip() or proc.stdout.strip()}",
                             f"{args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def slots(self) -> dict[str, str]:
        """Token label → slot id, for every initialised token."""
        found: dict[str, str] = {}
        slot = ""
        for line in self._run("softhsm2-util", "--show-slots").splitlines():
            if line.startswith("Slot "):
                slot = line.split()[1]
            elif line.strip().startswith("Label:") and line.split(":", 1)[1].strip():
                found[line.split(":", 1)[1].strip()] = slot
        return found

    def token_labels(self) -> list[str]:
        return list(self.slots())

    def init_token(self, label: str, so_pin: str, pin: str) -> None:
        self._run("softhsm2-util", "--init-token", "--free", "--label", label,
                  "--so-pin", so_pin, "--pin", pin)

    def _p11(self, label: str, *args: str) -> str:
        # by slot id: pkcs11-tool's --token-label also matches a label it is a prefix of
        slot = self.slots().get(label)
        if slot is None:
            raise TokenError(f"không có token '{label}' trong SoftHSM",
                             f"no token '{label}' in SoftHSM")
        return self._run("pkcs11-tool", "--module", self.module, "--slot", slot, *args)

    def generate_key(self, label: str, pin: str, key_label: str, key_id: str,
                     key_type: Literal["rsa", "ec"]) -> bytes:
        """Generate a key pair on the token; return its public key (DER SubjectPublicKeyInfo)."""
        kind = "rsa:2048" if key_type == "rsa" else "EC:prime256v1"
        self._p11(label, "--login", "--pin", pin, "--keypairgen", "--key-type", kind,
                  "--label", key_label, "--id", key_id)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "pub.der"
            self._p11(label, "--read-object", "--type", "pubkey", "--id", key_id, "-o", str(out))
            return out.read_bytes()

    def store_certificate(self, label: str, pin: str, key_label: str, key_id: str,
                          cert_der: bytes) -> None:
        """Write a certificate onto the token, next to the key with the same id."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cert.der"
            path.write_bytes(cert_der)
            self._p11(label, "--login", "--pin", pin, "--write-object", str(path),
                      "--type", "cert", "--label", key_label, "--id", key_id)
