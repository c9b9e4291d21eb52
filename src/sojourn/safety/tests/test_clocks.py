"""The safety clocks count from day zero in the market's own days: no off-by-one across time zones,
daylight-saving changes, weekends and public holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sojourn.core.packs import read_pack_file, read_pack_text, shipped_pack_paths
from sojourn.safety.clocks import Clocks

BERLIN = ZoneInfo("Europe/Berlin")
GERMANY = Clocks(country="DE", time_zone="Europe/Berlin", deadline_business_days=1)
PACKS = {path.stem: read_pack_file(path) for path in shipped_pack_paths()}
MARKETS = [Clocks.for_pack(reading.pack.model_dump()) for reading in PACKS.values()]
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.just(UTC))


def test_a_report_on_the_friday_before_easter_is_due_at_the_end_of_tuesday():
    # Good Friday and Easter Monday 2026 are public holidays in Germany; the weekend does not count.
    day_zero = datetime(2026, 4, 2, 18, 30, tzinfo=BERLIN)  # Maundy Thursday evening
    assert GERMANY.forward_due(day_zero) == datetime(2026, 4, 8, 0, 0, tzinfo=BERLIN)
    assert GERMANY.forward_due(datetime(2026, 4, 3, 9, tzinfo=BERLIN)) == datetime(2026, 4, 8, tzinfo=BERLIN)


def test_the_weekend_is_the_markets_own():
    # Israel rests on Friday and Saturday (the holidays package knows): a Thursday's case is due at the
    # end of Sunday, where a Saturday-Sunday weekend would have made it Friday.
    israel = Clocks(country="IL", time_zone="Asia/Jerusalem", deadline_business_days=1)
    jerusalem = ZoneInfo("Asia/Jerusalem")
    assert israel.forward_due(datetime(2026, 6, 11, 10, tzinfo=jerusalem)) == datetime(2026, 6, 15, tzinfo=jerusalem)
    assert israel.is_business_day(datetime(2026, 6, 14).date())  # a Sunday


def test_day_zero_is_the_markets_day_not_utcs():
    # 23:30 UTC on a Monday is already Tuesday in Tokyo: one business day later is the end of Wednesday there.
    tokyo = Clocks(country="JP", time_zone="Asia/Tokyo", deadline_business_days=1)
    due = tokyo.forward_due(datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
    assert due == datetime(2026, 3, 12, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_hours_are_absolute_time_across_a_daylight_saving_change():
    hours = Clocks(country="GB", time_zone="Europe/London", deadline_hours=24)
    day_zero = datetime(2026, 3, 28, 12, tzinfo=ZoneInfo("Europe/London"))  # clocks go forward that night
    due = hours.forward_due(day_zero)
    assert due - day_zero == timedelta(hours=24)
    assert due.astimezone(ZoneInfo("Europe/London")).hour == 13  # the wall clock moved, the deadline did not


def test_the_authority_clock_counts_calendar_days_with_day_zero_as_day_0():
    day_zero = datetime(2026, 10, 20, 16, tzinfo=BERLIN)
    assert GERMANY.authority_due(day_zero, serious=True) == datetime(2026, 11, 5, tzinfo=BERLIN)  # end of day 15
    assert GERMANY.authority_due(day_zero, serious=False) == datetime(2027, 1, 19, tzinfo=BERLIN)  # end of day 90
    us = Clocks(country="US", time_zone="America/New_York", deadline_hours=24, authority_non_serious_days=None)
    assert us.authority_due(day_zero, serious=False) is None


def test_a_naive_day_zero_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        GERMANY.forward_due(datetime(2026, 1, 5, 9))


@given(moment=moments, days=st.integers(min_value=1, max_value=5), market=st.sampled_from(MARKETS))
@settings(max_examples=300, deadline=None)
def test_business_days_never_count_day_zero_and_end_on_a_business_day(moment, days, market):
    clocks = Clocks(country=market.country, time_zone=market.time_zone, deadline_business_days=days,
                    holiday_subdivision=market.holiday_subdivision)
    due = clocks.forward_due(moment)
    local_due = due.astimezone(clocks.zone)
    assert (local_due.hour, local_due.minute) == (0, 0) and due > moment
    last = local_due.date() - timedelta(days=1)  # the deadline ends this day
    assert clocks.is_business_day(last)
    start = moment.astimezone(clocks.zone).date()
    counted = [start + timedelta(days=n) for n in range(1, (last - start).days + 1)]
    assert sum(clocks.is_business_day(day) for day in counted) == days


@given(moment=moments, serious=st.booleans(), market=st.sampled_from(MARKETS))
@settings(max_examples=300, deadline=None)
def test_the_authority_deadline_is_the_end_of_day_n_in_the_markets_time(moment, serious, market):
    due = market.authority_due(moment, serious=serious)
    days = market.authority_serious_days if serious else market.authority_non_serious_days
    if days is None:
        assert due is None
        return
    local = due.astimezone(market.zone)
    assert (local.hour, local.minute) == (0, 0)
    assert local.date() - moment.astimezone(market.zone).date() == timedelta(days=days + 1)


def test_every_shipped_market_has_a_forward_clock_and_a_serious_authority_clock():
    assert {m.country for m in MARKETS} == {"CA", "DE", "GB", "JP", "US"}
    for clocks in MARKETS:
        assert clocks.forward_due(datetime(2026, 12, 24, 12, tzinfo=UTC)) > datetime(2026, 12, 24, 12, tzinfo=UTC)
        assert clocks.authority_serious_days == 15


def test_a_pack_names_one_forward_clock_and_a_holiday_region_the_calendar_knows():
    text = (next(p for p in shipped_pack_paths() if p.stem == "gb")).read_text()
    both = text.replace("    deadline_business_days: 1\n", "    deadline_business_days: 1\n    deadline_hours: 24\n")
    problems = [str(p) for p in read_pack_text(both, "gb.yaml").problems]
    assert any("one of them" in p and "regulatory.adverse_events" in p for p in problems), problems
    wrong = text.replace("holiday_subdivision: ENG", "holiday_subdivision: XX")
    problems = [str(p) for p in read_pack_text(wrong, "gb.yaml").problems]
    assert any("XX is not a subdivision of GB" in p and "holiday_subdivision" in p for p in problems), problems
