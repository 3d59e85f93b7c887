"""What the agent reads of its environment: its one settings spot.

The agent runs on the official's PC and loads nothing server-side, so it does not use
``api/settings.py`` (pydantic-settings, the data directory). It reads one variable, when
asked, and keeps nothing.
"""

from __future__ import annotations

import os

#: The account's password, for scripts and tests; otherwise the agent asks for it.
ENV_PASSWORD = "KYSO_PASSWORD"


def password() -> str | None:
    """``KYSO_PASSWORD``, or None when unset or empty (then the agent asks)."""
    return os.environ.get(ENV_PASSWORD) or None


def display_named() -> bool:
    """Whether a graphical session is named (``DISPLAY`` or ``WAYLAND_DISPLAY``), so a PIN
    window can be shown on Linux."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
