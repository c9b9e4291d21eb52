"""The safety clocks: when an adverse event must reach pharmacovigilance, and when a case must reach the
authorities, counted from day zero (the first moment anyone or anything in the program received it),
never from when a case was opened.

The forward clock is the program's agreement with the sponsor's drug safety department: in the
program's definition (`safety.forward_deadline`, for one market or all), else in the market pack;
either hours (`deadline_hours`, absolute time) or business days (`deadline_business_days`: the
market's weekends and public holidays, from the maintained `holidays` package, do not count). The
authority clocks are calendar days by seriousness (`authority_days`), day zero being day 0 (ICH E2D:
"no later than 15 calendar days"). Days are the market's local days; a deadline falls at the end of
its day, local midnight, so the whole last day is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays


def agreed_forward(pack: dict, agreed: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The forward deadline the program's definition sets for the pack's market (its own line, else
    the program's default), or None when the pack's applies."""
    if not agreed:
        return None
    return (agreed.get("markets") or {}).get(pack["country"]) or agreed.get("forward_deadline") or None


@dataclass(frozen=True)
class Clocks:
    """What a market's pack says about safety deadlines."""

    country: str
    time_zone: str
    deadline_hours: int | None = None
    deadline_business_days: int | None = None
    authority_serious_days: int = 15
    authority_non_serious_days: int | None = 90  # None: periodic reports only, no expedited clock
    holiday_subdivision: str | None = None
    expedites_only_unexpected: bool = False  # the US: a serious expected case has no expedited clock

    def __post_init__(self) -> None:
        if (self.deadline_hours is None) == (self.deadline_business_days is None):
            raise ValueError("give the forward deadline in hours or in business days, not both")

    @classmethod
    def for_pack(cls, pack: dict, agreed: Mapping[str, Any] | None = None) -> Clocks:
        """From a market pack as stored (`Market.pack`), with the forward deadline the sponsor agreed
        for the program (`Program.safety_deadlines`, from its definition) where it names one: for the
        market, else for all the program's markets. Authority clocks are the law's: always the pack's."""
        events = pack["regulatory"]["adverse_events"]
        forward = agreed_forward(pack, agreed) or {"hours": events.get("deadline_hours"),
                                                   "business_days": events.get("deadline_business_days")}
        # A pack stored before the authority clocks existed has the schema's default.
        authority = events.get("authority_days") or {"serious": 15, "non_serious": 90}
        return cls(country=pack["country"], time_zone=pack["time_zones"][0],
                   deadline_hours=forward.get("hours"), deadline_business_days=forward.get("business_days"),
                   authority_serious_days=authority["serious"],
                   authority_non_serious_days=authority.get("non_serious"),
                   holiday_subdivision=events.get("holiday_subdivision"),
                   expedites_only_unexpected=authority.get("expedited") == "serious_unexpected")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_business_day(self, day: date) -> bool:
        # The calendar knows the country's weekend too (Friday and Saturday in some markets).
        calendar = _holidays(self.country, self.holiday_subdivision)
        return day.weekday() not in calendar.weekend and day not in calendar

    def forward_due(self, day_zero: datetime) -> datetime:
        """When the adverse event must have reached drug safety."""
        _aware(day_zero)
        if self.deadline_hours is not None:
            # In UTC: arithmetic on a zoned datetime moves the wall clock, one hour off across a DST change.
            return day_zero.astimezone(UTC) + timedelta(hours=self.deadline_hours)
        day = day_zero.astimezone(self.zone).date()
        left = self.deadline_business_days or 0
        while left:  # day zero itself never counts, even on a business day
            day += timedelta(days=1)
            if self.is_business_day(day):
                left -= 1
        return self._end_of(day)

    def authority_due(self, day_zero: datetime, *, serious: bool) -> datetime | None:
        """When the case must have reached the authorities; None when only periodic reports apply."""
        _aware(day_zero)
        days = self.authority_serious_days if serious else self.authority_non_serious_days
        if days is None:
            return None
        return self._end_of(day_zero.astimezone(self.zone).date() + timedelta(days=days))

    def _end_of(self, day: date) -> datetime:
        # Local midnight that ends `day`: across a DST change the day is 23 or 25 hours long.
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)


@cache
def _holidays(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)  # years are added as they are asked for


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("day zero must carry its time zone")
