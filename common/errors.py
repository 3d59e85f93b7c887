"""The root of Kyso's one exception tree, which belongs to no layer.

Every package raises a subclass of :class:`KysoError`; the boundary (`api/`) turns it
into one line in Vietnamese and English and an exit code or an HTTP status. Each package
keeps its own subclasses in its ``errors.py``, whose docstring draws that part of the
tree (``tests/support/error_classes.draw_tree``; ``tests/test_error_tree.py`` checks it)::

    KysoError
    ├── CertsError              certs/errors.py: trust store, demo PKI, PKI services
    ├── TokenError              tokens/errors.py: wrong PIN, locked token, missing module …
    ├── SignerError             signer/errors.py: unreadable PDF, signing refused …
    ├── DocumentsError, …       documents/errors.py: numbering, register, queue, accounts
    ├── AgentError              api/agent/errors.py: the signer agent on the official's PC
    └── …                       api/errors.py: the HTTP service, web UI, CLI, worker, demo
"""

from __future__ import annotations

import enum
import functools
import unicodedata
from collections.abc import Callable
from typing import Any


class Category(enum.Enum):
    """What kind of failure an error is; the boundary maps it once (HTTP status, …).

    Every error class declares its own (tests/test_errors.py checks it)."""

    #: the request itself is malformed (a missing field, two files where one is asked)
    BAD_REQUEST = "bad_request"
    #: what was sent cannot be used (an unreadable PDF, a wrong PIN, a weak password)
    BAD_INPUT = "bad_input"
    NOT_AUTHENTICATED = "not_authenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    #: the act does not fit the current state (already issued, number taken …)
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    THROTTLED = "throttled"
    #: something Kyso depends on is away (TSA, token, remote signing, mail): try later
    UNAVAILABLE = "unavailable"
    #: a fault of Kyso itself
    INTERNAL = "internal"


#: First item of a Kyso error's ``args``: Celery's JSON results rebuild an exception as
#: ``cls(*args)``, and this marker lets every subclass be rebuilt so, whatever its own
#: constructor takes (see :func:`_restorable`).
_RESTORE = "\x1ekyso-error"


def _restorable(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a constructor so that ``cls(_RESTORE, vi, en)`` rebuilds the error."""

    @functools.wraps(init)
    def __init__(self: KysoError, *args: Any, **kwargs: Any) -> None:
        if len(args) == 3 and args[0] == _RESTORE and not kwargs:
            _set_message(self, args[1], args[2])
            return
        init(self, *args, **kwargs)

    return __init__


def _set_message(error: KysoError, vi: str, en: str) -> None:
    error.vi = unicodedata.normalize("NFC", vi)
    error.en = en
    Exception.__init__(error, _RESTORE, error.vi, error.en)


def _restore(cls: type[KysoError], vi: str, en: str, state: dict[str, Any]) -> KysoError:
    error = cls.__new__(cls)
    _set_message(error, vi, en)
    error.__dict__.update(state)
    return error


def halves(detail: str) -> tuple[str, str]:
    """A detail written ``"tiếng Việt / English"`` as its two halves (the same text twice
    when it has no such halves: a name, a number), so each message says it in one language."""
    vi, mark, en = detail.partition(" / ")
    return (vi, en) if mark and vi and en else (detail, detail)


class KysoError(Exception):
    """An error with a message for people, in Vietnamese and in English.

    It crosses process boundaries whole: pickled (class, message and attributes) and
    through Celery's JSON results (class and message), whatever the subclass's
    constructor takes."""

    #: Exit code the command line uses for this error (2 = unusable input).
    exit_code: int = 2
    category: Category = Category.BAD_INPUT
    #: Seconds to suggest before retrying an UNAVAILABLE or THROTTLED act.
    retry_after: int | None = None

    vi: str
    en: str

    def __init__(self, vi: str, en: str) -> None:
        _set_message(self, vi, en)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            setattr(cls, "__init__", _restorable(cls.__dict__["__init__"]))  # noqa: B010

    def __str__(self) -> str:
        return f"{self.vi} / {self.en}"

    def __reduce__(self) -> tuple[Any, ...]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("vi", "en")}
        return (_restore, (type(self), self.vi, self.en, state))

    def one_line(self) -> str:
        """The message as one line, Vietnamese first."""
        return f"Lỗi: {self.vi} — Error: {self.en}".replace("\n", " ")


setattr(KysoError, "__init__", _restorable(KysoError.__dict__["__init__"]))  # noqa: B010
