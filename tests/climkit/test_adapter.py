"""The worker-thread fast path (`prepare_window`) equals parsing into intervals and grouping
them with `build_days`: same complete days, same hourly values, same counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.climkit.adapter import prepare_window
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers.climkit_model import MeterInfo
from custom_components.linky_climkit.statistics.aggregation import build_days
from tests.providers.test_climkit_parse import ZURICH, meter_infos, parse_site_rows, sim_rows
from tests.simulators.climkit import demo_site

TYPES = ("electricity", "cold_water", "heating")


def reference(
    answers: list[tuple[str, list[dict[str, Any]]]],
    site_id: str,
    meters: list[MeterInfo],
    end: date,
) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for meter_type, rows in answers:
        parsed = parse_site_rows(
            rows, site_id=site_id, meter_type=meter_type, meters=meters, tz=ZURICH
        )
        for key, intervals in parsed.intervals.items():
            days = {
                d: e
                for d, e in build_days((), intervals, ZURICH).items()
                if d < end and e.hours is not None
            }
            if days:
                out[key] = days
    return out


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 26), date(2026, 4, 1)),  # spring change: a 23-hour day
        (date(2026, 10, 22), date(2026, 10, 28)),  # autumn change: a 25-hour day
    ],
)
def test_prepare_window_matches_intervals_and_build_days(first: date, last: date) -> None:
    site = demo_site(creation=datetime(2025, 1, 1, tzinfo=UTC))
    meters = meter_infos(site.meters)
    start = datetime.combine(first, datetime.min.time(), ZURICH).astimezone(UTC)
    stop = datetime.combine(last, datetime.min.time(), ZURICH).astimezone(UTC)
    answers = [(t, sim_rows(site, t, start, stop)) for t in TYPES]
    # a hole (one row nulled) makes its day incomplete for the series that lack the value
    electricity = answers[0][1]
    electricity[150] = {k: (v if k == "timestamp" else None) for k, v in electricity[150].items()}
    end = last - timedelta(days=1)  # the last day in the window is left out
    window = prepare_window(answers, site.id, meters, ZURICH, end)
    expected = reference(answers, site.id, meters, end)
    assert window.missing == 1
    holed = (start + 151 * timedelta(minutes=15)).astimezone(ZURICH).date()
    assert holed not in window.batch.days[(site.id, Channel.CONSUMPTION)]
    assert holed - timedelta(days=1) in window.batch.days[(site.id, Channel.CONSUMPTION)]
    assert set(window.batch.days) == set(expected)
    for key, days in expected.items():
        assert set(window.batch.days[key]) == set(days), key
        for day, energy in days.items():
            got = window.batch.days[key][day]
            assert got.hours is not None
            assert energy.hours is not None
            assert [h for h, _ in got.hours] == [h for h, _ in energy.hours]
            assert [v for _, v in got.hours] == pytest.approx([v for _, v in energy.hours])
    lengths = {len(e.hours or ()) for days in window.batch.days.values() for e in days.values()}
    assert lengths == {23, 24, 25} - ({25} if first.month == 3 else {23})
    assert window.last_end == stop


def test_prepare_window_empty() -> None:
    window = prepare_window([("electricity", [])], "x", [], ZURICH, date(2026, 1, 1))
    assert window.batch.days == {}
    assert window.last_end is None
