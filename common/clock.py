"""Vietnam's clock: the one time zone Kyso writes dates and times in.

Vietnam keeps UTC+07:00 all year (no daylight saving), so the zone is a fixed offset and
needs no time-zone database.
"""

from __future__ import annotations

import datetime as dt

#: Vietnam time (Indochina Time, UTC+07:00, no daylight saving).
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


def vietnam_time(moment: dt.datetime | None = None) -> dt.datetime:
    """``moment`` (default: now) in Vietnam time, to the second.

    A naive ``moment`` is taken as the machine's local time (as ``astimezone`` does)."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(VN_TZ).replace(microsecond=0)


def today_in_vietnam() -> dt.date:
    """Today's date in Vietnam, whatever the machine's time zone."""
    return dt.datetime.now(VN_TZ).date()
