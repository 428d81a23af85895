"""Property tests: structurally valid Climkit `site_data` answers and Gateway readings with
hostile variations (stray stamps, rows out of order or repeated, offsets and epochs, nulls,
strings, negative, huge and non-finite values).

An oracle from what was generated says what must come out: for Climkit, each series' hourly
sums are the sums of the usable values of the first row of each quarter-hour inside the asked
days, nothing outside them, and the refused count is the absurd values of those rows plus the
rows stamped far away; for the Gateway, every plausible register and only those. Short profile
in the suite; `LINKY_CLIMKIT_HYPOTHESIS=long` draws 10,000 answers per parser.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.linky_climkit.climkit.adapter import prepare_window
from custom_components.linky_climkit.climkit.window import day_window, request_span
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers.climkit_gateway import (
    REGISTER_CAPS,
    REGISTERS,
    GatewayMeter,
    parse_reading,
)
from custom_components.linky_climkit.providers.climkit_parse import MAX_QUARTER, SITE_FIGURES
from tests.helpers.hostile_profile import HOSTILE, QUIET
from tests.providers.test_climkit_parse import ZURICH, capture_meters
from tests.simulators.climkit import CAPTURE_SITE_ID

QUARTER = timedelta(minutes=15)
METERS = capture_meters()
CONSUMERS = [m.id for m in METERS if m.prim_ad is not None and 11 <= m.prim_ad < 100]
PRODUCERS = [m.id for m in METERS if m.prim_ad is not None and m.prim_ad >= 100]
ABSURD = [math.nan, math.inf, -math.inf, 1e308, -1e308, 2 * MAX_QUARTER, 10**400, "nan", "1e400"]
UNREADABLE = [None, True, "abc", "", [1], {"v": 1}]
STRAY_STAMPS = ["2999-01-01 00:15:00+01:00", "0001-01-01 00:15:00", "1899-12-31 23:45:00Z", 10**15]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant instance is needed here."""


def row_keys() -> list[tuple[str, tuple[str, Channel] | None]]:
    """Every key a row may carry, with the series it feeds directly (None: derived ones)."""
    keys: list[tuple[str, tuple[str, Channel] | None]] = []
    direct = {"conso_total": Channel.CONSUMPTION, "prod_total": Channel.PRODUCTION}
    for key, _ in SITE_FIGURES:
        keys.append((key, (CAPTURE_SITE_ID, direct[key]) if key in direct else None))
    for meter in CONSUMERS:
        keys.append((f"total_{meter}", (meter, Channel.CONSUMPTION)))
        keys += [(f"self_{meter}", None), (f"ext_{meter}", None)]
    keys += [(f"total_{meter}", (meter, Channel.PRODUCTION)) for meter in PRODUCERS]
    return keys


KEYS = row_keys()


def quarter_value(rnd: random.Random) -> Any:
    roll = rnd.random()
    if roll < 0.05:
        return rnd.choice(ABSURD)
    if roll < 0.1:
        return rnd.choice(UNREADABLE)
    if roll < 0.15:
        return "absent"
    if roll < 0.2:
        return f"{rnd.uniform(-0.05, 3):.3f}"  # a number as text
    return rnd.uniform(-0.05, 3)


def usable(raw: Any) -> float | str | None:
    """The value the parser keeps, None when unreadable, "refused" when absurd."""
    if raw is None or isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        number = float(raw)
    except ValueError:
        return None
    except OverflowError:
        return "refused"
    if not -MAX_QUARTER <= number <= MAX_QUARTER:
        return "refused"
    return 0.0 if abs(number) < 1e-9 else number


def stamp(end: datetime, rnd: random.Random) -> Any:
    """How Climkit may write a quarter's end: local time with its offset (what it does), any
    offset, `Z`, epoch seconds or milliseconds, or naive local time (not in the DST hours)."""
    local = end.astimezone(ZURICH)
    roll = rnd.random()
    if roll < 0.6:
        return local.isoformat(sep=" ")
    if roll < 0.7:
        offset = timezone(timedelta(minutes=30 * rnd.randint(-20, 20)))
        return end.astimezone(offset).isoformat(sep=rnd.choice(" T"))
    if roll < 0.75:
        return end.isoformat().replace("+00:00", "Z")
    if roll < 0.8:
        return int(end.timestamp())
    if roll < 0.85:
        return int(end.timestamp() * 1000)
    if (
        local.dst() != (local - timedelta(hours=3)).dst()
        or local.dst() != (local + timedelta(hours=3)).dst()
    ):
        return local.isoformat(sep=" ")  # naive would be ambiguous here
    return local.replace(tzinfo=None).isoformat(sep=" ")


@dataclass
class RowsCase:
    first: date
    end: date
    rows: list[dict[str, Any]] = field(default_factory=list)
    ends: list[datetime | None] = field(default_factory=list)  # each row's true end


@st.composite
def rows_cases(draw: st.DrawFn) -> RowsCase:
    rnd = random.Random(draw(st.integers(0, 2**32)))  # many draws: cheap, reproducible
    first = draw(st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 12, 1)))
    if draw(st.booleans()):
        first = draw(st.sampled_from([date(2026, 3, 28), date(2026, 10, 24), date(2022, 5, 14)]))
    case = RowsCase(first, first + timedelta(days=draw(st.integers(1, 3))))
    low, high = request_span(case.first, case.end, ZURICH)
    keep = draw(st.floats(0.5, 1.0))
    end = low + QUARTER - timedelta(seconds=low.timestamp() % 900)
    while end <= high:
        if rnd.random() < keep:
            row = {key: quarter_value(rnd) for key, _ in KEYS}
            row = {k: v for k, v in row.items() if v != "absent"}
            case.rows.append({**row, "timestamp": stamp(end, rnd)})
            case.ends.append(end)
        end += QUARTER
    for _ in range(draw(st.integers(0, 3))):
        case.rows.append({"conso_total": 1.0, "timestamp": rnd.choice(STRAY_STAMPS)})
        case.ends.append(None)
    for _ in range(draw(st.integers(0, 8))):  # a quarter again, other values, other writing
        again = rnd.choice(case.ends) if case.ends else None
        if again is not None:
            row = {key: quarter_value(rnd) for key, _ in KEYS}
            at = rnd.randrange(len(case.rows) + 1)
            case.rows.insert(at, {**row, "timestamp": stamp(again, rnd)})
            case.ends.insert(at, again)
    order = list(range(len(case.rows)))
    mode = draw(st.sampled_from(["kept", "reversed", "shuffled"]))
    if mode == "reversed":
        order.reverse()
    elif mode == "shuffled":
        rnd.shuffle(order)
    case.rows = [case.rows[i] for i in order]
    case.ends = [case.ends[i] for i in order]
    return case


@QUIET
@HOSTILE
@given(rows_cases())
def test_site_data_property(case: RowsCase) -> None:
    prepared = prepare_window(
        [("electricity", case.rows)], CAPTURE_SITE_ID, METERS, ZURICH, case.first, case.end
    )
    low, high = day_window(case.first, case.end, ZURICH)
    expected: dict[Any, dict[datetime, float]] = defaultdict(lambda: defaultdict(float))
    refused = sum(1 for end in case.ends if end is None)
    seen: set[datetime] = set()
    for row, end in zip(case.rows, case.ends, strict=True):
        if end is None or end in seen:
            continue
        seen.add(end)
        if not low < end <= high:
            continue
        hour = (end - timedelta(seconds=1)).replace(minute=0, second=0)
        for key, series in KEYS:
            if key not in row:
                continue
            kept = usable(row[key])
            if kept == "refused":
                refused += 1
            elif kept is not None and series is not None:
                expected[series][hour] += float(kept)
    assert prepared.refused == refused
    for days in prepared.batch.days.values():
        for day, energy in days.items():
            assert case.first <= day < case.end
            for start, amount in energy.hours or ():
                assert low <= start < high
                assert math.isfinite(amount)
                assert abs(amount) <= 16 * MAX_QUARTER
    for series, hours in expected.items():
        got = {
            start: amount
            for energy in prepared.batch.days.get(series, {}).values()
            for start, amount in energy.hours or ()
        }
        assert set(got) == set(hours)
        for hour, amount in hours.items():
            assert got[hour] == pytest.approx(amount, abs=1e-9)


# --- the Gateway --------------------------------------------------------------------------


def register_value(rnd: random.Random, key: str) -> Any:
    roll = rnd.random()
    if roll < 0.15:
        return rnd.choice([*ABSURD, 2 * REGISTER_CAPS[key], -2 * REGISTER_CAPS[key]])
    if roll < 0.25:
        return rnd.choice(UNREADABLE)
    if roll < 0.35:
        return f"{rnd.uniform(-10, 1e4):.2f}"
    return rnd.uniform(-10, REGISTER_CAPS[key] / 10)


@st.composite
def readings(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    rnd = random.Random(draw(st.integers(0, 2**32)))  # many draws: cheap, reproducible
    meter_type = draw(st.sampled_from(sorted(REGISTERS)))
    body: dict[str, Any] = {
        key: register_value(rnd, key) for key in REGISTERS[meter_type] if rnd.random() < 0.9
    }
    body["other"] = register_value(rnd, "en_im")  # a register of no interest
    body["valid"] = rnd.choice([True, False, None, "false", 0])
    body["ts"] = rnd.choice(
        [1_715_680_800, 1_715_680_800_000, "2024-05-14T10:00:00+02:00", "\u00b2", "9" * 5000, 1e400]
    )
    return meter_type, body


@QUIET
@HOSTILE
@given(readings())
def test_gateway_reading_property(reading: tuple[str, dict[str, Any]]) -> None:
    meter_type, body = reading
    result = parse_reading(200, json.dumps(body), GatewayMeter(meter_type, 11))
    expected: dict[str, float] = {}
    refused = 0
    for key in REGISTERS[meter_type]:
        raw = body.get(key)
        if raw is None or isinstance(raw, bool) or not isinstance(raw, int | float | str):
            continue
        try:
            number = float(raw)
        except ValueError:
            continue
        except OverflowError:
            number = math.inf
        if -REGISTER_CAPS[key] <= number <= REGISTER_CAPS[key]:
            expected[key] = number
        else:
            refused += 1
    assert dict(result.values) == expected
    assert result.refused == refused
    assert result.valid is (body["valid"] is not False)
    assert result.measured_at is None or result.measured_at.tzinfo is not None
    assert result.measured_at is None or result.measured_at.year == 2024
    assert all(math.isfinite(v) for v in result.values.values())
