"""Property tests: structurally valid Conso API answers (right envelope, real dates and stamps)
with every hostile variation at once: stray dates, reversed, shuffled and repeated points, both
directions, explicit offsets, nulls, negative, huge and non-finite values.

The answers are valid, so each parser must read them without raising and reach its checks.
An oracle built from what was generated (each point's true day or instant, its value's
class) says what must come out: every point inside the asked dates, sorted, unique, finite,
within the caps; every day or interval that had a usable value, with the first such value of
the answer; and the counts of what was left out adding up to what was sent.

Short profile in the suite; `LINKY_CLIMKIT_HYPOTHESIS=long` draws 10,000 answers per parser.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from custom_components.linky_climkit.model import Channel, Series
from custom_components.linky_climkit.providers.conso_api_parse import (
    MAX_DAY_KWH,
    MAX_PEAK_KVA,
    MAX_POWER_KW,
    PARIS,
    parse_daily,
    parse_load_curve,
    parse_max_power,
)
from tests.helpers.hostile_profile import HOSTILE, QUIET

UNITS = {
    "daily": {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0},
    "curve": {"W": 0.001, "kW": 1.0},
    "max_power": {"VA": 0.001, "kVA": 1.0},
}
PHYSIQUE = {"daily": "EA", "curve": "PA", "max_power": "PMA"}
CAPS = {"daily": MAX_DAY_KWH, "curve": MAX_POWER_KW, "max_power": MAX_PEAK_KVA}
TYPICAL = {"daily": 60.0, "curve": 12.0, "max_power": 12.0}  # kWh a day, kW, kVA
ABSURD = ["1e308", "-1e308", "NaN", "nan", "Infinity", "-Infinity", 10**400, "9" * 400]
MISSING = [None, "null", "", "absent"]
STRAYS = ["2099-01-01", "1900-06-15", "0001-01-01", "9999-12-31", "2096-02-29"]
STEPS = {10: "PT10M", 15: "PT15M", 30: "PT30M", 60: "PT60M"}


@dataclass
class Point:
    """One generated point: the day or instant it truly is (None for a stray), its value."""

    key: date | datetime | None
    raw: Any
    ambiguous: bool = False


@dataclass
class Case:
    kind: str
    channel: Channel
    start: date
    end: date
    unit: str
    step: int = 30
    points: list[Point] = field(default_factory=list)  # ours, in the answer's order
    foreign: int = 0
    payload: dict[str, Any] = field(default_factory=dict)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), PARIS).astimezone(UTC)


def is_dst_day(day: date) -> bool:
    return (
        midnight(day).astimezone(PARIS).utcoffset()
        != (midnight(day + timedelta(days=1)) - timedelta(seconds=1)).astimezone(PARIS).utcoffset()
    )


def ambiguous(instant: datetime) -> bool:
    """Wall-clock stamps that two instants share, or that the DST change makes unusual."""
    local = instant.astimezone(PARIS)
    return is_dst_day(local.date()) and 1 <= local.hour <= 3


def render(instant: datetime, rnd: random.Random, naive_share: float) -> str:
    """A stamp naming `instant`: Paris wall-clock time, or with an offset (`Z` included)."""
    if rnd.random() < naive_share:
        return instant.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
    offset = timedelta(minutes=30 * rnd.randint(-20, 20))
    text = instant.astimezone(timezone(offset)).isoformat(sep=rnd.choice("T "))
    return text.replace("+00:00", "Z") if rnd.random() < 0.5 else text


def value(rnd: random.Random, kind: str, factor: float, cap: float) -> Any:
    roll = rnd.random()
    if roll < 0.06:
        return rnd.choice(MISSING)
    if roll < 0.14:
        return rnd.choice(ABSURD)
    if roll < 0.17:
        return str(int(cap / factor * rnd.uniform(2, 100)))  # finite, beyond the cap
    if roll < 0.21:
        return str(-rnd.randint(1, 50))  # a negative value, clamped
    amount = rnd.uniform(0, TYPICAL[kind]) / factor
    if roll < 0.3:
        return round(amount, 3)  # a JSON number rather than a string
    return str(round(amount)) if factor < 1 else f"{amount:.3f}"


@st.composite
def cases(draw: st.DrawFn, kind: str) -> Case:
    rnd = random.Random(draw(st.integers(0, 2**32)))  # many draws: cheap, reproducible
    start = draw(st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 20)))
    if draw(st.booleans()):  # often around a DST change
        start = draw(st.sampled_from([date(2026, 3, 27), date(2026, 10, 23), date(2025, 3, 29)]))
    span = draw(st.integers(1, {"daily": 40, "curve": 7, "max_power": 31}[kind]))
    channel = Channel.MAX_POWER
    if kind != "max_power":
        channel = draw(st.sampled_from([Channel.CONSUMPTION, Channel.PRODUCTION]))
    unit = draw(st.sampled_from(sorted(UNITS[kind])))
    case = Case(kind, channel, start, start + timedelta(days=span), unit)
    factor, cap = UNITS[kind][unit], CAPS[kind]
    keep = draw(st.floats(0.3, 1.0))
    naive_share = draw(st.sampled_from([1.0, 0.9, 0.5, 0.0]))
    margin = timedelta(days=1 if kind == "curve" else 3)
    first, last = case.start - margin, case.end + margin
    if kind == "curve":
        case.step = draw(st.sampled_from([10, 15, 30, 30, 30, 60]))
        step = timedelta(minutes=case.step)
        instant = midnight(first) + step
        while instant <= midnight(last):
            if rnd.random() < keep:
                raw = (render(instant, rnd, naive_share), value(rnd, kind, factor, cap))
                case.points.append(Point(instant, raw, ambiguous(instant)))
            instant += step
    else:
        day = first
        while day < last:
            if rnd.random() < keep:
                if kind == "daily":
                    noon = datetime.combine(day, time(12), PARIS)
                    stamp = day.isoformat() if rnd.random() < 0.8 else render(noon, rnd, 0.0)
                    case.points.append(Point(day, (stamp, value(rnd, kind, factor, cap))))
                elif rnd.random() < 0.15:
                    case.points.append(Point(day, (day.isoformat(), value(rnd, kind, factor, cap))))
                else:
                    at = datetime.combine(day, time(), PARIS) + timedelta(
                        seconds=rnd.randrange(0, 23 * 3600)
                    )
                    at = at.astimezone(UTC).astimezone(PARIS)
                    stamp = render(at, rnd, naive_share)
                    flag = ambiguous(at)
                    case.points.append(Point(day, (stamp, value(rnd, kind, factor, cap)), flag))
            day += timedelta(days=1)
    for _ in range(draw(st.integers(0, 4))):  # strays, far from the asked dates
        stray = rnd.choice(STRAYS)
        stamp = stray if kind == "daily" or rnd.random() < 0.3 else f"{stray} 00:30:00"
        case.points.append(Point(None, (stamp, value(rnd, kind, factor, cap))))
    for _ in range(draw(st.integers(0, 6))):  # repeated points, other values
        if case.points:
            twin = rnd.choice(case.points)
            copy_ = Point(twin.key, (twin.raw[0], value(rnd, kind, factor, cap)), twin.ambiguous)
            case.points.insert(rnd.randrange(len(case.points) + 1), copy_)
    order = draw(st.sampled_from(["kept", "reversed", "shuffled"]))
    if order == "reversed":
        case.points.reverse()
    elif order == "shuffled":
        rnd.shuffle(case.points)
    case.payload = envelope(case, rnd, draw(st.sampled_from(["alone", "before", "after", "bare"])))
    return case


def envelope(case: Case, rnd: random.Random, direction: str) -> dict[str, Any]:
    """The v2 body: our quantity, maybe without grandeurMetier, maybe next to the other
    direction's (before or after it)."""
    ours = "PROD" if case.channel is Channel.PRODUCTION else "CONS"
    points = []
    for point in case.points:
        stamp, raw = point.raw
        body: dict[str, Any] = {"d": stamp}
        if raw != "absent":
            body["v"] = raw
        if case.kind == "curve" and (case.step != 30 or rnd.random() < 0.8):
            body["p"] = STEPS[case.step]
        points.append(body)
    grandeur: dict[str, Any] = {
        "grandeurPhysique": PHYSIQUE[case.kind],
        "unite": case.unit,
        "points": points,
        "calendrier": [],
    }
    if direction != "bare":
        grandeur = {"grandeurMetier": ours, **grandeur}
    quantities = [grandeur]
    if direction in ("before", "after"):
        other = {
            **grandeur,
            "grandeurMetier": "CONS" if ours == "PROD" else "PROD",
            "points": [{**p, "v": "777"} for p in points[: rnd.randint(0, len(points))]],
        }
        case.foreign = len(other["points"])
        quantities.insert(0 if direction == "before" else 1, other)
    if rnd.random() < 0.2:  # a quantity of another kind, which no parser reads
        quantities.append({"grandeurPhysique": "XX", "unite": "Wh", "points": points[:3]})
    periode = {"dateDebut": case.start.isoformat(), "dateFin": case.end.isoformat()}
    return {"idPrm": "11111111111111", "etapeMetier": "BRUT", "periode": periode,
            "grandeur": quantities, "contexte": []}  # fmt: skip


def usable(case: Case, raw: Any) -> float | None:
    """What the parser must make of a value: the amount (negative as 0), or None."""
    if raw in MISSING:
        return None
    try:
        scaled = float(raw) * UNITS[case.kind][case.unit]
    except OverflowError:
        return None
    if not -CAPS[case.kind] <= scaled <= CAPS[case.kind]:
        return None
    return max(scaled, 0.0)


def check(case: Case, series: Series) -> None:
    cap = CAPS[case.kind]
    kept = len(series.daily) + len(series.intervals) + len(series.peaks)
    sent = len(case.points)
    total = kept + series.missing + series.outside + series.duplicates + series.refused
    assert total == sent, (kept, series)
    assert series.foreign == case.foreign
    first_usable: dict[Any, float] = {}
    inside = {p.key for p in case.points if p.key is not None}
    for point in case.points:
        amount = usable(case, point.raw[1])
        if point.key is not None and amount is not None:
            first_usable.setdefault(point.key, amount)
    low, high = midnight(case.start), midnight(case.end)
    if case.kind == "curve":
        step = timedelta(minutes=case.step)
        hours = case.step / 60
        ends = [i.end for i in series.intervals]
        assert ends == sorted(set(ends))
        for before, after in zip(series.intervals, series.intervals[1:], strict=False):
            assert before.end <= after.start
        for interval in series.intervals:
            assert low <= interval.start < interval.end <= high
            assert interval.end - interval.start == step
            assert interval.end in inside or ambiguous(interval.end)
            assert math.isfinite(interval.value)
            assert 0 <= interval.value <= cap * hours
        got = {i.end: i.value for i in series.intervals}
        unambiguous = {p.key for p in case.points if p.key is not None and not p.ambiguous}
        for end in unambiguous:
            assert isinstance(end, datetime)
            if low <= end - step and end <= high:
                expected = first_usable.get(end)
                assert got.get(end) == (None if expected is None else expected * hours)
        return
    if case.kind == "daily":
        days = [d.day for d in series.daily]
        got = {d.day: d.value for d in series.daily}
    else:
        days = [p.day for p in series.peaks]
        got = {p.day: p.value for p in series.peaks}
        for peak in series.peaks:
            assert peak.at.astimezone(PARIS).date() == peak.day
    assert days == sorted(set(days))
    assert all(case.start <= day < case.end for day in days)
    assert all(math.isfinite(v) for v in got.values())
    assert all(0 <= v <= cap for v in got.values())
    for day in inside:
        assert isinstance(day, date)
        if case.start <= day < case.end:
            assert got.get(day) == first_usable.get(day)


@QUIET
@HOSTILE
@given(cases("daily"))
def test_daily_property(case: Case) -> None:
    check(case, parse_daily(case.payload, case.channel, case.start, case.end))


@QUIET
@HOSTILE
@given(cases("curve"))
def test_load_curve_property(case: Case) -> None:
    check(case, parse_load_curve(case.payload, case.channel, case.start, case.end))


@QUIET
@HOSTILE
@given(cases("max_power"))
def test_max_power_property(case: Case) -> None:
    check(case, parse_max_power(case.payload, case.start, case.end))
