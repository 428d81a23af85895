"""The typed off-peak hours checked against the meter's registers: the meter's hours found to
the minute when they are the typed ones moved, "disagree" without hours when no nearby ranges
explain the registers, agreement within rounding, and too few days to tell."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from custom_components.linky_climkit.tariffs.engine import OffPeakRange
from custom_components.linky_climkit.tariffs.hours_check import (
    MIN_DAYS,
    MeteredDay,
    check,
    describe,
    metered_day,
    predicted,
)

FIRST = date(2026, 11, 2)
TYPED = (OffPeakRange(time(22), time(6)),)


def days(meter: tuple[OffPeakRange, ...], count: int = 8) -> list[MeteredDay]:
    """Days of random half-hour loads whose off-peak registers counted `meter`'s hours, in
    whole Wh (as a meter does)."""
    out = []
    for n in range(count):
        rng = random.Random(n)
        values = [rng.uniform(0.05, 1.5) for _ in range(48)]
        packed = [0.0, 1800.0, *values]
        day = metered_day(FIRST + timedelta(days=n), packed, sum(values), 0.0)
        assert day is not None
        counted = round(predicted(day, meter), 3)
        out.append(MeteredDay(day.day, day.cumulative, counted))
    return out


def test_the_meter_hours_are_found_to_the_minute() -> None:
    meter = (OffPeakRange(time(22, 8), time(6, 8)),)
    found = check(days(meter), TYPED)
    assert found is not None
    assert found.disagree
    assert found.meter == meter
    assert describe(found.meter) == "22:08–06:08"


def test_ranges_of_another_shape_disagree_without_hours() -> None:
    meter = (OffPeakRange(time(1), time(7)), OffPeakRange(time(12, 30), time(14, 30)))
    found = check(days(meter), TYPED)
    assert found is not None
    assert found.disagree
    assert found.meter is None


def test_the_right_hours_agree_and_too_few_days_tell_nothing() -> None:
    found = check(days(TYPED), TYPED)
    assert found is not None
    assert not found.disagree
    assert found.meter is None
    assert check(days(TYPED, MIN_DAYS - 1), TYPED) is None
    assert check(days(TYPED), ()) is None


def test_days_that_are_not_24_hours_are_left_out() -> None:
    assert metered_day(FIRST, [0.0, 1800.0, *[0.1] * 46], 4.6, 1.0) is None  # spring forward
    assert metered_day(FIRST, [0.0, 1800.0, *[0.0] * 48], 0.0, 0.0) is None  # no energy
