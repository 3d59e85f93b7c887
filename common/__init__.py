"""What every layer shares and no layer owns: the error root and Vietnam's clock.

The lowest package: it imports nothing of Kyso's, and every other package may import it
(``common`` ← ``certs`` ← ``tokens`` ← ``signer`` ← ``documents`` ← ``api``).
"""

from __future__ import annotations

from .errors import Category, KysoError

__all__ = ["Category", "KysoError"]
