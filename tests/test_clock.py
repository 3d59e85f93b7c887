"""Vietnam's clock (common.clock): one zone, UTC+07:00 all year, moments to the second."""

from __future__ import annotations

import datetime as dt

from common import VN_TZ, today_in_vietnam, vietnam_time


def test_the_zone_is_seven_hours_ahead_of_utc_in_summer_and_winter() -> None:
    for month in (1, 7):
        moment = dt.datetime(2025, month, 1, 12, tzinfo=dt.UTC)
        assert VN_TZ.utcoffset(moment) == dt.timedelta(hours=7)
        assert vietnam_time(moment).isoformat() == f"2025-0{month}-01T19:00:00+07:00"


def test_a_moment_is_cut_to_the_second_and_keeps_its_instant() -> None:
    moment = dt.datetime(2025, 12, 31, 17, 30, 5, 999_999, tzinfo=dt.UTC)
    local = vietnam_time(moment)
    assert local.microsecond == 0 and local.utcoffset() == dt.timedelta(hours=7)
    assert (local.year, local.month, local.day, local.hour) == (2026, 1, 1, 0)
    assert local == moment.replace(microsecond=0)


def test_now_and_today_are_vietnam_time() -> None:
    before = dt.datetime.now(VN_TZ).date()
    now = vietnam_time()
    today = today_in_vietnam()
    after = dt.datetime.now(VN_TZ).date()
    assert now.utcoffset() == dt.timedelta(hours=7)
    assert before <= now.date() <= after and before <= today <= after
    # 17:00 UTC is already the next day in Vietnam
    late = dt.datetime(2025, 3, 4, 17, 0, tzinfo=dt.UTC)
    assert vietnam_time(late).date() == dt.date(2025, 3, 5)
