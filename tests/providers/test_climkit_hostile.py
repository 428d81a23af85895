"""Hostile Climkit and Gateway answers: values that are not finite or absurd, rows stamped far
away, rows out of order or repeated, JSON nested beyond the decoder's depth."""

from __future__ import annotations

import copy
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.climkit.adapter import prepare_window
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers import climkit, conso_api
from custom_components.linky_climkit.providers.climkit_gateway import (
    REGISTER_CAPS,
    GatewayMeter,
    parse_reading,
)
from custom_components.linky_climkit.providers.climkit_parse import MAX_QUARTER
from custom_components.linky_climkit.providers.errors import (
    InvalidResponseError,
    UpstreamError,
)
from tests.providers.test_climkit_parse import ZURICH, capture_meters
from tests.simulators.climkit import CAPTURE_SITE_ID, capture_rows

DAY = date(2022, 5, 14)  # the captured day
NOW = datetime(2022, 6, 1, tzinfo=UTC)
DEEP = "[" * 200_000 + "]" * 200_000


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant instance is needed here."""


def window(rows: list[dict[str, Any]]) -> Any:
    return prepare_window(
        [("electricity", rows)], CAPTURE_SITE_ID, capture_meters(), ZURICH, DAY, DAY + timedelta(1)
    )


def site_hours(prepared: Any, channel: Channel = Channel.CONSUMPTION) -> Any:
    return prepared.batch.days[(CAPTURE_SITE_ID, channel)][DAY].hours


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, 1e308, -1e308, "nan", "1e400", 10**400, -(10**400)]
)
def test_non_finite_or_absurd_values_are_refused_and_counted(value: Any) -> None:
    rows = capture_rows()
    rows[10] = {**rows[10], "conso_total": value}
    meter = next(k for k in rows[20] if k.startswith("total_"))
    rows[20] = {**rows[20], meter: value}
    prepared = window(rows)
    assert prepared.refused == 2
    for days in prepared.batch.days.values():
        for day in days.values():
            assert all(abs(v) <= MAX_QUARTER * 4 for _, v in day.hours or ())
    assert prepared.batch.partial[(CAPTURE_SITE_ID, Channel.CONSUMPTION)] == {DAY}


def test_values_at_the_cap_are_kept() -> None:
    rows = capture_rows()
    rows[10] = {**rows[10], "conso_total": MAX_QUARTER, "self": -MAX_QUARTER}
    prepared = window(rows)
    assert prepared.refused == 0


@pytest.mark.parametrize("stamp", ["2999-01-01 00:15:00+01:00", "0001-01-01 00:15:00", 10**15])
def test_a_row_stamped_far_away_is_skipped_not_fatal(stamp: Any) -> None:
    """The window's other rows are imported; the stray row is counted (it used to fail the
    whole window, and so every sync after it)."""
    rows = capture_rows()
    clean = window(copy.deepcopy(rows))
    rows.append({**rows[0], "timestamp": stamp})
    prepared = window(rows)
    assert prepared.refused == 1
    assert prepared.batch.days == clean.batch.days


def test_reversed_and_repeated_rows_give_the_same_days() -> None:
    """Rows in any order, and a repeated instant (the first row wins), change nothing."""
    rows = capture_rows()
    clean = window(copy.deepcopy(rows))
    hostile = list(reversed(rows))
    hostile.append({**rows[5], "conso_total": 99.0})  # a later copy of a row: ignored
    prepared = window(hostile)
    assert flat(prepared) == pytest.approx(flat(clean), abs=1e-12)  # summed in another order
    assert prepared.batch.partial == clean.batch.partial


def flat(prepared: Any) -> dict[Any, float]:
    return {
        (key, day, start): value
        for key, days in prepared.batch.days.items()
        for day, energy in days.items()
        for start, value in energy.hours or ()
    }


def test_rows_outside_the_window_are_cut() -> None:
    """Rows before and after the asked day (the request's margins, or a stray day) are not
    imported into any day."""
    rows = capture_rows()
    before = {**rows[0], "timestamp": "2022-05-13 23:45:00+02:00"}
    after = {**rows[0], "timestamp": "2022-05-15 00:15:00+02:00", "conso_total": 50.0}
    prepared = window([before, *rows, after, {**after, "timestamp": "2099-01-01 00:15:00Z"}])
    for days in prepared.batch.days.values():
        assert set(days) == {DAY}
    assert len(site_hours(prepared)) == 24


# --- the Gateway --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("register", "value"),
    [
        ("en_im", 1e300),
        ("en_im", 10**400),
        ("en_im", "1e400"),
        ("en_im", "nan"),
        ("en_ex", -2e9),
        ("total_W", 2e8),
        ("L1_a", -1e6),
    ],
)
def test_gateway_absurd_register_is_refused(register: str, value: Any) -> None:
    """An index that jumps to 1e300 would stay there (indexes never go down): refused."""
    body = f'{{"en_im": 1234.5, "total_W": 800, "{register}": {_json(value)}}}'
    reading = parse_reading(200, body, GatewayMeter("electricity", 11))
    assert register not in reading.values
    assert reading.refused == 1
    assert all(abs(v) <= REGISTER_CAPS[k] for k, v in reading.values.items())


def test_gateway_register_at_its_cap_is_kept() -> None:
    body = '{"en_im": 1e9, "total_W": -1e8}'
    reading = parse_reading(200, body, GatewayMeter("electricity", 11))
    assert reading.values == {"en_im": 1e9, "total_W": -1e8}
    assert reading.refused == 0


@pytest.mark.parametrize("ts", ['"\u00b2"', '"' + "9" * 5000 + '"', "1e400"])
def test_gateway_unreadable_time_is_no_time(ts: str) -> None:
    reading = parse_reading(200, f'{{"vol_m3": 1.5, "ts": {ts}}}', GatewayMeter("cold_water", 50))
    assert reading.measured_at is None
    assert reading.values == {"vol_m3": 1.5}


def _json(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value) if not isinstance(value, float) or math.isfinite(value) else "1e999"


# --- JSON nested beyond the decoder's depth -----------------------------------------------


def test_deep_json_is_an_invalid_response_everywhere() -> None:
    with pytest.raises(InvalidResponseError):
        parse_reading(200, DEEP, GatewayMeter("electricity", 11))
    with pytest.raises(InvalidResponseError):
        conso_api._parse_ok(DEEP)
    assert isinstance(conso_api.map_error(500, "application/json", DEEP), UpstreamError)
    with pytest.raises(InvalidResponseError):
        climkit._decode(200, DEEP, None, NOW, "/all_installations")
    with pytest.raises(UpstreamError):
        climkit._decode(500, DEEP, None, NOW, "/all_installations")
