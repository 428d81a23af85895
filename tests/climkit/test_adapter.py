"""The worker-thread fast path (`prepare_window`) equals summing the parsed quarter-hours by
hour and local day: every day with data, its hours that have data, the partial days listed."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.climkit.adapter import prepare_window
from custom_components.linky_climkit.climkit.window import day_window, request_span
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers.climkit_model import MeterInfo
from tests.providers.test_climkit_parse import ZURICH, meter_infos, parse_site_rows, sim_rows
from tests.simulators.climkit import demo_site

TYPES = ("electricity", "cold_water", "heating")
HOUR = timedelta(hours=1)

type Reference = dict[Any, dict[date, dict[datetime, list[float]]]]


def reference(
    answers: list[tuple[str, list[dict[str, Any]]]],
    site_id: str,
    meters: list[MeterInfo],
    first: date,
    end: date,
) -> Reference:
    """Per series, day and UTC hour: the values of the quarters inside [first, end)."""
    low, high = day_window(first, end, ZURICH)
    out: Reference = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for meter_type, rows in answers:
        parsed = parse_site_rows(
            rows, site_id=site_id, meter_type=meter_type, meters=meters, tz=ZURICH
        )
        for key, intervals in parsed.intervals.items():
            for interval in intervals:
                if low <= interval.start and interval.end <= high:
                    hour = interval.start.replace(minute=0)
                    out[key][interval.start.astimezone(ZURICH).date()][hour].append(interval.value)
    return out


def quarters_of(day: date) -> int:
    start, stop = day_window(day, day + timedelta(days=1), ZURICH)
    return int((stop - start) / timedelta(minutes=15))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 26), date(2026, 4, 1)),  # spring change: a 23-hour day
        (date(2026, 10, 22), date(2026, 10, 28)),  # autumn change: a 25-hour day
    ],
)
def test_prepare_window_matches_quarter_sums(first: date, last: date) -> None:
    site = demo_site(creation=datetime(2025, 1, 1, tzinfo=UTC))
    meters = meter_infos(site.meters)
    end = last - timedelta(days=1)  # the answer runs a day past the window: cut off
    start, stop = request_span(first - timedelta(days=1), last, ZURICH)
    answers = [(t, sim_rows(site, t, start, stop)) for t in TYPES]
    # a hole (one row nulled) leaves that quarter out of its hour, the day partial
    electricity = answers[0][1]
    holed_row = next(
        i
        for i, row in enumerate(electricity)
        if row["timestamp"].startswith(f"{first + timedelta(days=2)} 10:15")
    )
    electricity[holed_row] = {
        k: (v if k == "timestamp" else None) for k, v in electricity[holed_row].items()
    }
    window = prepare_window(answers, site.id, meters, ZURICH, first, end)
    expected = reference(answers, site.id, meters, first, end)
    assert window.missing == 1
    holed = first + timedelta(days=2)
    site_key = (site.id, Channel.CONSUMPTION)
    assert set(window.batch.days) == set(expected)
    for key, days in expected.items():
        assert (
            set(window.batch.days[key])
            == set(days)
            == {first + timedelta(days=n) for n in range((end - first).days)}
        ), key
        for day, hours in days.items():
            got = window.batch.days[key][day]
            assert got.total is None
            assert got.hours is not None
            assert [h for h, _ in got.hours] == sorted(hours)
            assert [v for _, v in got.hours] == pytest.approx(
                [sum(hours[h]) for h in sorted(hours)]
            )
        partial = {d for d, hours in days.items() if sum(map(len, hours.values())) < quarters_of(d)}
        assert window.batch.partial.get(key, set()) == partial, key
    assert window.batch.partial[site_key] == {holed}
    hole_hour = datetime(holed.year, holed.month, holed.day, 10, tzinfo=ZURICH).astimezone(UTC)
    assert len(expected[site_key][holed][hole_hour]) == 3  # the hour keeps its three quarters
    assert (site.id, Channel.CONSUMPTION) in window.batch.partial
    assert not any(
        holed in window.batch.partial.get(k, ()) for k in expected if k[1] is Channel.WATER
    )
    lengths = {len(e.hours or ()) for days in window.batch.days.values() for e in days.values()}
    assert lengths == {23, 24, 25} - ({25} if first.month == 3 else {23})
    assert window.last_end == day_window(first, end, ZURICH)[1]  # rows past the window: unread


def test_first_day_of_a_site_is_partial_and_imported() -> None:
    creation = datetime(2026, 5, 4, 13, 37, tzinfo=ZURICH)
    site = demo_site(creation=creation, water=False, heat=False)
    meters = meter_infos(site.meters)
    first, end = date(2026, 5, 1), date(2026, 5, 7)
    start, stop = request_span(first, end, ZURICH)
    rows = sim_rows(site, "electricity", start, stop)
    window = prepare_window([("electricity", rows)], site.id, meters, ZURICH, first, end)
    days = window.batch.days[(site.id, Channel.CONSUMPTION)]
    assert sorted(days) == [date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)]
    hours = days[date(2026, 5, 4)].hours
    assert hours is not None
    assert hours[0][0] == datetime(2026, 5, 4, 13, tzinfo=ZURICH).astimezone(UTC)
    assert len(hours) == 11  # 13:00 (13:45 and after) to 23:00
    for key in window.batch.days:
        assert window.batch.partial[key] == {date(2026, 5, 4)}


def test_duplicates_and_overlap_are_cut_to_the_window() -> None:
    """The same rows twice (overlapping answers), and rows on both sides of the window:
    each quarter counted once, only inside [first, end)."""
    site = demo_site(creation=datetime(2025, 1, 1, tzinfo=UTC), water=False, heat=False)
    meters = meter_infos(site.meters)
    first, end = date(2026, 1, 10), date(2026, 1, 12)
    low, high = day_window(first, end, ZURICH)
    rows = sim_rows(site, "electricity", low - 8 * HOUR, high + 8 * HOUR)
    once = prepare_window([("electricity", rows)], site.id, meters, ZURICH, first, end)
    twice = prepare_window(
        [("electricity", rows + rows[::-1])], site.id, meters, ZURICH, first, end
    )
    assert once.batch == twice.batch
    inside = [r for r in rows if low < datetime.fromisoformat(r["timestamp"]) <= high]
    assert len(inside) == 2 * 96
    consumption = once.batch.days[(site.id, Channel.CONSUMPTION)]
    assert sorted(consumption) == [first, first + timedelta(days=1)]
    assert sum(e.measured for e in consumption.values()) == pytest.approx(
        sum(r["conso_total"] for r in inside)
    )
    assert once.batch.partial == {}


def test_prepare_window_empty() -> None:
    window = prepare_window(
        [("electricity", [])], "x", [], ZURICH, date(2025, 12, 1), date(2026, 1, 1)
    )
    assert window.batch.days == {}
    assert window.batch.partial == {}
    assert window.last_end is None


@pytest.mark.parametrize(
    ("first", "days", "before", "after"),
    [
        (date(2026, 6, 1), 30, 3, 3),  # summer: UTC+2, three hours out on each side
        (date(2026, 1, 10), 7, 2, 2),  # winter: UTC+1
        (date(2026, 3, 1), 29, 2, 3),  # ends after the spring change
        (date(2026, 10, 25), 7, 3, 2),  # starts on the autumn change
    ],
)
def test_request_span_covers_both_readings(first: date, days: int, before: int, after: int) -> None:
    """Whether Climkit reads the naive t_s/t_e as UTC or as Zurich time, and serves the row
    stamped t_e or not, every quarter of [first, end) is inside what it serves."""
    end = first + timedelta(days=days)
    low, high = day_window(first, end, ZURICH)
    start, stop = request_span(first, end, ZURICH)
    assert (low - start, stop - high) == (timedelta(hours=before), timedelta(hours=after))
    for as_local in (False, True):
        served = [
            edge.astimezone(UTC).replace(tzinfo=None).replace(tzinfo=ZURICH if as_local else UTC)
            for edge in (start, stop)
        ]
        assert served[0] <= low  # the first quarter ends after low: it is served
        assert served[1] > high  # the row stamped high is served even with an exclusive end
