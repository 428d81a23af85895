"""Hostile Conso API answers, one class at a time: points outside the asked dates, out of
order or repeated, of the other direction, stamped with an offset, absurd or not finite."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers.conso_api_parse import (
    MAX_DAY_KWH,
    MAX_PEAK_KVA,
    MAX_POWER_KW,
    PARIS,
    parse_daily,
    parse_load_curve,
    parse_max_power,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "conso_api"
CONS, PROD = Channel.CONSUMPTION, Channel.PRODUCTION


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def points(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return payload["grandeur"][0]["points"]


def curve_day(day: date, days: int = 1) -> dict[str, Any]:
    """A whole consumption curve of `days` days from `day`, 1 kW everywhere but the first
    point of each day (its index in watts, to tell the points apart)."""
    start = datetime.combine(day, datetime.min.time(), PARIS).astimezone(UTC)
    stamps = []
    for i in range(days * 48):
        end = (start + (i + 1) * timedelta(minutes=30)).astimezone(PARIS)
        stamps.append({"v": str(1000 + i), "d": end.strftime("%Y-%m-%d %H:%M:%S"), "p": "PT30M"})
    grandeur = {"grandeurMetier": "CONS", "grandeurPhysique": "PA", "unite": "W"}
    return {"grandeur": [{**grandeur, "points": stamps}]}


# --- outside the requested dates ----------------------------------------------------------


def test_stray_day_is_ignored_and_counted() -> None:
    """The 2099 point of the issue: no day in 2099, and it is counted."""
    payload = load("consommation_quotidienne")  # 2026-04-01 .. 2026-04-03
    points(payload).append({"v": "5000", "d": "2099-01-01"})
    points(payload).insert(0, {"v": "5000", "d": "2026-03-31"})
    series = parse_daily(payload, CONS, date(2026, 4, 1), date(2026, 4, 4))
    assert [d.day for d in series.daily] == [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 3)]
    assert series.outside == 2


def test_the_end_date_is_exclusive() -> None:
    series = parse_daily(load("consommation_quotidienne"), CONS, date(2026, 4, 1), date(2026, 4, 3))
    assert [d.day for d in series.daily] == [date(2026, 4, 1), date(2026, 4, 2)]
    assert series.outside == 1


def test_curve_keeps_the_intervals_inside_the_days() -> None:
    """An end-stamped point belongs to the interval before it: `D 00:00` (the end of the last
    half-hour of D-1) is outside [D, D+1), `D+1 00:00` inside."""
    payload = curve_day(date(2026, 1, 10))
    points(payload).insert(0, {"v": "1", "d": "2026-01-10 00:00:00", "p": "PT30M"})
    points(payload).append({"v": "1", "d": "2026-01-11 00:30:00", "p": "PT30M"})
    points(payload).append({"v": "1", "d": "2099-01-01 00:30:00", "p": "PT30M"})
    series = parse_load_curve(payload, CONS, date(2026, 1, 10), date(2026, 1, 11))
    assert len(series.intervals) == 48
    assert series.intervals[0].start == datetime(2026, 1, 10, tzinfo=PARIS)
    assert series.intervals[-1].end == datetime(2026, 1, 11, tzinfo=PARIS)
    assert series.outside == 3


def test_peak_outside_is_ignored() -> None:
    payload = load("puissance_conso_max_quotidienne")  # 2026-04-01 .. 03
    points(payload).append({"v": "3000", "d": "2099-01-01 10:00:00"})
    series = parse_max_power(payload, date(2026, 4, 2), date(2026, 4, 4))
    assert [p.day for p in series.peaks] == [date(2026, 4, 2), date(2026, 4, 3)]
    assert series.outside == 2


# --- order and duplicates -----------------------------------------------------------------


def test_reversed_curve_keeps_every_point() -> None:
    """A curve served newest first (the issue kept 1 of 96) reads like the ordered one, across
    the spring change too (2026-03-29 has 46 half-hours: 94 in both days, 2 of the 96 stamps
    belong to the 30th)."""
    ordered = curve_day(date(2026, 3, 28), days=2)
    reversed_ = copy.deepcopy(ordered)
    points(reversed_).reverse()
    asked = (date(2026, 3, 28), date(2026, 3, 30))
    expected = parse_load_curve(ordered, CONS, *asked)
    series = parse_load_curve(reversed_, CONS, *asked)
    assert len(series.intervals) == 94
    assert series.intervals == expected.intervals
    assert (series.duplicates, series.outside) == (0, 2)


def test_shuffled_daily_and_peaks_come_out_sorted() -> None:
    payload = load("consommation_quotidienne")
    points(payload).reverse()
    series = parse_daily(payload, CONS, date(2026, 4, 1), date(2026, 4, 4))
    assert [d.day for d in series.daily] == [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 3)]
    payload = load("puissance_conso_max_quotidienne")
    points(payload).reverse()
    peaks = parse_max_power(payload, date(2026, 4, 1), date(2026, 4, 4)).peaks
    assert [p.day for p in peaks] == [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 3)]


@pytest.mark.parametrize("kind", ["daily", "curve", "max_power"])
def test_a_duplicate_keeps_the_first_value(kind: str) -> None:
    asked = (date(2026, 4, 1), date(2026, 4, 4))
    if kind == "daily":
        payload = load("consommation_quotidienne")
        points(payload).append({"v": "99999", "d": "2026-04-01"})
        series = parse_daily(payload, CONS, *asked)
        assert series.daily[0].value == pytest.approx(9.271)
    elif kind == "curve":
        payload = curve_day(date(2026, 4, 1))
        points(payload).append({**points(payload)[0], "v": "99999"})
        series = parse_load_curve(payload, CONS, *asked)
        assert series.intervals[0].value == pytest.approx(0.5)
        assert len(series.intervals) == 48
    else:
        payload = load("puissance_conso_max_quotidienne")
        points(payload).append({"v": "9000", "d": "2026-04-01 20:00:00"})
        series = parse_max_power(payload, *asked)
        assert series.peaks[0].value == pytest.approx(3.533)
    assert series.duplicates == 1


def test_an_interval_overlapping_the_previous_one_is_a_duplicate() -> None:
    payload = curve_day(date(2026, 4, 1))
    points(payload).append({"v": "5000", "d": "2026-04-01 01:00:00", "p": "PT1H"})
    series = parse_load_curve(payload, CONS, date(2026, 4, 1), date(2026, 4, 2))
    assert len(series.intervals) == 48
    assert series.duplicates == 1
    assert all(a.end <= b.start for a, b in itertools.pairwise(series.intervals))


# --- direction ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["daily", "curve"])
def test_each_channel_reads_its_own_direction(kind: str) -> None:
    """A body with both directions: consumption reads CONS, production PROD, each counts the
    other's points as foreign."""
    name = "consommation_quotidienne" if kind == "daily" else "courbe_de_charge_consommation"
    other = "production_quotidienne" if kind == "daily" else "courbe_de_charge_production"
    both = load(name)
    both["grandeur"] = load(other)["grandeur"] + both["grandeur"]  # PROD first
    parse = parse_daily if kind == "daily" else parse_load_curve
    asked = (date(2026, 4, 1), date(2026, 4, 4))
    cons, prod = parse(both, CONS, *asked), parse(both, PROD, *asked)
    assert _values(cons) == _values(parse(load(name), CONS, *asked))
    assert cons.foreign == len(points(load(other)))
    assert prod.foreign == len(points(load(name)))
    assert _values(prod) == _values(parse(load(other), PROD, *asked))


def test_only_the_other_direction_is_an_empty_series() -> None:
    series = parse_daily(load("production_quotidienne"), CONS, date(2026, 4, 1), date(2026, 4, 4))
    assert series.daily == ()
    assert series.foreign == 3
    peaks = load("puissance_conso_max_quotidienne")
    peaks["grandeur"][0]["grandeurMetier"] = "PROD"
    assert parse_max_power(peaks, date(2026, 4, 1), date(2026, 4, 4)).peaks == ()


def _values(series: Any) -> list[float]:
    return [d.value for d in series.daily] + [i.value for i in series.intervals]


# --- offsets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "end"),
    [
        ("2026-01-10 01:00:00", datetime(2026, 1, 10, 0, 0, tzinfo=UTC)),  # naive: Paris
        ("2026-01-10T01:00:00Z", datetime(2026, 1, 10, 1, 0, tzinfo=UTC)),
        ("2026-01-10T01:00:00+00:00", datetime(2026, 1, 10, 1, 0, tzinfo=UTC)),
        ("2026-01-10 03:00:00+02:00", datetime(2026, 1, 10, 1, 0, tzinfo=UTC)),
        ("2026-01-09T23:30:00-01:00", datetime(2026, 1, 10, 0, 30, tzinfo=UTC)),
    ],
)
def test_an_offset_is_the_instant_it_names(stamp: str, end: datetime) -> None:
    payload = {"grandeur": [{"grandeurPhysique": "PA", "unite": "W", "points": []}]}
    points(payload).append({"v": "1000", "d": stamp, "p": "PT30M"})
    series = parse_load_curve(payload, CONS, date(2026, 1, 10), date(2026, 1, 11))
    assert [(i.start, i.end) for i in series.intervals] == [(end - timedelta(minutes=30), end)]


def test_offsets_decide_the_day() -> None:
    payload = {"grandeur": [{"grandeurPhysique": "EA", "unite": "Wh", "points": []}]}
    points(payload).extend(
        [
            {"v": "1000", "d": "2026-03-31T22:00:00Z"},  # 2026-04-01 00:00 in Paris
            {"v": "2000", "d": "2026-04-02T23:30:00+00:00"},  # 2026-04-03 01:30 in Paris
        ]
    )
    series = parse_daily(payload, CONS, date(2026, 4, 1), date(2026, 4, 3))
    assert [d.day for d in series.daily] == [date(2026, 4, 1)]
    assert series.outside == 1
    payload = {"grandeur": [{"grandeurPhysique": "PMA", "unite": "VA", "points": []}]}
    points(payload).append({"v": "3000", "d": "2026-04-01T22:30:00Z"})
    (peak,) = parse_max_power(payload, date(2026, 4, 1), date(2026, 4, 3)).peaks
    assert peak.day == date(2026, 4, 2)
    assert peak.at == datetime(2026, 4, 1, 22, 30, tzinfo=UTC)


# --- absurd values ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e308", "-1e308", "1000001", "-1000001", "Infinity", "NaN"])
def test_absurd_curve_power_is_refused(value: str) -> None:
    payload = curve_day(date(2026, 4, 1))
    points(payload)[5]["v"] = value
    series = parse_load_curve(payload, CONS, date(2026, 4, 1), date(2026, 4, 2))
    assert len(series.intervals) == 47
    assert series.refused == 1
    assert all(i.value <= MAX_POWER_KW / 2 for i in series.intervals)


def test_caps_are_inclusive() -> None:
    asked = (date(2026, 4, 1), date(2026, 4, 2))
    curve = curve_day(date(2026, 4, 1))
    points(curve)[0]["v"] = str(int(MAX_POWER_KW * 1000))
    assert parse_load_curve(curve, CONS, *asked).intervals[0].value == MAX_POWER_KW / 2
    daily = {"grandeur": [{"grandeurPhysique": "EA", "unite": "kWh", "points": []}]}
    points(daily).append({"v": str(MAX_DAY_KWH), "d": "2026-04-01"})
    assert parse_daily(daily, CONS, *asked).daily[0].value == MAX_DAY_KWH
    points(daily)[0]["v"] = str(MAX_DAY_KWH * 1.001)
    assert parse_daily(daily, CONS, *asked).refused == 1
    peaks = {"grandeur": [{"grandeurPhysique": "PMA", "unite": "kVA", "points": []}]}
    points(peaks).append({"v": str(MAX_PEAK_KVA + 1), "d": "2026-04-01 10:00:00"})
    series = parse_max_power(peaks, *asked)
    assert (series.peaks, series.refused) == ((), 1)
