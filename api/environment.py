"""What a command reads of its environment besides the service's :class:`~api.settings.Settings`.

Split from ``api/settings.py`` (which re-exports every name here) so that a command such
as ``kyso sign`` reads its PIN and TSA without loading pydantic-settings: the two modules
are the only ones of the service that read the environment
(``tests/test_settings_reads.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: The variable naming another database than the data directory's SQLite file.
ENV_DATABASE_URL = "KYSO_DATABASE_URL"
ENV_DATA_DIR = "KYSO_DATA_DIR"
ENV_TSA_URL = "KYSO_TSA_URL"
#: The PIN ``kyso sign`` uses instead of asking (scripts, tests).
ENV_PIN = "KYSO_PIN"
#: The password ``kyso doctor --user`` uses instead of asking.
ENV_PASSWORD = "KYSO_PASSWORD"
#: Any value: the CLI shows an internal error's traceback instead of one line.
ENV_DEBUG = "KYSO_DEBUG"


def pin_env(token_name: str) -> str:
    """The variable holding a server-side token's PIN for the worker: KYSO_PIN_<NAME>."""
    return "KYSO_PIN_" + token_name.upper().replace("-", "_")


class Environment:
    """What a command reads of the process environment beside :class:`Settings`, and what
    it hands on. Nothing is cached: each value is read when asked; an empty variable counts
    as unset where a path or an address is read."""

    @property
    def data_dir(self) -> Path | None:
        """``KYSO_DATA_DIR``, expanded and absolute."""
        value = os.environ.get(ENV_DATA_DIR)
        return Path(value).expanduser().resolve() if value else None

    @property
    def database_url(self) -> str | None:
        return os.environ.get(ENV_DATABASE_URL) or None

    @property
    def tsa_url(self) -> str | None:
        return os.environ.get(ENV_TSA_URL) or None

    @property
    def debug(self) -> bool:
        return bool(os.environ.get(ENV_DEBUG))

    def pin(self) -> str | None:
        """``KYSO_PIN`` (an empty PIN is a PIN)."""
        return os.environ.get(ENV_PIN)

    def token_pin(self, token_name: str) -> str | None:
        """The worker's PIN of a server-side token (:func:`pin_env`)."""
        return os.environ.get(pin_env(token_name))

    def password(self) -> str | None:
        """``KYSO_PASSWORD`` (an empty password is a password)."""
        return os.environ.get(ENV_PASSWORD)

    def for_child(self, overrides: Mapping[str, str]) -> dict[str, str]:
        """This process's environment with ``overrides``: what a child process gets."""
        return {**os.environ, **overrides}

    def set(self, name: str, value: str) -> None:
        """Set a variable for this process and the children it starts."""
        os.environ[name] = value

    def set_default(self, name: str, value: str) -> None:
        """Set a variable unless it is already set (e.g. ``SOFTHSM2_CONF`` for a module
        loaded by this process)."""
        os.environ.setdefault(name, value)


#: The one :class:`Environment` (it holds nothing).
ENVIRONMENT = Environment()
