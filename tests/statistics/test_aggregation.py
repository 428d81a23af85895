"""statistics/aggregation.py: local days, hourly shapes scaled to the day's total (no I/O)."""

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.model import DayEnergy, DayValue, Interval
from custom_components.linky_climkit.statistics.aggregation import (
    build_days,
    day_bounds,
    day_start,
    hour_starts,
    local_day,
    shape_to_total,
)
from tests.simulators.conso_api import PARIS

HALF = timedelta(minutes=30)
HOUR = timedelta(hours=1)


def intervals_for(
    day: date, step: timedelta = HALF, value: Any = 0.25, tz: Any = UTC
) -> list[Interval]:
    """Contiguous intervals covering the Paris day `day`; `value` may be a function of i."""
    start, end = day_bounds(day, PARIS)
    out = []
    cursor, i = start, 0
    while cursor < end:
        amount = value(i) if callable(value) else value
        out.append(Interval(cursor.astimezone(tz), (cursor + step).astimezone(tz), amount))
        cursor += step
        i += 1
    return out


@pytest.mark.parametrize(
    ("day", "hours", "first_utc"),
    [
        (date(2026, 1, 10), 24, datetime(2026, 1, 9, 23, tzinfo=UTC)),
        (date(2026, 7, 10), 24, datetime(2026, 7, 9, 22, tzinfo=UTC)),
        (date(2026, 3, 29), 23, datetime(2026, 3, 28, 23, tzinfo=UTC)),
        (date(2026, 10, 25), 25, datetime(2026, 10, 24, 22, tzinfo=UTC)),
    ],
)
def test_day_helpers(day: date, hours: int, first_utc: datetime) -> None:
    start, end = day_bounds(day, PARIS)
    assert start == day_start(day, PARIS) == first_utc
    assert start.tzinfo is UTC
    assert end - start == hours * HOUR
    starts = hour_starts(day, PARIS)
    assert len(starts) == hours
    assert starts[0] == first_utc
    assert all(b - a == HOUR for a, b in itertools.pairwise(starts))
    assert local_day(start, PARIS) == day
    assert local_day(end - timedelta(microseconds=1), PARIS) == day
    assert local_day(end, PARIS) == day + timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "count", "hours"),
    [
        (date(2026, 1, 10), 48, 24),
        (date(2026, 7, 10), 48, 24),
        (date(2026, 3, 29), 46, 23),
        (date(2026, 10, 25), 50, 25),
    ],
)
def test_build_days_groups_half_hours_into_utc_hours(day: date, count: int, hours: int) -> None:
    intervals = intervals_for(day, value=lambda i: 0.1 + i / 1000)
    assert len(intervals) == count

    days = build_days([], intervals, PARIS)

    assert list(days) == [day]
    energy = days[day]
    assert energy.total is None
    assert energy.hours is not None
    assert [h for h, _ in energy.hours] == hour_starts(day, PARIS)
    assert len(energy.hours) == hours
    for n, (_, value) in enumerate(energy.hours):
        assert value == pytest.approx(0.1 + 2 * n / 1000 + 0.1 + (2 * n + 1) / 1000)
    assert energy.measured == pytest.approx(sum(i.value for i in intervals))


def test_build_days_quarter_hours() -> None:
    day = date(2026, 10, 25)
    intervals = intervals_for(day, step=timedelta(minutes=15), value=0.05)
    days = build_days([DayValue(day, 7.0)], intervals, PARIS)
    energy = days[day]
    assert energy.total == 7.0
    assert energy.hours is not None
    assert len(energy.hours) == 25
    assert all(v == pytest.approx(0.2) for _, v in energy.hours)
    assert energy.measured == 7.0  # the billing total wins


def test_build_days_accepts_local_aware_intervals_on_ordinary_days() -> None:
    day = date(2026, 1, 10)
    energy = build_days([], intervals_for(day, tz=PARIS), PARIS)[day]
    assert energy.hours is not None
    assert [h for h, _ in energy.hours] == hour_starts(day, PARIS)
    assert all(h.tzinfo is UTC for h, _ in energy.hours)


def test_regression_build_days_local_aware_intervals_on_autumn_change() -> None:
    day = date(2026, 10, 25)
    intervals = intervals_for(day, tz=PARIS)
    assert len(intervals) == 50
    energy = build_days([DayValue(day, 5.0)], intervals, PARIS)[day]
    assert energy.hours is not None
    assert len(energy.hours) == 25


def test_build_days_splits_intervals_across_hours_in_proportion() -> None:
    day = date(2026, 1, 10)
    intervals = intervals_for(day, step=timedelta(minutes=90), value=0.9)
    assert len(intervals) == 16
    energy = build_days([], intervals, PARIS)[day]
    assert energy.hours is not None
    values = [v for _, v in energy.hours]
    # 90-min intervals from 23:00 UTC: hours alternate 0.6 (60 min), 0.6 (30+30), 0.6...
    assert values[0] == pytest.approx(0.6)  # 23:00-00:00 is 60 of the first 90 min
    assert values[1] == pytest.approx(0.3 + 0.3)  # 30 min of each of two intervals
    assert sum(values) == pytest.approx(0.9 * 16)


def test_build_days_incomplete_days_have_no_shape() -> None:
    full = date(2026, 1, 10)
    holed = date(2026, 1, 11)
    short = date(2026, 1, 12)
    alone = date(2026, 1, 13)
    holed_intervals = intervals_for(holed)
    del holed_intervals[20]
    intervals = intervals_for(full) + holed_intervals + intervals_for(short)[:-1]
    daily = [DayValue(holed, 11.0), DayValue(short, 12.0), DayValue(alone, 13.0)]

    days = build_days(daily, intervals, PARIS)

    assert list(days) == [full, holed, short, alone]
    assert days[full].total is None
    assert days[full].hours is not None
    assert days[holed] == DayEnergy(holed, total=11.0, hours=None)
    assert days[short] == DayEnergy(short, total=12.0, hours=None)
    assert days[alone] == DayEnergy(alone, total=13.0, hours=None)


def test_build_days_drops_incomplete_day_without_total() -> None:
    day = date(2026, 1, 10)
    assert build_days([], intervals_for(day)[1:], PARIS) == {}
    assert build_days([], [], PARIS) == {}


def test_build_days_overlap_is_not_a_full_day() -> None:
    day = date(2026, 1, 10)
    intervals = intervals_for(day)
    start = intervals[4].start
    intervals.append(Interval(start + timedelta(minutes=15), start + timedelta(minutes=45), 1.0))
    assert build_days([DayValue(day, 5.0)], intervals, PARIS)[day].hours is None


def test_build_days_duplicate_start_keeps_first() -> None:
    day = date(2026, 1, 10)
    intervals = intervals_for(day, value=0.5)
    intervals.append(Interval(intervals[0].start, intervals[0].end, 99.0))
    energy = build_days([], intervals, PARIS)[day]
    assert energy.hours is not None
    assert energy.hours[0][1] == pytest.approx(1.0)
    assert energy.measured == pytest.approx(24.0)


def test_build_days_several_days_unordered() -> None:
    days_in = [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    intervals = [i for d in reversed(days_in) for i in intervals_for(d, value=0.5)]
    days = build_days([DayValue(d, 30.0) for d in days_in], intervals, PARIS)
    assert list(days) == days_in
    assert [len(days[d].hours or ()) for d in days_in] == [24, 23, 24]


def test_day_energy_measured() -> None:
    h = datetime(2026, 1, 9, 23, tzinfo=UTC)
    assert DayEnergy(date(2026, 1, 10)).measured == 0
    assert DayEnergy(date(2026, 1, 10), total=3.0).measured == 3.0
    assert DayEnergy(date(2026, 1, 10), hours=((h, 1.0), (h + HOUR, 2.5))).measured == 3.5
    assert DayEnergy(date(2026, 1, 10), total=0.0, hours=((h, 1.0),)).measured == 0.0


def test_shape_to_total() -> None:
    h = datetime(2026, 1, 9, 23, tzinfo=UTC)
    rows = [(h, 1.0), (h + HOUR, 3.0)]
    assert shape_to_total(rows, 8.0) == [(h, 2.0), (h + HOUR, 6.0)]
    assert shape_to_total(iter(rows), None) == rows
    assert shape_to_total(rows, 0.0) == [(h, 0.0), (h + HOUR, 0.0)]
    scaled = shape_to_total(rows, 4.4)
    assert scaled is not None
    assert sum(v for _, v in scaled) == pytest.approx(4.4)
    assert scaled[1][1] / scaled[0][1] == pytest.approx(3.0)


def test_shape_to_total_zero_shape() -> None:
    h = datetime(2026, 1, 9, 23, tzinfo=UTC)
    zero = [(h, 0.0), (h + HOUR, 0.0)]
    assert shape_to_total(zero, 0.0) == zero
    assert shape_to_total(zero, 0) == zero
    assert shape_to_total(zero, 2.0) is None
    assert shape_to_total([], 0.0) == []
    assert shape_to_total([], 1.0) is None


def test_build_days_then_the_shape_keeps_the_billing_total() -> None:
    day = date(2026, 10, 25)
    intervals = intervals_for(day, value=lambda i: 0.1 * (1 + i % 5))
    energy = build_days([DayValue(day, 20.0)], intervals, PARIS)[day]
    assert energy.hours is not None
    rows = shape_to_total(energy.hours, energy.total)
    assert rows is not None
    assert len(rows) == 25
    assert sum(v for _, v in rows) == pytest.approx(20.0)
