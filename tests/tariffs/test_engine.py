"""Pure pricing: base, HP/HC, Tempo, dynamic, dated periods, fees, feed-in, daily totals."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.linky_climkit.model import Interval
from custom_components.linky_climkit.statistics.aggregation import day_bounds
from custom_components.linky_climkit.tariffs.engine import (
    FeedInPeriod,
    HourCost,
    OffPeakRange,
    PricingReport,
    Tariff,
    TariffKind,
    TariffPeriod,
    TempoColour,
    price_consumption,
    price_daily_total,
    price_feed_in,
    to_per_kwh,
    validate_off_peak,
    validate_prices,
)

PARIS = ZoneInfo("Europe/Paris")
HALF = timedelta(minutes=30)
HOUR = timedelta(hours=1)
HP, HC = 0.27, 0.2068
OLD = date(2025, 8, 1)
TEMPO_PRICES = {
    "blue_hp": 0.1609,
    "blue_hc": 0.1296,
    "white_hp": 0.1894,
    "white_hc": 0.1486,
    "red_hp": 0.7562,
    "red_hc": 0.1568,
}
COLOURS = {
    date(2026, 1, 19): TempoColour.BLUE,
    date(2026, 1, 20): TempoColour.RED,
    date(2026, 1, 21): TempoColour.WHITE,
}
WEEK = frozenset(range(7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def loc(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def steps(start: datetime, count: int, value: float, step: timedelta = HALF) -> list[Interval]:
    """`count` consecutive intervals of `step` from `start`, stepped in UTC."""
    first = start.astimezone(UTC)
    return [Interval(first + i * step, first + (i + 1) * step, value) for i in range(count)]


def rng(start: str, end: str, weekdays: Sequence[int] = range(7)) -> OffPeakRange:
    return OffPeakRange(time.fromisoformat(start), time.fromisoformat(end), frozenset(weekdays))


def hp_hc(*ranges: OffPeakRange, start: date = OLD, fee: float = 0) -> TariffPeriod:
    return TariffPeriod(
        start, TariffKind.HP_HC, hp_price=HP, hc_price=HC, off_peak=ranges, subscription=fee
    )


def tempo(*ranges: OffPeakRange) -> Tariff:
    return Tariff(
        (TariffPeriod(OLD, TariffKind.TEMPO, tempo_prices=TEMPO_PRICES, off_peak=ranges),)
    )


def totals(rows: dict[datetime, HourCost]) -> dict[str, float]:
    out: defaultdict[str, float] = defaultdict(float)
    for row in rows.values():
        for bucket, kwh in row.energy.items():
            out[bucket] += kwh
    return dict(out)


def total_cost(rows: dict[datetime, HourCost]) -> float:
    return sum(row.total_cost for row in rows.values())


# === base and dated periods ==================================================================


def test_base_day_is_sum_times_price() -> None:
    tariff = Tariff((TariffPeriod(OLD, TariffKind.BASE, base_price=0.1952),))
    first = loc(2026, 1, 15).astimezone(UTC)
    intervals = [
        Interval(first + i * HALF, first + (i + 1) * HALF, 0.1 + 0.01 * i) for i in range(48)
    ]
    rows = price_consumption(tariff, intervals, PARIS)
    assert list(rows) == [utc(2026, 1, 14, 23) + i * HOUR for i in range(24)]
    assert rows[utc(2026, 1, 14, 23)] == HourCost({"base": 0.1 + 0.11}, {"base": 0.21 * 0.1952})
    assert totals(rows) == pytest.approx({"base": 48 * 0.1 + 0.01 * 47 * 48 / 2})
    assert total_cost(rows) == pytest.approx((48 * 0.1 + 0.01 * 47 * 48 / 2) * 0.1952)


def test_price_change_applies_from_local_midnight() -> None:
    tariff = Tariff(
        (  # unsorted on purpose
            TariffPeriod(date(2026, 2, 1), TariffKind.BASE, base_price=0.2016),
            TariffPeriod(OLD, TariffKind.BASE, base_price=0.1952),
        )
    )
    rows = price_consumption(tariff, steps(loc(2026, 1, 31, 22), 4, 1.0, HOUR), PARIS)
    assert {hour: row.cost["base"] for hour, row in rows.items()} == pytest.approx(
        {
            utc(2026, 1, 31, 21): 1.0 * 0.1952,
            utc(2026, 1, 31, 22): 1.0 * 0.1952,
            utc(2026, 1, 31, 23): 1.0 * 0.2016,  # local midnight, 1 February
            utc(2026, 2, 1, 0): 1.0 * 0.2016,
        }
    )
    straddling = price_consumption(tariff, steps(loc(2026, 1, 31, 23, 30), 1, 1.2, HOUR), PARIS)
    assert straddling[utc(2026, 1, 31, 22)].cost["base"] == pytest.approx(0.6 * 0.1952)
    assert straddling[utc(2026, 1, 31, 23)].cost["base"] == pytest.approx(0.6 * 0.2016)


def test_before_first_period_is_not_priced_and_reported() -> None:
    tariff = Tariff((TariffPeriod(OLD, TariffKind.BASE, base_price=0.2),))
    report = PricingReport()
    rows = price_consumption(tariff, steps(loc(2025, 7, 31, 23), 4, 0.5), PARIS, report=report)
    assert list(rows) == [utc(2025, 7, 31, 22)]  # only 1 August 00:00–01:00 local is priced
    assert rows[utc(2025, 7, 31, 22)].cost == pytest.approx({"base": 1.0 * 0.2})
    assert report.hours_before_tariff == 1
    assert report.before_tariff == {utc(2025, 7, 31, 21)}


def test_empty_interval_is_ignored() -> None:
    tariff = Tariff((TariffPeriod(OLD, TariffKind.BASE, base_price=0.2, subscription=10),))
    start = utc(2026, 1, 15, 10)
    assert price_consumption(tariff, [Interval(start, start, 1.0)], PARIS) == {}


# === HP/HC ===================================================================================


def test_hp_hc_boundaries_at_minutes_split_half_hours() -> None:
    tariff = Tariff((hp_hc(rng("01:04", "07:04"), rng("12:08", "14:08")),))
    intervals = [
        *steps(loc(2026, 1, 14, 1), 1, 0.5),
        *steps(loc(2026, 1, 14, 7), 1, 0.6),
        *steps(loc(2026, 1, 14, 12), 1, 0.7),
        *steps(loc(2026, 1, 14, 14), 2, 0.8),
    ]
    rows = price_consumption(tariff, intervals, PARIS)
    assert rows[utc(2026, 1, 14, 0)].energy == pytest.approx(
        {"hp": 0.5 * 4 / 30, "hc": 0.5 * 26 / 30}
    )
    assert rows[utc(2026, 1, 14, 0)].total_cost == pytest.approx(
        0.5 * 4 / 30 * HP + 0.5 * 26 / 30 * HC
    )
    assert rows[utc(2026, 1, 14, 6)].energy == pytest.approx(
        {"hc": 0.6 * 4 / 30, "hp": 0.6 * 26 / 30}
    )
    assert rows[utc(2026, 1, 14, 11)].energy == pytest.approx(
        {"hp": 0.7 * 8 / 30, "hc": 0.7 * 22 / 30}
    )
    assert rows[utc(2026, 1, 14, 13)].energy == pytest.approx(
        {"hc": 0.8 * 8 / 30, "hp": 0.8 * 22 / 30 + 0.8}
    )
    assert total_cost(rows) == pytest.approx(
        (0.5 * 4 / 30 + 0.6 * 26 / 30 + 0.7 * 8 / 30 + 0.8 * 22 / 30 + 0.8) * HP
        + (0.5 * 26 / 30 + 0.6 * 4 / 30 + 0.7 * 22 / 30 + 0.8 * 8 / 30) * HC
    )


def test_hp_hc_range_across_midnight() -> None:
    tariff = Tariff((hp_hc(rng("22:08", "06:08")),))
    intervals = [
        *steps(loc(2026, 1, 14, 22), 1, 1.0),
        *steps(loc(2026, 1, 14, 23, 30), 1, 1.2, HOUR),
        *steps(loc(2026, 1, 15, 6), 1, 0.3),
    ]
    rows = price_consumption(tariff, intervals, PARIS)
    assert rows[utc(2026, 1, 14, 21)].energy == pytest.approx({"hp": 8 / 30, "hc": 22 / 30})
    assert rows[utc(2026, 1, 14, 22)].energy == pytest.approx({"hc": 0.6})
    assert rows[utc(2026, 1, 14, 23)].energy == pytest.approx({"hc": 0.6})
    assert rows[utc(2026, 1, 15, 5)].energy == pytest.approx(
        {"hc": 0.3 * 8 / 30, "hp": 0.3 * 22 / 30}
    )


def test_hp_hc_range_weekday_is_the_day_it_starts() -> None:
    tariff = Tariff((hp_hc(rng("22:08", "06:08", [0])),))  # Monday night only
    monday = date(2026, 1, 12)
    assert monday.weekday() == 0
    points = {
        loc(2026, 1, 12, 5): "hp",  # Sunday night: no range
        loc(2026, 1, 12, 23): "hc",
        loc(2026, 1, 13, 5): "hc",  # still Monday's range
        loc(2026, 1, 13, 23): "hp",
    }
    for start, bucket in points.items():
        rows = price_consumption(tariff, steps(start, 1, 1.0), PARIS)
        assert [row.energy for row in rows.values()] == [{bucket: 1.0}], start


def test_hp_hc_whole_weekend_off_peak() -> None:
    weekend = [5, 6]
    ranges = (rng("01:04", "07:04", range(5)), rng("00:00", "12:00", weekend))
    ranges += (rng("12:00", "00:00", weekend),)
    assert validate_off_peak(ranges) is None
    tariff = Tariff((hp_hc(*ranges),))
    saturday = price_consumption(tariff, steps(loc(2026, 1, 17), 96, 0.25), PARIS)  # Sat + Sun
    assert totals(saturday) == pytest.approx({"hc": 96 * 0.25})
    assert total_cost(saturday) == pytest.approx(96 * 0.25 * HC)
    friday_night = price_consumption(tariff, steps(loc(2026, 1, 16, 23), 1, 1.0), PARIS)
    assert totals(friday_night) == {"hp": 1.0}
    monday = price_consumption(tariff, steps(loc(2026, 1, 19), 3, 0.3), PARIS)
    assert totals(monday) == pytest.approx({"hp": 0.3 * 2 + 0.3 * 4 / 30, "hc": 0.3 * 26 / 30})


# === Tempo ===================================================================================


def test_tempo_red_day_early_hours_belong_to_previous_tempo_day() -> None:
    report = PricingReport()
    rows = price_consumption(
        tempo(), steps(loc(2026, 1, 20), 24, 1.0, HOUR), PARIS, colour_of=COLOURS.get, report=report
    )
    assert totals(rows) == pytest.approx(
        {"tempo_blue_hc": 6, "tempo_red_hp": 16, "tempo_red_hc": 2}
    )
    assert total_cost(rows) == pytest.approx(6 * 0.1296 + 16 * 0.7562 + 2 * 0.1568)
    assert set(rows[utc(2026, 1, 20, 4)].energy) == {"tempo_blue_hc"}  # 05:00 local
    assert set(rows[utc(2026, 1, 20, 5)].energy) == {"tempo_red_hp"}  # 06:00 local
    assert set(rows[utc(2026, 1, 20, 21)].energy) == {"tempo_red_hc"}  # 22:00 local
    assert report.tempo_fallback_days == set()


def test_tempo_missing_colour_falls_back_to_blue_and_is_reported() -> None:
    report = PricingReport()
    rows = price_consumption(
        tempo(), steps(loc(2026, 1, 22), 12, 1.0, HOUR), PARIS, colour_of=COLOURS.get, report=report
    )
    assert totals(rows) == pytest.approx({"tempo_white_hc": 6, "tempo_blue_hp": 6})
    assert total_cost(rows) == pytest.approx(6 * 0.1486 + 6 * 0.1609)
    assert report.tempo_fallback_days == {date(2026, 1, 22)}


def test_tempo_uses_the_periods_off_peak_ranges_when_given() -> None:
    rows = price_consumption(
        tempo(rng("01:00", "07:00")),
        steps(loc(2026, 1, 20), 24, 1.0, HOUR),
        PARIS,
        colour_of=COLOURS.get,
    )
    assert totals(rows) == pytest.approx(
        {"tempo_blue_hp": 1, "tempo_blue_hc": 5, "tempo_red_hc": 1, "tempo_red_hp": 17}
    )


# === DST =====================================================================================


def test_dst_spring_day_has_23_utc_hours() -> None:
    tariff = Tariff((hp_hc(rng("01:04", "07:04"), fee=12.0),))
    start, end = day_bounds(date(2026, 3, 29), PARIS)
    assert (start, end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    rows = price_consumption(tariff, steps(start, 46, 0.25), PARIS)
    assert list(rows) == [start + i * HOUR for i in range(23)]
    hc = 0.25 * (26 + 30 + 30 * 8 + 4) / 30  # 01:04–02:00 CET, then 03:00–07:04 CEST
    assert totals(rows) == pytest.approx({"hc": hc, "hp": 46 * 0.25 - hc})
    assert rows[utc(2026, 3, 29, 1)].energy == pytest.approx({"hc": 0.5})  # 03:00 CEST
    assert rows[start].fee == pytest.approx(12.0 / 31)
    assert total_cost(rows) == pytest.approx(2.5 * HC + 9 * HP + 12.0 / 31)


def test_dst_autumn_day_has_25_utc_hours() -> None:
    tariff = Tariff((hp_hc(rng("01:04", "07:04")),))
    start, end = day_bounds(date(2026, 10, 25), PARIS)
    assert (start, end) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    rows = price_consumption(tariff, steps(start, 50, 0.25), PARIS)
    assert list(rows) == [start + i * HOUR for i in range(25)]
    hc = 0.25 * (26 + 30 * 13 + 4) / 30  # 01:04 CEST to 07:04 CET is 7 hours
    assert totals(rows) == pytest.approx({"hc": hc, "hp": 50 * 0.25 - hc})
    assert rows[utc(2026, 10, 25, 0)].energy == pytest.approx({"hc": 0.5})  # first 02:00
    assert rows[utc(2026, 10, 25, 1)].energy == pytest.approx({"hc": 0.5})  # second 02:00
    assert total_cost(rows) == pytest.approx(3.5 * HC + 9 * HP)


# === property: buckets sum to the interval energy, hour by hour ==============================

HC_MINUTES = ((64, 424), (728, 848))  # 01:04–07:04 and 12:08–14:08
NEW = date(2026, 3, 29)
PRICES = {(False, "hp"): 0.25, (False, "hc"): 0.18, (True, "hp"): 0.27, (True, "hc"): 0.2}


@settings(max_examples=60, deadline=None)
@given(
    base=st.sampled_from([utc(2026, 3, 24), utc(2026, 10, 20)]),
    parts=st.lists(
        st.tuples(
            st.integers(0, 10 * 1440),
            st.sampled_from([15, 30, 60, 1440]),
            st.floats(0, 5, allow_nan=False),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_buckets_match_a_minute_by_minute_oracle(
    base: datetime, parts: list[tuple[int, int, float]]
) -> None:
    ranges = (rng("01:04", "07:04"), rng("12:08", "14:08"))
    tariff = Tariff(
        (
            TariffPeriod(OLD, TariffKind.HP_HC, hp_price=0.25, hc_price=0.18, off_peak=ranges),
            TariffPeriod(NEW, TariffKind.HP_HC, hp_price=0.27, hc_price=0.2, off_peak=ranges),
        )
    )
    energy: defaultdict[tuple[datetime, str], float] = defaultdict(float)
    cost: defaultdict[datetime, float] = defaultdict(float)
    intervals = []
    for offset, minutes, value in parts:
        start = base + timedelta(minutes=offset)
        intervals.append(Interval(start, start + timedelta(minutes=minutes), value))
        for m in range(minutes):
            instant = start + timedelta(minutes=m)
            local = instant.astimezone(PARIS)
            of_day = local.hour * 60 + local.minute
            bucket = "hc" if any(a <= of_day < b for a, b in HC_MINUTES) else "hp"
            hour = instant.replace(minute=0)
            energy[hour, bucket] += value / minutes
            cost[hour] += value / minutes * PRICES[local.date() >= NEW, bucket]
    rows = price_consumption(tariff, intervals, PARIS)
    assert set(rows) == {hour for hour, _ in energy}
    for hour, row in rows.items():
        for bucket in ("hp", "hc"):
            assert row.energy.get(bucket, 0.0) == pytest.approx(energy[hour, bucket], abs=1e-9)
        assert row.total_energy == pytest.approx(energy[hour, "hp"] + energy[hour, "hc"], abs=1e-9)
        assert row.total_cost == pytest.approx(cost[hour], abs=1e-9)
    assert sum(row.total_energy for row in rows.values()) == pytest.approx(
        sum(value for _, _, value in parts), abs=1e-9
    )


# === subscription ============================================================================


def test_monthly_fee_is_spread_per_day_and_follows_the_period() -> None:
    tariff = Tariff(
        (
            TariffPeriod(OLD, TariffKind.BASE, base_price=0.2, subscription=13.44),
            TariffPeriod(date(2026, 2, 1), TariffKind.BASE, base_price=0.2, subscription=15.5),
        )
    )
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(33)]
    intervals = [Interval(*day_bounds(day, PARIS), 2.4) for day in days]
    rows = price_consumption(tariff, intervals, PARIS)
    january = [rows[day_bounds(day, PARIS)[0]].fee for day in days[:31]]
    assert january == pytest.approx([13.44 / 31] * 31)
    assert sum(january) == pytest.approx(13.44)
    assert rows[utc(2026, 1, 31, 23)].fee == pytest.approx(15.5 / 28)
    assert rows[utc(2026, 1, 31, 23)].total_cost == pytest.approx(0.1 * 0.2 + 15.5 / 28)
    assert sum(row.fee for row in rows.values()) == pytest.approx(13.44 + 2 * 15.5 / 28)


def test_yearly_fee_and_fee_row_without_energy() -> None:
    period = TariffPeriod(
        OLD, TariffKind.BASE, base_price=0.2, subscription=150, subscription_per="year"
    )
    rows = price_consumption(Tariff((period,)), steps(loc(2026, 5, 6, 10), 1, 1.0), PARIS)
    assert rows == {
        utc(2026, 5, 5, 22): HourCost({}, {}, 150 / 365),
        utc(2026, 5, 6, 8): HourCost({"base": 1.0}, {"base": 0.2}),
    }
    assert period.daily_fee(date(2028, 2, 29)) == 150 / 366


# === dynamic price ===========================================================================


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0.2, "€/kWh", 0.2),
        (0.2, "EUR/kWh", 0.2),
        (0.2, " eur/kwh ", 0.2),
        (20, "c€/kWh", 20 / 100),
        (20, "ct/kWh", 20 / 100),
        (200, "€/MWh", 200 / 1000),
        (200, "EUR/MWh", 200 / 1000),
        (0.3, "CHF/kWh", 0.3),
        (25, "Rp./kWh", 25 / 100),
        (300, "CHF/MWh", 300 / 1000),
        (1, "kWh", None),
        (1, "€", None),
    ],
)
def test_to_per_kwh(value: float, unit: str, expected: float | None) -> None:
    assert to_per_kwh(value, unit) == expected


def test_dynamic_price_converted_and_unpriced_hours_counted() -> None:
    raw = {utc(2026, 1, 15, 0): 20.0, utc(2026, 1, 15, 1): 25.5}  # c€/kWh; 02:00 missing

    def price_at(instant: datetime) -> float | None:
        value = raw.get(instant.replace(minute=0))
        return None if value is None else to_per_kwh(value, "c€/kWh")

    tariff = Tariff((TariffPeriod(OLD, TariffKind.DYNAMIC),))
    report = PricingReport()
    rows = price_consumption(
        tariff, steps(utc(2026, 1, 15), 6, 0.5), PARIS, price_at=price_at, report=report
    )
    assert {hour: row.cost["base"] for hour, row in rows.items()} == pytest.approx(
        {utc(2026, 1, 15, 0): 1.0 * 0.20, utc(2026, 1, 15, 1): 1.0 * 0.255, utc(2026, 1, 15, 2): 0}
    )
    assert totals(rows) == pytest.approx({"base": 3.0})
    assert report.unpriced_hours == 1


def test_dynamic_daily_total_uses_the_average_of_priced_hours() -> None:
    tariff = Tariff((TariffPeriod(OLD, TariffKind.DYNAMIC, subscription=31),))

    def price_at(instant: datetime) -> float | None:
        if instant == utc(2026, 1, 14, 23):
            return 0.23
        return instant.hour / 100 if instant.day == 15 and instant.hour < 12 else None

    report = PricingReport()
    rows = price_daily_total(tariff, date(2026, 1, 15), 10, PARIS, price_at=price_at, report=report)
    average = (0.23 + (0 + 11) * 12 / 2 / 100) / 13
    assert rows == {utc(2026, 1, 14, 23): HourCost({"base": 10}, {"base": 10 * average}, 1.0)}
    assert rows[utc(2026, 1, 14, 23)].cost["base"] == pytest.approx(10 * (0.23 + 0.66) / 13)
    assert report.unpriced_hours == 0
    unpriced = price_daily_total(tariff, date(2026, 1, 15), 10, PARIS, report=report)
    assert unpriced[utc(2026, 1, 14, 23)].cost == {"base": 0.0}
    assert report.unpriced_hours == 24


# === feed-in =================================================================================


def test_feed_in_is_dated() -> None:
    tariff = Tariff(
        (),
        feed_in=(FeedInPeriod(date(2026, 2, 1), 0.0762), FeedInPeriod(date(2025, 1, 1), 0.04)),
    )
    intervals = [*steps(loc(2026, 1, 31, 23, 30), 1, 1.0, HOUR), *steps(loc(2024, 12, 31), 2, 1.0)]
    assert price_feed_in(tariff, intervals, PARIS) == pytest.approx(
        {utc(2026, 1, 31, 22): 0.5 * 0.04, utc(2026, 1, 31, 23): 0.5 * 0.0762}
    )


# === daily totals ============================================================================


def test_daily_total_hp_hc_weighted_by_hours() -> None:
    tariff = Tariff((hp_hc(rng("22:00", "06:00"), fee=31.0),))
    rows = price_daily_total(tariff, date(2026, 1, 15), 12.0, PARIS)
    assert list(rows) == [utc(2026, 1, 14, 23)]
    row = rows[utc(2026, 1, 14, 23)]
    assert row.energy == pytest.approx({"hc": 12.0 * 8 / 24, "hp": 12.0 * 16 / 24})
    assert sum(row.cost.values()) == pytest.approx((8 * HC + 16 * HP) / 24 * 12.0)
    assert row.total_cost == pytest.approx((8 * HC + 16 * HP) / 24 * 12.0 + 31.0 / 31)


def test_daily_total_hp_hc_on_a_23_hour_day() -> None:
    tariff = Tariff((hp_hc(rng("22:00", "06:00")),))
    rows = price_daily_total(tariff, date(2026, 3, 29), 11.5, PARIS)
    row = rows[utc(2026, 3, 28, 23)]
    hc_hours = 2 + 3 + 2  # 00:00–02:00 CET, 03:00–06:00 and 22:00–24:00 CEST
    assert row.energy == pytest.approx({"hc": 11.5 * hc_hours / 23, "hp": 11.5 * 16 / 23})
    assert row.total_cost == pytest.approx((7 * HC + 16 * HP) / 23 * 11.5)


def test_daily_total_base_and_tempo() -> None:
    base = Tariff((TariffPeriod(OLD, TariffKind.BASE, base_price=0.1952),))
    row = price_daily_total(base, date(2026, 10, 25), 25.0, PARIS)[utc(2026, 10, 24, 22)]
    assert row.energy == pytest.approx({"base": 25.0})
    assert row.total_cost == pytest.approx(25.0 * 0.1952)
    rows = price_daily_total(tempo(), date(2026, 1, 20), 24.0, PARIS, colour_of=COLOURS.get)
    assert rows[utc(2026, 1, 19, 23)].total_cost == pytest.approx(
        (6 * 0.1296 + 16 * 0.7562 + 2 * 0.1568) / 24 * 24.0
    )


def test_daily_total_before_first_period() -> None:
    tariff = Tariff((TariffPeriod(OLD, TariffKind.BASE, base_price=0.2),))
    report = PricingReport()
    assert price_daily_total(tariff, date(2025, 7, 31), 5.0, PARIS, report=report) == {}
    assert report.hours_before_tariff == 24


# === buckets and validation ==================================================================


def test_buckets() -> None:
    dynamic = TariffPeriod(OLD, TariffKind.DYNAMIC)
    assert Tariff((dynamic,)).buckets() == ("base",)
    assert Tariff((hp_hc(),)).buckets() == ("hp", "hc")
    tempo_period = tempo().periods[0]
    assert Tariff((tempo_period, hp_hc(), dynamic)).buckets() == (
        "base",
        "hp",
        "hc",
        "tempo_blue_hp",
        "tempo_blue_hc",
        "tempo_white_hp",
        "tempo_white_hc",
        "tempo_red_hp",
        "tempo_red_hc",
    )


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ((), None),
        ((rng("01:04", "07:04"), rng("12:08", "14:08")), None),
        ((rng("22:08", "06:08"),), None),
        ((rng("22:00", "06:00", [0]), rng("05:00", "07:00", [0])), None),
        ((rng("22:00", "06:00", [0]), rng("05:00", "07:00", [1])), "overlapping_ranges"),
        ((rng("22:00", "06:00", [6]), rng("05:00", "07:00", [0])), "overlapping_ranges"),
        ((rng("22:00", "06:00", [6]), rng("06:00", "07:00", [0])), None),
        ((rng("01:00", "07:00"), rng("06:59", "08:00")), "overlapping_ranges"),
        ((rng("01:00", "07:00", [2]), rng("03:00", "04:00", [2])), "overlapping_ranges"),
        ((rng("01:00", "07:00", [2]), rng("03:00", "04:00", [3])), None),
        ((rng("07:04", "07:04"),), "empty_range"),
        ((rng("01:00", "02:00", []),), "empty_range"),
    ],
)
def test_validate_off_peak(ranges: tuple[OffPeakRange, ...], expected: str | None) -> None:
    assert validate_off_peak(ranges) == expected


def test_empty_range_never_contains() -> None:
    assert not rng("07:04", "07:04").contains(loc(2026, 1, 15, 7, 4))


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (hp_hc(), None),
        (TariffPeriod(OLD, TariffKind.BASE, base_price=-0.01), "negative_price"),
        (TariffPeriod(OLD, TariffKind.HP_HC, hc_price=-0.01), "negative_price"),
        (TariffPeriod(OLD, TariffKind.BASE, subscription=-1), "negative_price"),
        (tempo().periods[0], None),
        (TariffPeriod(OLD, TariffKind.TEMPO, tempo_prices={"red_hp": -1}), "negative_price"),
        (FeedInPeriod(OLD, 0.04), None),
        (FeedInPeriod(OLD, -0.04), "negative_price"),
    ],
)
def test_validate_prices(period: TariffPeriod | FeedInPeriod, expected: str | None) -> None:
    assert validate_prices(period) == expected
