"""Column types that keep Vietnamese text and times the same on SQLite and PostgreSQL.

* :class:`Nfc` stores text in Unicode NFC. Vietnamese typed on different keyboards
  (Unikey "dựng sẵn" vs "tổ hợp") arrives precomposed or decomposed; the same name
  in two forms would compare unequal, sort apart and break "same number + symbol"
  checks. The bind step normalises every value, query parameters included;
  :func:`normalise_on_set` also normalises on assignment, so an object shows the
  stored form before it is flushed.
* :class:`UtcDateTime` stores aware UTC times. SQLite drops the offset of a
  ``DateTime(timezone=True)``; without this a time read back from SQLite would be
  naive while the same row on PostgreSQL is aware.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator


def nfc(value: str) -> str:
    """``value`` in Unicode NFC (the form the rules and the register use)."""
    return unicodedata.normalize("NFC", value)


class Nfc(TypeDecorator[str]):
    """A string column whose values are always stored in NFC."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else nfc(value)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware timestamp, stored in UTC, read back aware on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware time (UTC or Vietnam time)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _normalise(target: object, value: Any, oldvalue: Any, initiator: Any) -> Any:
    return nfc(value) if isinstance(value, str) else value


def normalise_on_set(mapper: Mapper[Any], class_: type) -> None:
    """Make every :class:`Nfc` column attribute of ``class_`` NFC-normalise on assignment.

    Registered for the declarative base's ``mapper_configured`` event, so a new model
    gets it by typing its column ``Nfc`` — no per-model validator to forget.
    """
    for prop in mapper.column_attrs:
        if any(isinstance(column.type, Nfc) for column in prop.columns):
            event.listen(getattr(class_, prop.key), "set", _normalise, retval=True)
