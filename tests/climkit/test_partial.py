"""Nothing lost: days with missing quarter-hours, the real 2022 answer, Climkit's own figures
and the open readings of the request window, read back from the recorder day by day and
compared with the simulator's ground truth."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from custom_components.linky_climkit.pipeline import Batch, Pipeline
from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.climkit.test_import import setup_site, zurich
from tests.conftest import CH_NOW, ZURICH
from tests.helpers.statistics_reader import assert_continuous, hourly_rows
from tests.simulators.climkit import (
    CAPTURE_FULL_FILE,
    CAPTURE_SITE_ID,
    DEMO_SITE_ID,
    ClimkitSimulator,
    SiteSpec,
    capture_rows,
    demo_site,
    derive_id,
    full_capture_site,
)

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")
QUARTER = timedelta(minutes=15)
CONSUMER = derive_id(DEMO_SITE_ID, 11)
PV = derive_id(DEMO_SITE_ID, 101)
# statistic (owner, channel) -> the column of Climkit's rows it is, as given
COLUMNS = {
    (DEMO_SITE_ID, "consumption"): "conso_total",
    (DEMO_SITE_ID, "production"): "prod_total",
    (DEMO_SITE_ID, "self_consumption"): "self",
    (DEMO_SITE_ID, "grid_import"): "from_ext",
    (DEMO_SITE_ID, "grid_export"): "to_ext",
    (CONSUMER, "consumption"): f"total_{CONSUMER}",
    (CONSUMER, "self_consumption"): f"self_{CONSUMER}",
    (CONSUMER, "grid_import"): f"ext_{CONSUMER}",
    (PV, "production"): f"total_{PV}",
}

type Hours = dict[date, dict[datetime, float]]


def small_site(creation: datetime) -> SiteSpec:
    """One consumer and the PV: every channel, few rows."""
    return demo_site(creation=creation, consumers=1, water=False, heat=False)


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZURICH)


def by_day_and_hour(rows: Iterator[tuple[datetime, float]]) -> Hours:
    """(UTC hour start, value) pairs grouped by Zurich day, hours summed."""
    out: Hours = defaultdict(lambda: defaultdict(float))
    for start, value in rows:
        out[start.astimezone(ZURICH).date()][start] += value
    return out


def truth_hours(
    rows: list[dict[str, Any]], column: str, first: date, end: date, *, stamp: str = "end"
) -> Hours:
    """Ground truth: the quarter-hours of local days [first, end) summed by hour."""
    low, high = midnight(first), midnight(end)

    def quarters() -> Iterator[tuple[datetime, float]]:
        for row in rows:
            ends = row[stamp] if stamp == "end" else datetime.fromisoformat(row[stamp])
            if low < ends <= high:
                yield (ends.astimezone(UTC) - QUARTER).replace(minute=0), row[column]

    return by_day_and_hour(quarters())


async def stored_hours(hass: HomeAssistant, owner: str, channel: str) -> Hours:
    rows = await hourly_rows(hass, statistic_id(owner, channel))
    assert_continuous(rows)
    return by_day_and_hour((r["start"], r["state"]) for r in rows)


def assert_same_days(got: Hours, expected: Hours, label: Any) -> None:
    """Day by day: the same hours, each the sum of its quarters (the recorder keeps 6
    decimals)."""
    assert sorted(got) == sorted(expected), label
    for day, hours in expected.items():
        assert sorted(got[day]) == sorted(hours), (label, day)
        for hour, value in hours.items():
            assert got[day][hour] == pytest.approx(value, abs=1e-6), (label, day, hour)


async def assert_matches_simulator(
    hass: HomeAssistant, sim: ClimkitSimulator, first: date, end: date
) -> None:
    """Every statistic of the small site equals the simulator's rows, day by day."""
    truth = sim.interval_values(DEMO_SITE_ID, "electricity", midnight(first), midnight(end))
    for (owner, channel), column in COLUMNS.items():
        got = await stored_hours(hass, owner, channel)
        assert_same_days(got, truth_hours(truth, column, first, end), (owner, channel))


def partial_days(batches: list[Batch]) -> dict[tuple[str, str], set[date]]:
    """The partial days every imported batch listed, per (owner, channel)."""
    out: dict[tuple[str, str], set[date]] = defaultdict(set)
    for batch in batches:
        for (owner, channel), days in batch.partial.items():
            out[(owner, channel.value)] |= days
    return out


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[Batch]:
    """Every batch the pipeline imports."""
    seen: list[Batch] = []
    run = Pipeline.run

    async def spy(self: Pipeline, batch: Batch, reason: str, **kwargs: Any) -> Any:
        seen.append(batch)
        return await run(self, batch, reason, **kwargs)

    monkeypatch.setattr(Pipeline, "run", spy)
    return seen


async def next_daily_sync(
    hass: HomeAssistant, coordinator: ClimkitCoordinator, freezer: FrozenDateTimeFactory
) -> None:
    """Tomorrow's daily sync (a day later, whatever retries were planned meanwhile)."""
    now = CH_NOW + timedelta(days=1)
    freezer.move_to(now)
    async_fire_time_changed(hass, now)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.next_daily is not None
    assert coordinator.next_daily > now


async def test_first_day_of_a_site_is_imported(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None, batches: list[Batch]
) -> None:
    """A site created at 14:37 has its first (partial) day imported, marked partial."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    creation = (CH_NOW - timedelta(days=6)).replace(hour=14, minute=37)
    sim = ClimkitSimulator([small_site(creation)])
    await sim.start()
    try:
        await setup_site(hass, sim)
        first, today = creation.date(), CH_NOW.date()
        await assert_matches_simulator(hass, sim, first, today)
        consumption = await stored_hours(hass, DEMO_SITE_ID, "consumption")
        assert min(consumption) == first
        assert len(consumption[first]) == 10  # 14:00 (from 14:45) to 23:00
        partial = partial_days(batches)
        for key in COLUMNS:
            assert partial[key] == {first}, key
    finally:
        await sim.stop()


async def test_day_with_a_quarter_missing_for_good_is_imported(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None, batches: list[Batch]
) -> None:
    """One quarter Climkit never sends: its day is imported with everything else, the hour
    holds its three quarters, on every channel."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    site = small_site(CH_NOW - timedelta(days=9))
    holed = CH_NOW.date() - timedelta(days=4)
    lost = datetime.combine(holed, datetime.min.time(), ZURICH).replace(hour=10, minute=15)
    site.missing = {lost.astimezone(UTC): None}
    sim = ClimkitSimulator([site])
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim)
        first, today = site.creation.astimezone(ZURICH).date(), CH_NOW.date()
        await assert_matches_simulator(hass, sim, first, today)
        consumption = await stored_hours(hass, DEMO_SITE_ID, "consumption")
        assert len(consumption[holed]) == 24
        served = sim.interval_values(DEMO_SITE_ID, "electricity", lost - QUARTER, lost + QUARTER)
        assert [r["end"] for r in served] == [lost - QUARTER, lost + QUARTER]  # 10:15 lost
        assert consumption[holed][lost.astimezone(UTC).replace(minute=0)] > 0
        partial = partial_days(batches)
        for key in COLUMNS:  # the site's first day (created at 09:30) and the holed one
            assert partial[key] == {first, holed}, key
        assert coordinator.state.missing == 0  # an absent row is not a row with a null
    finally:
        await sim.stop()


async def test_late_quarter_rewrites_its_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None, batches: list[Batch]
) -> None:
    """A quarter of yesterday that comes hours late: yesterday is imported without it and
    marked partial, tomorrow's sync rewrites that hour only, sums stay continuous, and
    reading it all again changes nothing."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    site = small_site(CH_NOW - timedelta(days=9))
    yesterday = CH_NOW.date() - timedelta(days=1)
    late = midnight(yesterday).replace(hour=20, minute=15)
    site.missing = {late.astimezone(UTC): CH_NOW + timedelta(hours=6)}
    sim = ClimkitSimulator([site])
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim)
        first = site.creation.astimezone(ZURICH).date()
        await assert_matches_simulator(hass, sim, first, CH_NOW.date())
        hour = late.astimezone(UTC).replace(minute=0)
        before = {key: await stored_hours(hass, *key) for key in COLUMNS}
        assert before[(DEMO_SITE_ID, "consumption")][yesterday][hour] > 0  # 3 quarters
        for key in COLUMNS:
            assert partial_days(batches)[key] == {first, yesterday}, key
        assert not coordinator.have_yesterday()  # the newest complete day is older
        batches.clear()

        await next_daily_sync(hass, coordinator, freezer)
        today = (CH_NOW + timedelta(days=1)).date()
        await assert_matches_simulator(hass, sim, first, today)  # the late quarter is in
        assert coordinator.have_yesterday()
        assert [b.partial for b in batches] == [{}]
        for key in COLUMNS:  # only the late quarter's hour changed
            after = await stored_hours(hass, *key)
            for day, hours in before[key].items():
                changed = {h for h, v in hours.items() if after[day][h] != pytest.approx(v)}
                assert changed <= ({hour} if day == yesterday else set()), (key, day)
            if key == (DEMO_SITE_ID, "consumption"):
                assert after[yesterday][hour] > before[key][yesterday][hour]
        rows = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "consumption"))
        assert_continuous(rows)

        # Idempotent: the same days read again write nothing.
        stored = {key: await hourly_rows(hass, statistic_id(*key)) for key in COLUMNS}
        coordinator.request_history(first, today - timedelta(days=1))
        assert coordinator.next_run is not None
        async_fire_time_changed(hass, coordinator.next_run)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert not coordinator.state.requested
        for key, rows in stored.items():
            assert await hourly_rows(hass, statistic_id(*key)) == rows, key
    finally:
        await sim.stop()


async def test_a_day_stored_whole_keeps_its_quarters_when_a_read_lacks_one(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """A quarter of a day already stored whole vanishes from Climkit's answers for a while:
    the next daily sync re-reads that day partial and leaves the stored day as it was."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    site = small_site(CH_NOW - timedelta(days=9))
    sim = ClimkitSimulator([site])
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim)
        day = CH_NOW.date() - timedelta(days=3)
        before = {key: (await stored_hours(hass, *key))[day] for key in COLUMNS}
        gone = midnight(day).replace(hour=10, minute=30).astimezone(UTC)
        site.missing = {gone: CH_NOW + timedelta(days=30)}

        await next_daily_sync(hass, coordinator, freezer)
        for key in COLUMNS:
            after = (await stored_hours(hass, *key))[day]
            assert after == pytest.approx(before[key]), key
    finally:
        await sim.stop()


async def test_real_capture_whole_answer_imported_as_given(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """The real 2022 answer (1,438 rows, first and last local days partial): every day is
    imported, consumption adds up to the capture's own total, grid import is `from_ext`."""
    await zurich(hass)
    freezer.move_to(datetime(2022, 5, 21, 9, 0, tzinfo=ZURICH))
    sim = ClimkitSimulator([full_capture_site()], meter_info_mode="2022")
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim, CAPTURE_SITE_ID)
        capture = capture_rows(CAPTURE_FULL_FILE)
        first, end = date(2022, 5, 5), date(2022, 5, 21)
        for channel, column in (
            ("consumption", "conso_total"),
            ("grid_import", "from_ext"),
            ("grid_export", "to_ext"),
            ("self_consumption", "self"),
            ("production", "prod_total"),
        ):
            expected = truth_hours(capture, column, first, end, stamp="timestamp")
            got = await stored_hours(hass, CAPTURE_SITE_ID, channel)
            assert_same_days(got, expected, channel)
            rows = await hourly_rows(hass, statistic_id(CAPTURE_SITE_ID, channel))
            total = sum(r[column] for r in capture)  # the capture's own total
            assert rows[-1]["sum"] == pytest.approx(total, abs=1e-6), channel
        consumption = await stored_hours(hass, CAPTURE_SITE_ID, "consumption")
        assert min(consumption) == first
        assert max(consumption) == date(2022, 5, 20)
        assert len(consumption) == 16
        assert coordinator.state.clamped > 0
    finally:
        await sim.stop()
