"""Pure: the stored tariff ⇄ engine, dated price changes, whole off-peak days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.linky_climkit.model import Interval
from custom_components.linky_climkit.tariffs.engine import (
    FeedInPeriod,
    OffPeakRange,
    Tariff,
    TariffKind,
    TariffPeriod,
    price_consumption,
    validate_off_peak,
)
from custom_components.linky_climkit.tariffs.stored import (
    apply_prices,
    feed_in_options,
    join_whole_days,
    new_tariff_options,
    off_peak_from_options,
    off_peak_to_options,
    parse_date,
    period_from_options,
    period_options,
    split_whole_days,
    stored_tariff,
    tariff_from_options,
    tariff_to_options,
    with_feed_in,
    with_period,
)

PARIS = ZoneInfo("Europe/Paris")
WEEK = frozenset(range(7))
WEEKEND = frozenset({5, 6})
WORKDAYS = frozenset(range(5))
EXAMPLE: dict[str, Any] = {
    "kind": "hp_hc",
    "currency": "EUR",
    "periods": [
        {
            "start": "2026-02-01",
            "base_price": 0.0,
            "hp_price": 0.27,
            "hc_price": 0.2068,
            "tempo_prices": {},
            "subscription": 15.65,
            "subscription_per": "month",
        }
    ],
    "off_peak": [{"start": "22:08", "end": "06:08", "weekdays": [0, 1, 2, 3, 4, 5, 6]}],
    "tempo_entity": None,
    "price_entity": None,
    "feed_in": [{"start": "2026-01-01", "price": 0.1269}],
}


def r(start: str, end: str, days: frozenset[int] = WEEK) -> OffPeakRange:
    return OffPeakRange(time.fromisoformat(start), time.fromisoformat(end), days)


# ---- options ⇄ engine ---------------------------------------------------------------------


def test_example_layout_to_engine() -> None:
    """The documented layout gives one HP/HC period with its ranges, feed-in and currency."""
    tariff = tariff_from_options({"tariff": EXAMPLE, "other": 1})
    assert tariff == Tariff(
        periods=(
            TariffPeriod(
                start=date(2026, 2, 1),
                kind=TariffKind.HP_HC,
                hp_price=0.27,
                hc_price=0.2068,
                off_peak=(r("22:08", "06:08"),),
                subscription=15.65,
            ),
        ),
        feed_in=(FeedInPeriod(date(2026, 1, 1), 0.1269),),
        currency="EUR",
    )
    # The tariff mapping itself is accepted too.
    assert tariff_from_options(EXAMPLE) == tariff


def test_example_prices_like_the_bill() -> None:
    """An hour at 23:00 is off-peak, one at 12:00 peak; the month's fee lands at midnight."""
    tariff = tariff_from_options({"tariff": EXAMPLE})
    assert tariff is not None
    night = datetime(2026, 2, 10, 23, tzinfo=PARIS)
    noon = datetime(2026, 2, 10, 12, tzinfo=PARIS)
    rows = price_consumption(
        tariff,
        [
            Interval(night, night + timedelta(hours=1), 1.0),
            Interval(noon, noon + timedelta(hours=1), 2.0),
        ],
        PARIS,
    )
    assert rows[noon.astimezone(UTC)].cost == {"hp": pytest.approx(0.54)}
    assert rows[night.astimezone(UTC)].cost == {"hc": pytest.approx(0.2068)}
    midnight = datetime(2026, 2, 10, tzinfo=PARIS).astimezone(UTC)
    assert rows[midnight].fee == pytest.approx(15.65 / 28)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"tariff": None},
        {"tariff": "hp_hc"},
        {"tariff": {"kind": "flat", "periods": [{"start": "2026-01-01"}]}},
        {"tariff": {"kind": ["base"], "periods": [{"start": "2026-01-01"}]}},
        {"tariff": {"kind": "base"}},
        {"tariff": {"kind": "base", "periods": [], "feed_in": []}},
        {"tariff": {"periods": [{"start": "not a date"}], "feed_in": [{"price": 1}]}},
    ],
)
def test_no_tariff(options: dict[str, Any]) -> None:
    """Nothing configured, an unknown kind or nothing priceable: no tariff."""
    assert tariff_from_options(options) is None


def test_missing_keys_and_malformed_items() -> None:
    """Missing keys take defaults; unreadable periods, prices and ranges are skipped."""
    options = {
        "tariff": {
            "periods": [
                {"start": "2026-03-01", "base_price": 0.2, "subscription_per": "year"},
                {"start": "2026-01-01"},
                {"start": "2026-02-01", "base_price": "cheap"},
                {"start": "2026-04-01", "tempo_prices": "blue_hp"},
                "garbage",
            ],
            "off_peak": [
                {"start": "22:00", "end": "24:00"},
                {"start": "24:00", "end": "06:00"},
                {"start": 22, "end": "06:00"},
                {"start": "1:2:3", "end": "06:00"},
                {"start": "x", "end": "06:00"},
                {"start": "01:00", "end": "02:00", "weekdays": "mon"},
                {"start": "03:00", "end": "04:00", "weekdays": [5, 6, 9]},
            ],
            "feed_in": [
                {"start": "2026-01-01", "price": None},
                {"start": "2026-01-02", "price": "x"},
            ],
        }
    }
    tariff = tariff_from_options(options)
    assert tariff is not None
    assert tariff.currency == "EUR"
    assert [(p.start, p.kind, p.base_price, p.subscription_per) for p in tariff.periods] == [
        (date(2026, 1, 1), TariffKind.BASE, 0.0, "month"),
        (date(2026, 3, 1), TariffKind.BASE, 0.2, "year"),
    ]
    assert tariff.periods[0].off_peak == (r("22:00", "00:00"), r("03:00", "04:00", WEEKEND))
    assert tariff.feed_in == (FeedInPeriod(date(2026, 1, 1), 0.0),)


def test_stored_tariff_normalises() -> None:
    """Every key is present; lists are copies; entities default to None."""
    stored = stored_tariff({"tariff": {"kind": "tempo", "periods": [{"start": "2026-01-01"}]}})
    assert stored == {
        **new_tariff_options(TariffKind.TEMPO, "EUR"),
        "periods": [{"start": "2026-01-01"}],
    }
    assert stored_tariff({"feed_in": []}) == new_tariff_options(TariffKind.BASE, "EUR")
    source = {"tariff": EXAMPLE}
    copy = stored_tariff(source)
    assert copy is not None
    copy["periods"][0]["hp_price"] = 1.0
    assert EXAMPLE["periods"][0]["hp_price"] == 0.27


def test_tempo_prices_kept_by_key() -> None:
    """Only the six Tempo keys are read."""
    period = period_from_options(
        {"start": "2026-01-01", "tempo_prices": {"blue_hp": 0.16, "red_hc": "0.15", "green": 1}},
        TariffKind.TEMPO,
    )
    assert period is not None
    assert period.tempo_prices == {"blue_hp": 0.16, "red_hc": 0.15}


def test_round_trip_engine_options() -> None:
    """tariff_to_options then tariff_from_options gives the same tariff."""
    ranges = (
        r("00:00", "12:00", WEEKEND),
        r("12:00", "00:00", WEEKEND),
        r("22:00", "06:00", WORKDAYS),
    )
    tariff = Tariff(
        periods=(
            TariffPeriod(
                date(2026, 2, 1), TariffKind.HP_HC, hp_price=0.3, hc_price=0.2, off_peak=ranges
            ),
            TariffPeriod(
                date(2025, 8, 1),
                TariffKind.HP_HC,
                hp_price=0.27,
                hc_price=0.2,
                off_peak=ranges,
                subscription=180.0,
                subscription_per="year",
            ),
        ),
        feed_in=(FeedInPeriod(date(2026, 1, 1), 0.1), FeedInPeriod(date(2025, 1, 1), 0.13)),
        currency="CHF",
    )
    stored = tariff_to_options(tariff, price_entity="sensor.price")
    assert [p["start"] for p in stored["periods"]] == ["2025-08-01", "2026-02-01"]
    assert stored["off_peak"][1] == {"start": "12:00", "end": "00:00", "weekdays": [5, 6]}
    assert stored["price_entity"] == "sensor.price"
    back = tariff_from_options({"tariff": stored})
    assert back is not None
    assert back.periods == tuple(sorted(tariff.periods, key=lambda p: p.start))
    assert back.feed_in == tuple(sorted(tariff.feed_in, key=lambda p: p.start))
    assert back.currency == "CHF"
    assert tariff_to_options(Tariff(periods=())) == new_tariff_options(TariffKind.BASE, "EUR")


def test_mixed_periods_cannot_be_stored() -> None:
    """Kind and off-peak ranges are per tariff in the options."""
    day = date(2026, 1, 1)
    with pytest.raises(ValueError, match="mixed_periods"):
        tariff_to_options(
            Tariff((TariffPeriod(day, TariffKind.BASE), TariffPeriod(day, TariffKind.TEMPO)))
        )
    with pytest.raises(ValueError, match="mixed_periods"):
        tariff_to_options(
            Tariff(
                (
                    TariffPeriod(day, TariffKind.HP_HC, off_peak=(r("22:00", "06:00"),)),
                    TariffPeriod(day, TariffKind.HP_HC),
                )
            )
        )


def test_off_peak_options_midnight() -> None:
    """Midnight is stored as 00:00 (time.fromisoformat reads it); 24:00 is read as an end."""
    ranges = (r("12:00", "00:00", WEEKEND),)
    assert off_peak_to_options(ranges) == [{"start": "12:00", "end": "00:00", "weekdays": [5, 6]}]
    assert off_peak_from_options(off_peak_to_options(ranges)) == ranges
    assert off_peak_from_options([{"start": "12:00", "end": "24:00"}]) == (r("12:00", "00:00"),)


def test_parse_date() -> None:
    assert parse_date("2026-02-01") == date(2026, 2, 1)
    assert parse_date(date(2026, 2, 1)) == date(2026, 2, 1)
    assert parse_date("01/02/2026") is None
    assert parse_date(None) is None


# ---- dated changes ------------------------------------------------------------------------


def _periods(stored: dict[str, Any]) -> list[tuple[str, float]]:
    return [(p["start"], p["hp_price"]) for p in stored["periods"]]


def test_price_change_applies_from_its_date() -> None:
    """A change from 1 February keeps January; a later correction replaces what follows it."""
    january = {**EXAMPLE, "periods": [period_options(date(2026, 1, 1), hp_price=0.25)]}
    stored = with_period(january, period_options(date(2026, 2, 1), hp_price=0.27))
    assert _periods(stored) == [("2026-01-01", 0.25), ("2026-02-01", 0.27)]
    stored = with_period(stored, period_options(date(2026, 3, 1), hp_price=0.3))
    assert _periods(stored) == [("2026-01-01", 0.25), ("2026-02-01", 0.27), ("2026-03-01", 0.3)]
    # Same start: replaced, later ones dropped too.
    stored = with_period(stored, period_options(date(2026, 2, 1), hp_price=0.28))
    assert _periods(stored) == [("2026-01-01", 0.25), ("2026-02-01", 0.28)]
    # "Correct all prices": a date before the first period.
    stored = with_period(stored, period_options(date(2020, 1, 1), hp_price=0.2))
    assert _periods(stored) == [("2020-01-01", 0.2)]
    assert stored["off_peak"] == EXAMPLE["off_peak"]
    assert _periods(january) == [("2026-01-01", 0.25)]  # the input is not changed


def test_with_period_skips_unreadable_and_rejects_bad_start() -> None:
    stored = {"periods": [{"start": "garbage"}, {"start": "2026-01-01", "hp_price": 0.1}]}
    assert _periods(with_period(stored, period_options(date(2026, 2, 1), hp_price=0.2))) == [
        ("2026-01-01", 0.1),
        ("2026-02-01", 0.2),
    ]
    assert with_period({}, period_options(date(2026, 2, 1)))["periods"][0]["start"] == "2026-02-01"
    with pytest.raises(ValueError, match="invalid_date"):
        with_period(stored, {"start": "1 February"})


def test_feed_in_change_applies_from_its_date() -> None:
    stored = with_feed_in(EXAMPLE, feed_in_options(date(2026, 6, 1), 0.04))
    assert stored["feed_in"] == [
        {"start": "2026-01-01", "price": 0.1269},
        {"start": "2026-06-01", "price": 0.04},
    ]
    stored = with_feed_in(stored, feed_in_options(date(2025, 1, 1), 0.1))
    assert stored["feed_in"] == [{"start": "2025-01-01", "price": 0.1}]
    assert with_feed_in({}, feed_in_options(date(2025, 1, 1), 0.1))["feed_in"] == [
        {"start": "2025-01-01", "price": 0.1}
    ]


def test_apply_prices_same_kind_keeps_history() -> None:
    ranges = [r("23:00", "07:00")]
    stored = apply_prices(
        EXAMPLE,
        kind=TariffKind.HP_HC,
        currency="EUR",
        period=period_options(date(2026, 8, 1), hp_price=0.29),
        off_peak=ranges,
    )
    assert _periods(stored) == [("2026-02-01", 0.27), ("2026-08-01", 0.29)]
    assert stored["off_peak"] == off_peak_to_options(ranges)
    assert stored["feed_in"] == EXAMPLE["feed_in"]


def test_apply_prices_other_kind_starts_afresh() -> None:
    """Earlier HP/HC prices cannot be read as Tempo prices: only the new period stays."""
    stored = apply_prices(
        EXAMPLE,
        kind=TariffKind.TEMPO,
        currency="EUR",
        period=period_options(date(2026, 8, 1), tempo_prices={"blue_hp": 0.16}),
        tempo_entity="sensor.tempo",
    )
    assert stored["kind"] == "tempo"
    assert [p["start"] for p in stored["periods"]] == ["2026-08-01"]
    assert stored["off_peak"] == []
    assert stored["tempo_entity"] == "sensor.tempo"
    assert stored["feed_in"] == EXAMPLE["feed_in"]
    fresh = apply_prices(
        None, kind=TariffKind.BASE, currency="CHF", period=period_options(date(2026, 8, 1))
    )
    assert fresh["currency"] == "CHF"
    assert fresh["feed_in"] == []


# ---- whole days -----------------------------------------------------------------------


def test_stored_times_read_as_before() -> None:
    """Stored wall times are read as they always were: "HH:MM" (or "H:MM", "HHhMM"), "24:00"
    only as an end; anything else skips the range."""
    items = [
        {"start": "22h08", "end": "6:08", "weekdays": [0]},
        {"start": "12:00", "end": "24:00", "weekdays": [5, 6]},
        {"start": "24:00", "end": "06:00"},
        {"start": "22:00:00", "end": "06:00"},
        {"start": "25:00", "end": "06:00"},
        {"start": "22:60", "end": "06:00"},
        {"start": 2200, "end": "06:00"},
        {"start": "22:00", "end": "later"},
    ]
    assert off_peak_from_options(items) == (
        r("22:08", "06:08", frozenset({0})),
        r("12:00", "00:00", WEEKEND),
    )


def test_whole_day_is_split_in_two_halves() -> None:
    """00:00 to 00:00 is a whole day; the engine reads start == end as empty, so it is two
    halves. They are joined back for the form; other ranges pass through."""
    evening = r("22:00", "06:00", frozenset({0, 1, 2, 3}))
    entered = [evening, r("00:00", "00:00", WEEKEND), r("12:00", "00:00", frozenset({4}))]
    engine = [
        evening,
        r("00:00", "12:00", WEEKEND),
        r("12:00", "00:00", WEEKEND),
        r("12:00", "00:00", frozenset({4})),
    ]
    assert split_whole_days(entered) == engine
    assert join_whole_days(engine) == entered
    assert validate_off_peak(engine) is None
    # Halves on different days, or not in order, stay as they are.
    apart = [r("00:00", "12:00", WEEKEND), r("12:00", "00:00", frozenset({5}))]
    assert join_whole_days(apart) == apart
    swapped = [r("12:00", "00:00", WEEKEND), r("00:00", "12:00", WEEKEND)]
    assert join_whole_days(swapped) == swapped


def test_whole_day_is_off_peak_for_the_engine() -> None:
    """00:00 to 00:00 on Saturday and Sunday covers every minute of the weekend and none of
    Friday or Monday."""
    ranges = split_whole_days([r("00:00", "00:00", WEEKEND)])
    start = datetime(2026, 1, 16, tzinfo=PARIS)  # a Friday
    for minute in range(0, 4 * 24 * 60, 7):
        local = start + timedelta(minutes=minute)
        assert any(x.contains(local) for x in ranges) == (local.weekday() in WEEKEND), local


minutes = st.integers(min_value=0, max_value=24 * 60 - 1)
weekdays = st.frozensets(st.integers(min_value=0, max_value=6), min_size=1)


@given(st.lists(st.tuples(minutes, minutes, weekdays), max_size=4))
def test_join_split_property(raw: list[tuple[int, int, frozenset[int]]]) -> None:
    """Any valid set of ranges, shown in the forms and saved again, is stored unchanged."""
    ranges = [
        OffPeakRange(time(a // 60, a % 60), time(b // 60, b % 60), days) for a, b, days in raw
    ]
    if validate_off_peak(ranges) is not None:
        return
    shown = join_whole_days(ranges)
    assert split_whole_days(shown) == ranges
    assert off_peak_to_options(split_whole_days(shown)) == off_peak_to_options(ranges)
