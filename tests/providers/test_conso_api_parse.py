"""Conso API v2 payloads -> neutral Series (conso-api.md §2, §4.6).

The fixtures under tests/fixtures/conso_api/ are the v2 bodies of conso-api.md §2, verbatim.
"""

import copy
import itertools
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.linky_climkit.model import Channel, Series
from custom_components.linky_climkit.providers.conso_api_parse import (
    PARIS,
    parse_daily,
    parse_load_curve,
    parse_max_power,
    wall_end_to_utc,
)
from custom_components.linky_climkit.providers.errors import InvalidResponseError
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile

FIXTURES = Path(__file__).parents[1] / "fixtures" / "conso_api"
CONS = Channel.CONSUMPTION
PROD = Channel.PRODUCTION
WIDE = (date(2020, 1, 1), date(2030, 1, 1))  # asked dates covering every example


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def points_of(payload: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    return payload["grandeur"][index]["points"]


def curve(points: list[dict[str, Any]], unit: str | None = "W") -> dict[str, Any]:
    grandeur: dict[str, Any] = {"grandeurPhysique": "PA", "points": points}
    if unit is not None:
        grandeur["unite"] = unit
    return {"etapeMetier": "BRUT", "grandeur": [grandeur]}


def daily(points: list[dict[str, Any]], unit: str | None = "Wh") -> dict[str, Any]:
    grandeur: dict[str, Any] = {"grandeurPhysique": "EA", "points": points}
    if unit is not None:
        grandeur["unite"] = unit
    return {"etapeMetier": "BRUT", "grandeur": [grandeur]}


def pma(points: list[dict[str, Any]], unit: str | None = "VA") -> dict[str, Any]:
    grandeur: dict[str, Any] = {"grandeurPhysique": "PMA", "points": points}
    if unit is not None:
        grandeur["unite"] = unit
    return {"etapeMetier": "BRUT", "grandeur": [grandeur]}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def assert_contiguous_utc(series: Series, step: timedelta = timedelta(minutes=30)) -> None:
    for interval in series.intervals:
        assert interval.start.tzinfo is UTC
        assert interval.end.tzinfo is UTC
        assert interval.end - interval.start == step
    for before, after in itertools.pairwise(series.intervals):
        assert after.start == before.end


# --- the recorded v2 examples -------------------------------------------------------------


def test_daily_consumption_example() -> None:
    series = parse_daily(load("consommation_quotidienne"), CONS, *WIDE)

    assert series.channel is CONS
    assert series.unit == "kWh"
    assert [(d.day, d.value) for d in series.daily] == [
        (date(2026, 4, 1), pytest.approx(9.271)),
        (date(2026, 4, 2), pytest.approx(12.724)),
        (date(2026, 4, 3), pytest.approx(14.054)),
    ]
    assert series.intervals == ()
    assert series.peaks == ()
    assert series.missing == 0
    assert series.clamped == 0


def test_daily_production_example() -> None:
    series = parse_daily(load("production_quotidienne"), PROD, *WIDE)

    assert series.channel is PROD
    assert [(d.day, d.value) for d in series.daily] == [
        (date(2026, 4, 1), pytest.approx(1.882)),
        (date(2026, 4, 2), pytest.approx(12.072)),
        (date(2026, 4, 3), pytest.approx(0.899)),
    ]


@pytest.mark.parametrize(
    ("name", "channel", "daily_name"),
    [
        ("courbe_de_charge_consommation", CONS, "consommation_quotidienne"),
        ("courbe_de_charge_production", PROD, "production_quotidienne"),
    ],
)
def test_load_curve_example(name: str, channel: Channel, daily_name: str) -> None:
    payload = load(name)
    series = parse_load_curve(payload, channel, *WIDE)

    assert series.channel is channel
    assert series.unit == "kWh"
    assert len(series.intervals) == 48
    assert_contiguous_utc(series)
    # 2026-04-01 is in summer time: local midnight is 22:00 UTC the day before.
    assert series.intervals[0].start == utc(2026, 3, 31, 22, 0)
    assert series.intervals[0].end == utc(2026, 3, 31, 22, 30)
    assert series.intervals[-1].end == utc(2026, 4, 1, 22, 0)
    # W over 30 minutes: v/2 Wh = v/2000 kWh
    for interval, point in zip(series.intervals, points_of(payload), strict=True):
        assert interval.value == pytest.approx(int(point["v"]) / 2000)
    # The recorded curve integrates exactly to the recorded daily total of 2026-04-01.
    first_day = parse_daily(load(daily_name), channel, *WIDE).daily[0]
    assert first_day.day == date(2026, 4, 1)
    assert sum(i.value for i in series.intervals) == pytest.approx(first_day.value)
    assert series.missing == 0


def test_max_power_example() -> None:
    series = parse_max_power(load("puissance_conso_max_quotidienne"), *WIDE)

    assert series.channel is Channel.MAX_POWER
    assert series.unit == "kVA"
    assert [(p.day, p.value, p.at) for p in series.peaks] == [
        (date(2026, 4, 1), pytest.approx(3.533), datetime(2026, 4, 1, 4, 18, 59, tzinfo=PARIS)),
        (date(2026, 4, 2), pytest.approx(3.092), datetime(2026, 4, 2, 4, 13, 22, tzinfo=PARIS)),
        (date(2026, 4, 3), pytest.approx(3.494), datetime(2026, 4, 3, 4, 12, 39, tzinfo=PARIS)),
    ]
    assert series.peaks[0].at.astimezone(UTC) == utc(2026, 4, 1, 2, 18, 59)
    assert series.missing == 0


def test_max_power_tout_uses_pma() -> None:
    series = parse_max_power(load("puissance_conso_max_quotidienne_tout"), *WIDE)

    assert [(p.day, p.value) for p in series.peaks] == [
        (date(2026, 9, 25), pytest.approx(3.0)),
        (date(2026, 9, 26), pytest.approx(3.2)),
    ]
    assert series.peaks[1].at == datetime(2026, 9, 26, 19, 12, 5, tzinfo=PARIS)


def test_max_power_day_only_stamp_is_local_midnight() -> None:
    series = parse_max_power(pma([{"v": "4000", "d": "2026-01-10"}]), *WIDE)
    assert series.peaks[0].at == datetime(2026, 1, 10, tzinfo=PARIS)
    assert series.peaks[0].value == pytest.approx(4.0)


# --- values: missing, negative, units ------------------------------------------


def test_daily_missing_values_are_counted_not_zeroed() -> None:
    payload = daily(
        [
            {"v": "null", "d": "2026-04-01"},
            {"v": None, "d": "2026-04-02"},
            {"v": "", "d": "2026-04-03"},
            {"d": "2026-04-04"},
            {"v": "1500", "d": "2026-04-05"},
        ]
    )
    series = parse_daily(payload, CONS, *WIDE)
    assert series.missing == 4
    assert [(d.day, d.value) for d in series.daily] == [(date(2026, 4, 5), pytest.approx(1.5))]


def test_load_curve_missing_values_keep_the_time_line() -> None:
    payload = curve(
        [
            {"v": "1000", "d": "2026-01-10 00:30:00", "p": "PT30M"},
            {"v": "null", "d": "2026-01-10 01:00:00", "p": "PT30M"},
            {"v": None, "d": "2026-01-10 01:30:00", "p": "PT30M"},
            {"v": "", "d": "2026-01-10 02:00:00", "p": "PT30M"},
            {"v": "600", "d": "2026-01-10 02:30:00", "p": "PT30M"},
        ]
    )
    series = parse_load_curve(payload, CONS, *WIDE)
    assert series.missing == 3
    assert [(i.start, i.end, i.value) for i in series.intervals] == [
        (utc(2026, 1, 9, 23, 0), utc(2026, 1, 9, 23, 30), pytest.approx(0.5)),
        (utc(2026, 1, 10, 1, 0), utc(2026, 1, 10, 1, 30), pytest.approx(0.3)),
    ]


def test_max_power_missing_value_counted() -> None:
    payload = pma(
        [{"v": "null", "d": "2026-09-25 08:44:22"}, {"v": "2500", "d": "2026-09-26 19:12:05"}]
    )
    series = parse_max_power(payload, *WIDE)
    assert series.missing == 1
    assert [p.day for p in series.peaks] == [date(2026, 9, 26)]


def test_full_null_day_has_no_interval() -> None:
    payload = load("courbe_de_charge_consommation")
    for point in points_of(payload):
        point["v"] = "null"
    series = parse_load_curve(payload, CONS, *WIDE)
    assert series.intervals == ()
    assert series.missing == 48


def test_negative_values_are_clamped_and_noted() -> None:
    series = parse_daily(
        daily([{"v": "-12", "d": "2026-04-01"}, {"v": "-1", "d": "2026-04-02"}]),
        CONS,
        *WIDE,
    )
    assert [d.value for d in series.daily] == [0.0, 0.0]
    assert series.clamped == 2

    series = parse_load_curve(
        curve(
            [
                {"v": "-40", "d": "2026-01-10 00:30:00"},
                {"v": "400", "d": "2026-01-10 01:00:00"},
            ]
        ),
        CONS,
        *WIDE,
    )
    assert [i.value for i in series.intervals] == [0.0, pytest.approx(0.2)]
    assert series.clamped == 1

    peaks = parse_max_power(pma([{"v": "-3", "d": "2026-01-10 10:00:00"}]), *WIDE).peaks
    assert [p.value for p in peaks] == [0.0]


@pytest.mark.parametrize(
    ("unit", "factor"), [(None, 0.001), ("Wh", 0.001), ("kWh", 1.0), ("MWh", 1000.0)]
)
def test_daily_units(unit: str | None, factor: float) -> None:
    series = parse_daily(daily([{"v": "2", "d": "2026-04-01"}], unit=unit), CONS, *WIDE)
    assert series.daily[0].value == pytest.approx(2 * factor)
    assert series.unit == "kWh"


@pytest.mark.parametrize(("unit", "factor"), [(None, 0.001), ("W", 0.001), ("kW", 1.0)])
def test_load_curve_units(unit: str | None, factor: float) -> None:
    series = parse_load_curve(
        curve([{"v": "3", "d": "2026-01-10 01:00:00"}], unit=unit), CONS, *WIDE
    )
    assert series.intervals[0].value == pytest.approx(3 * factor / 2)


@pytest.mark.parametrize(("unit", "factor"), [(None, 0.001), ("VA", 0.001), ("kVA", 1.0)])
def test_max_power_units(unit: str | None, factor: float) -> None:
    series = parse_max_power(pma([{"v": "6", "d": "2026-01-10 10:00:00"}], unit=unit), *WIDE)
    assert series.peaks[0].value == pytest.approx(6 * factor)


def test_numbers_may_be_json_numbers() -> None:
    series = parse_daily(
        daily([{"v": 1234, "d": "2026-04-01"}, {"v": 5.5, "d": "2026-04-02"}]),
        CONS,
        *WIDE,
    )
    assert [d.value for d in series.daily] == [pytest.approx(1.234), pytest.approx(0.0055)]


def test_empty_grandeur_list_is_an_empty_series() -> None:
    assert parse_daily({"grandeur": []}, CONS, *WIDE) == Series(channel=CONS, unit="kWh")
    assert parse_load_curve({"grandeur": []}, PROD, *WIDE) == Series(channel=PROD, unit="kWh")
    assert parse_max_power({"grandeur": []}, *WIDE) == Series(channel=Channel.MAX_POWER, unit="kVA")


def test_single_unnamed_grandeur_is_accepted() -> None:
    payload = {"grandeur": [{"unite": "Wh", "points": [{"v": "10", "d": "2026-04-01"}]}]}
    assert parse_daily(payload, CONS, *WIDE).daily[0].value == pytest.approx(0.01)


def test_daily_picks_the_ea_quantity() -> None:
    payload = {
        "grandeur": [
            {"grandeurPhysique": "XX", "unite": "Wh", "points": [{"v": "1", "d": "2026-04-01"}]},
            {"grandeurPhysique": "EA", "unite": "Wh", "points": [{"v": "7", "d": "2026-04-01"}]},
        ]
    }
    assert parse_daily(payload, CONS, *WIDE).daily[0].value == pytest.approx(0.007)


# --- steps --------------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "minutes"), [("PT10M", 10), ("PT15M", 15), ("PT60M", 60)])
def test_other_steps(step: str, minutes: int) -> None:
    length = timedelta(minutes=minutes)
    start = datetime(2026, 1, 10, tzinfo=PARIS)
    count = (24 * 60) // minutes
    points = [
        {"v": "1200", "d": (start + (i + 1) * length).strftime("%Y-%m-%d %H:%M:%S"), "p": step}
        for i in range(count)
    ]
    series = parse_load_curve(curve(points), CONS, *WIDE)

    assert len(series.intervals) == count
    assert_contiguous_utc(series, length)
    assert series.intervals[0].start == start.astimezone(UTC)
    assert series.intervals[-1].end == (start + timedelta(days=1)).astimezone(UTC)
    # 1200 W during `minutes` = 1.2 kW * minutes/60 h
    assert series.intervals[0].value == pytest.approx(1.2 * minutes / 60)
    assert sum(i.value for i in series.intervals) == pytest.approx(1.2 * 24)


def test_pt1h_is_one_hour_and_step_defaults_to_30_min() -> None:
    series = parse_load_curve(
        curve(
            [
                {"v": "1000", "d": "2026-01-10 01:00:00", "p": "PT1H"},
                {"v": "1000", "d": "2026-01-10 02:00:00"},  # no p: keeps the previous step
            ]
        ),
        CONS,
        *WIDE,
    )
    assert [(i.start, i.value) for i in series.intervals] == [
        (utc(2026, 1, 9, 23, 0), pytest.approx(1.0)),  # 01:00 CET = 00:00 UTC, minus 1 h
        (utc(2026, 1, 10, 0, 0), pytest.approx(1.0)),
    ]
    series = parse_load_curve(curve([{"v": "1000", "d": "2026-01-10 01:00:00"}]), CONS, *WIDE)
    assert series.intervals[0].start == utc(2026, 1, 9, 23, 30)
    assert series.intervals[0].value == pytest.approx(0.5)


def test_repeated_point_keeps_the_first() -> None:
    series = parse_load_curve(
        curve(
            [
                {"v": "1000", "d": "2026-01-10 00:30:00"},
                {"v": "1000", "d": "2026-01-10 01:00:00"},
                {"v": "9999", "d": "2026-01-10 01:00:00"},
                {"v": "1000", "d": "2026-01-10 01:30:00"},
            ]
        ),
        CONS,
        *WIDE,
    )
    assert [i.value for i in series.intervals] == [pytest.approx(0.5)] * 3
    assert_contiguous_utc(series)


# --- DST ----------------------------------------------------------------------------------


def run_wall_clock(day: str, stamps: list[str]) -> list[datetime]:
    previous: datetime | None = None
    ends = []
    for stamp in stamps:
        previous = wall_end_to_utc(datetime.fromisoformat(f"{day} {stamp}"), previous)
        ends.append(previous)
    return ends


@pytest.mark.parametrize(
    ("day", "stamps", "first_end"),
    [
        # autumn, end of the last summer half-hour written with the summer offset ("03:00")
        (
            "2026-10-25",
            ["01:30", "02:00", "02:30", "03:00", "02:30", "03:00", "03:30", "04:00"],
            utc(2026, 10, 24, 23, 30),
        ),
        # autumn, the same end written with the winter offset ("02:00")
        (
            "2026-10-25",
            ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30", "04:00"],
            utc(2026, 10, 24, 23, 30),
        ),
        # spring, end of the last winter half-hour written "02:00"
        ("2026-03-29", ["01:00", "01:30", "02:00", "03:30", "04:00"], utc(2026, 3, 29, 0, 0)),
        # spring, the same end written "03:00"
        ("2026-03-29", ["01:00", "01:30", "03:00", "03:30", "04:00"], utc(2026, 3, 29, 0, 0)),
    ],
)
def test_wall_end_to_utc_dst_conventions(day: str, stamps: list[str], first_end: datetime) -> None:
    ends = run_wall_clock(day, stamps)
    assert ends == [first_end + i * timedelta(minutes=30) for i in range(len(stamps))]
    assert all(e.tzinfo is not None and e.utcoffset() == timedelta(0) for e in ends)


def test_wall_end_to_utc_ordinary_stamps() -> None:
    assert wall_end_to_utc(datetime(2026, 1, 10, 0, 30), None) == utc(2026, 1, 9, 23, 30)
    assert wall_end_to_utc(datetime(2026, 7, 10, 0, 30), None) == utc(2026, 7, 9, 22, 30)
    # The first ambiguous stamp of a request is read as the earliest instant.
    assert wall_end_to_utc(datetime(2026, 10, 25, 2, 30), None) == utc(2026, 10, 25, 0, 30)


def sim_day(day: date) -> dict[str, Any]:
    sim = ConsoApiSimulator([MeterProfile("12345678901234")])
    points = [
        {"v": str(w), "d": stamp, "p": f"PT{step}M"}
        for stamp, w, step in sim.curve_points("12345678901234", day)
    ]
    return curve(points)


@pytest.mark.parametrize(("day", "count"), [(date(2026, 10, 25), 50), (date(2026, 3, 29), 46)])
def test_dst_day_from_simulator_covers_the_local_day(day: date, count: int) -> None:
    payload = sim_day(day)
    assert len(points_of(payload)) == count
    series = parse_load_curve(payload, CONS, *WIDE)

    assert len(series.intervals) == count
    assert_contiguous_utc(series)
    assert series.intervals[0].start == datetime.combine(day, datetime.min.time(), PARIS)
    assert series.intervals[-1].end == datetime.combine(
        day + timedelta(days=1), datetime.min.time(), PARIS
    )
    expected = sum(int(p["v"]) for p in points_of(payload)) / 2000
    assert sum(i.value for i in series.intervals) == pytest.approx(expected)


def test_autumn_day_with_winter_offset_convention() -> None:
    start = datetime(2026, 10, 25, tzinfo=PARIS).astimezone(UTC)
    points = []
    for i in range(50):
        end = start + (i + 1) * timedelta(minutes=30)
        points.append({"v": "100", "d": end.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")})
    stamps = [p["d"][11:16] for p in points[2:9]]
    assert stamps == ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30"]

    series = parse_load_curve(curve(points), CONS, *WIDE)
    assert len(series.intervals) == 50
    assert_contiguous_utc(series)
    assert series.intervals[0].start == start
    assert series.intervals[-1].end == start + timedelta(hours=25)


# --- malformed payloads -------------------------------------------------------------------

PARSERS = {
    "daily": lambda p: parse_daily(p, CONS, *WIDE),
    "curve": lambda p: parse_load_curve(p, CONS, *WIDE),
    "max_power": lambda p: parse_max_power(p, *WIDE),
}
BUILDERS = {"daily": daily, "curve": curve, "max_power": pma}
GOOD_STAMP = {"daily": "2026-04-01", "curve": "2026-04-01 00:30:00", "max_power": "2026-04-01"}


@pytest.mark.parametrize("kind", PARSERS)
@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "grandeur",
        42,
        {},
        {"grandeur": None},
        {"grandeur": {"points": []}},
        {"grandeur": ["EA"]},
        {"grandeur": [{"grandeurPhysique": "ZZ", "points": []}]},
        {"grandeur": [{"grandeurPhysique": "EA"}, {"grandeurPhysique": "PA"}]},
    ],
    ids=repr,
)
def test_malformed_envelopes(kind: str, payload: Any) -> None:
    with pytest.raises(InvalidResponseError):
        PARSERS[kind](payload)


@pytest.mark.parametrize("kind", PARSERS)
@pytest.mark.parametrize(
    "points",
    [None, "points", {"v": "1"}, ["x"], [None]],
    ids=["none", "str", "dict", "strs", "nulls"],
)
def test_points_not_a_list_of_objects(kind: str, points: Any) -> None:
    payload = BUILDERS[kind]([])
    payload["grandeur"][0]["points"] = points
    with pytest.raises(InvalidResponseError):
        PARSERS[kind](payload)


@pytest.mark.parametrize("kind", PARSERS)
@pytest.mark.parametrize("value", ["abc", "12,5", True, [1], {"v": 1}])
def test_bad_numbers(kind: str, value: Any) -> None:
    payload = BUILDERS[kind]([{"v": value, "d": GOOD_STAMP[kind]}])
    with pytest.raises(InvalidResponseError):
        PARSERS[kind](payload)


@pytest.mark.parametrize("kind", PARSERS)
@pytest.mark.parametrize(
    "value", ["NaN", "inf", "-Infinity", "1e400", float("nan"), float("inf"), 10**400]
)
def test_non_finite_numbers_are_refused_and_counted(kind: str, value: Any) -> None:
    """A value that is not a finite number is left out (counted), the rest of the answer read."""
    good = {"daily": "2026-04-02", "curve": "2026-04-01 01:00:00", "max_power": "2026-04-02"}
    payload = BUILDERS[kind]([{"v": value, "d": GOOD_STAMP[kind]}, {"v": "1000", "d": good[kind]}])
    series = PARSERS[kind](payload)
    assert series.refused == 1
    assert len(series.daily) + len(series.intervals) + len(series.peaks) == 1


@pytest.mark.parametrize("kind", PARSERS)
@pytest.mark.parametrize("stamp", [None, 20260401, "", "yesterday", "2026-13-01", "2026-02-30"])
def test_bad_dates(kind: str, stamp: Any) -> None:
    payload = BUILDERS[kind]([{"v": "1", "d": stamp}])
    with pytest.raises(InvalidResponseError):
        PARSERS[kind](payload)


@pytest.mark.parametrize("kind", ["curve", "max_power"])
def test_bad_time_of_day(kind: str) -> None:
    payload = BUILDERS[kind]([{"v": "1", "d": "2026-04-01 25:00:00"}])
    with pytest.raises(InvalidResponseError):
        PARSERS[kind](payload)


@pytest.mark.parametrize(
    ("kind", "unit"),
    [
        ("daily", "W"),
        ("daily", "kVA"),
        ("daily", "wh"),
        ("daily", None),
        ("curve", "Wh"),
        ("curve", "VAR"),
        ("curve", 1),
        ("max_power", "Wh"),
        ("max_power", "A"),
    ],
)
def test_unknown_units(kind: str, unit: Any) -> None:
    payload = BUILDERS[kind]([{"v": "1", "d": GOOD_STAMP[kind]}])
    payload["grandeur"][0]["unite"] = unit
    with pytest.raises(InvalidResponseError):
        PARSERS[kind](payload)


@pytest.mark.parametrize(
    "step", ["PT0M", "PT", "P1D", "PT30", "30M", "PT90M", "PT2H", "PT30S", "pt30m", 30, ""]
)
def test_unknown_steps(step: Any) -> None:
    payload = curve([{"v": "1", "d": "2026-04-01 00:30:00", "p": step}])
    with pytest.raises(InvalidResponseError):
        parse_load_curve(payload, CONS, *WIDE)


# --- regressions: only InvalidResponseError may escape the parsers --------------------


@pytest.mark.parametrize("stamp", ["0001-01-01 00:30:00", "9999-12-31 23:30:00"])
def test_regression_load_curve_stamp_at_datetime_edge_is_outside(stamp: str) -> None:
    series = parse_load_curve(curve([{"v": "1", "d": stamp}]), CONS, *WIDE)
    assert series.intervals == ()
    assert series.outside == 1


def test_regression_huge_step_is_invalid_response() -> None:
    payload = curve([{"v": "1", "d": "2026-04-01 00:30:00", "p": "PT" + "9" * 20 + "H"}])
    with pytest.raises(InvalidResponseError):
        parse_load_curve(payload, CONS, *WIDE)


@pytest.mark.parametrize("kind", PARSERS)
@pytest.mark.parametrize("unit", [["Wh"], {"u": "W"}], ids=["list", "object"])
def test_regression_unhashable_unit_is_invalid_response(kind: str, unit: Any) -> None:
    payload = BUILDERS[kind]([{"v": "1", "d": GOOD_STAMP[kind]}])
    payload["grandeur"][0]["unite"] = unit
    with pytest.raises(InvalidResponseError):
        PARSERS[kind](payload)


# --- property: any JSON -> Series or InvalidResponseError, nothing else --------------------

_STEP = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")


VOCABULARY = st.sampled_from(
    [
        "grandeur",
        "grandeurPhysique",
        "unite",
        "points",
        "v",
        "d",
        "p",
        "etapeMetier",
        "idPrm",
    ]
)
PLAUSIBLE = st.sampled_from(
    [
        "EA",
        "PA",
        "PMA",
        "PMA1",
        "Wh",
        "W",
        "VA",
        "kWh",
        "MWh",
        "PT30M",
        "PT15M",
        "PT1H",
        "PT0M",
        "BEST",
        "null",
        "",
        "12",
        "-5",
        "1e3",
        "2026-04-01",
        "2026-10-25 02:30:00",
        "2026-03-29 02:30:00",
        "2026-04-01T00:30:00+02:00",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**300), max_value=10**300)
    | st.floats()
    | st.text(max_size=24)
    | PLAUSIBLE
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(VOCABULARY | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)

EXAMPLES = [
    "consommation_quotidienne",
    "courbe_de_charge_consommation",
    "puissance_conso_max_quotidienne",
    "puissance_conso_max_quotidienne_tout",
    "production_quotidienne",
    "courbe_de_charge_production",
]
PAYLOADS = {name: load(name) for name in EXAMPLES}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


@st.composite
def mutated_payloads(draw: st.DrawFn) -> Any:
    payload = copy.deepcopy(PAYLOADS[draw(st.sampled_from(EXAMPLES))])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(payload)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "duplicate", "perturb"]))
        if not path:
            if op == "replace":
                payload = draw(JSON)
            continue
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if op == "replace":
            parent[last] = draw(JSON)
        elif op == "delete":
            del parent[last]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif op == "perturb" and isinstance(parent[last], str):
            text = parent[last]
            cut = draw(st.integers(0, len(text)))
            parent[last] = text[:cut] + draw(st.text(max_size=3)) + text[cut:]
    return payload


def _check(payload: Any) -> None:
    for name, parser in PARSERS.items():
        try:
            series = parser(payload)
        except InvalidResponseError:
            continue
        assert isinstance(series, Series), name
        for interval in series.intervals:
            assert interval.start < interval.end
            assert interval.end.utcoffset() == timedelta(0)
            assert interval.value >= 0
        assert all(d.value >= 0 for d in series.daily)
        assert all(p.value >= 0 and p.at.tzinfo is not None for p in series.peaks)
        assert series.missing >= 0


# Hypothesis 6.170 on Python 3.14 warns about its own thread-local PRNG; unrelated to us.
HYPOTHESIS_PRNG_WARNING = pytest.mark.filterwarnings(
    "ignore:It looks like `register_random`:hypothesis.errors.HypothesisWarning"
)


@HYPOTHESIS_PRNG_WARNING
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(JSON)
def test_property_arbitrary_json(payload: Any) -> None:
    _check(payload)


@HYPOTHESIS_PRNG_WARNING
@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(mutated_payloads())
def test_property_mutated_real_payloads(payload: Any) -> None:
    _check(payload)
