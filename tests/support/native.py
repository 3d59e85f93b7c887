"""Build the PKCS#11 wrapper modules of tests/support with gcc, for tests and benchmarks.

``pinlock.c`` adds a real PIN retry counter to SoftHSM; ``slowtoken.c`` makes every
signature take as long as on a USB token, and can pull the token out (after N signatures,
or while a flag file exists) and plug it back. Both forward to the SoftHSM module named
by an environment variable (``KYSO_PINLOCK_MODULE``, ``KYSO_SLOW_MODULE``) read when
the wrapper is first loaded in a process.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent
P11_KIT_INCLUDE = "/usr/include/p11-kit-1"

#: Milliseconds every C_Sign / C_SignFinal of the slow token sleeps (default 300).
ENV_SLOW_SIGN_MS = "KYSO_SLOW_SIGN_MS"
#: The module the slow token forwards to (default Debian's SoftHSM).
ENV_SLOW_MODULE = "KYSO_SLOW_MODULE"
#: After this many signatures the slow token behaves as pulled out (CKR_DEVICE_REMOVED).
ENV_REMOVE_AFTER = "KYSO_SLOW_REMOVE_AFTER"
#: A file path: while that file exists the slow token's device is unplugged (no token in
#: its slots, its sessions closed); deleting the file plugs it back in.
ENV_UNPLUGGED = "KYSO_SLOW_UNPLUGGED"


def build_module(source: str, directory: Path) -> Path:
    """Compile ``tests/support/<source>`` into ``directory`` as a shared object; its path."""
    target = directory / (Path(source).stem + ".so")
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", "-shared", "-fPIC", f"-I{P11_KIT_INCLUDE}", "-o", str(target),
                    str(SUPPORT / source), "-ldl", "-lpthread"],
                   check=True, capture_output=True, timeout=120)
    return target


def build_slow_token(directory: Path) -> Path:
    """The slow-token wrapper (``slowtoken.c``) built into ``directory``."""
    return build_module("slowtoken.c", directory)


def build_pinlock(directory: Path) -> Path:
    """The retry-counter wrapper (``pinlock.c``) built into ``directory``."""
    return build_module("pinlock.c", directory)
