"""A Climkit site end to end: devices, entities, statistics and pacing against the simulator."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.conftest import CH_NOW, ZURICH, climkit_entry
from tests.helpers.statistics_reader import assert_continuous, hourly_rows, rows_of_day
from tests.simulators.climkit import (
    CAPTURE_DAY,
    CAPTURE_SITE_ID,
    DEMO_SITE_ID,
    ClimkitSimulator,
    capture_rows,
    demo_site,
    derive_id,
    real_capture_site,
)

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")
CONSUMERS = [derive_id(DEMO_SITE_ID, 11 + i) for i in range(4)]
PV = derive_id(DEMO_SITE_ID, 101)
HEAT = derive_id(DEMO_SITE_ID, 40)
WATER = derive_id(DEMO_SITE_ID, 50)
INTRODUCTION = derive_id(DEMO_SITE_ID, 10)


async def zurich(hass: HomeAssistant) -> None:
    """Home Assistant configured for Switzerland."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    hass.config.currency = "CHF"


async def setup_site(
    hass: HomeAssistant,
    sim: ClimkitSimulator,
    site_id: str = DEMO_SITE_ID,
    *,
    entry: MockConfigEntry | None = None,
) -> ClimkitCoordinator:
    """Set up the entry (a new one unless given, already added) and run the history import
    to its end."""
    if entry is None:
        entry = climkit_entry(sim, site_id)
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    coordinator: ClimkitCoordinator = entry.runtime_data.coordinator
    for _ in range(60):
        if coordinator.state.history_done:
            break
        assert coordinator.next_run is not None
        async_fire_time_changed(hass, coordinator.next_run)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.state.history_done
    return coordinator


def quarter_sums(sim_rows: list[dict[str, Any]], key: str) -> dict[datetime, float]:
    """Ground truth per clock hour from the simulator's 15T rows."""
    sums: dict[datetime, float] = defaultdict(float)
    for row in sim_rows:
        start = row["end"].astimezone(UTC) - timedelta(minutes=15)  # UTC: DST-safe
        sums[start.replace(minute=0)] += row[key]
    return sums


async def test_devices_entities_and_statistics(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """4 consumers, a producer, heat and water: devices, entities, statistics, identities."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    coordinator = await setup_site(hass, climkit_sim)

    devices = dr.async_entries_for_config_entry(
        dr.async_get(hass), coordinator.config_entry.entry_id
    )
    by_id = {next(iter(d.identifiers))[1]: d for d in devices}
    assert set(by_id) == {DEMO_SITE_ID, *CONSUMERS, PV, HEAT, WATER}
    site_device = by_id[DEMO_SITE_ID]
    assert site_device.name == "Climkit Résidence du Lac"
    for meter in (*CONSUMERS, PV, HEAT, WATER):
        assert by_id[meter].via_device_id == site_device.id
    assert by_id[PV].model_id == "production"
    assert INTRODUCTION not in by_id

    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{WATER}_water")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "m³"
    assert state.attributes["device_class"] == "water"
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{DEMO_SITE_ID}_battery_charge") is None

    yesterday = CH_NOW.date() - timedelta(days=1)
    start = datetime.combine(yesterday, datetime.min.time(), tzinfo=ZURICH)
    truth = climkit_sim.interval_values(
        DEMO_SITE_ID, "electricity", start, start + timedelta(days=1)
    )
    truth = [r for r in truth if r["end"] > start]
    assert len(truth) == 96

    site = {
        channel: {
            r["start"]: r["state"]
            for r in await hourly_rows(hass, statistic_id(DEMO_SITE_ID, channel))
        }
        for channel in (
            "consumption",
            "production",
            "self_consumption",
            "grid_import",
            "grid_export",
        )
    }
    expected = quarter_sums(truth, "conso_total")
    for hour, value in expected.items():
        assert site["consumption"][hour] == pytest.approx(value, abs=1e-6)
    for hour in expected:
        assert site["consumption"][hour] == pytest.approx(
            site["self_consumption"][hour] + site["grid_import"][hour], abs=1e-6
        )
        assert site["production"][hour] == pytest.approx(
            site["self_consumption"][hour] + site["grid_export"][hour], abs=1e-6
        )
    for channel, key in (
        ("production", "prod_total"),
        ("self_consumption", "self"),
        ("grid_import", "from_ext"),
        ("grid_export", "to_ext"),
    ):  # Climkit's figures as given (negative night-time production included)
        for hour, value in quarter_sums(truth, key).items():
            assert site[channel][hour] == pytest.approx(value, abs=1e-6), (channel, hour)
    consumers = [
        {r["start"]: r for r in await hourly_rows(hass, statistic_id(meter, "consumption"))}
        for meter in CONSUMERS
    ]
    for hour in expected:
        assert sum(c[hour]["state"] for c in consumers) == pytest.approx(
            site["consumption"][hour], abs=1e-6
        )
    for meter in CONSUMERS:
        own = {
            r["start"]: r["state"]
            for r in await hourly_rows(hass, statistic_id(meter, "self_consumption"))
        }
        grid = {
            r["start"]: r["state"]
            for r in await hourly_rows(hass, statistic_id(meter, "grid_import"))
        }
        total = {
            r["start"]: r["state"]
            for r in await hourly_rows(hass, statistic_id(meter, "consumption"))
        }
        for hour in expected:
            assert total[hour] == pytest.approx(own[hour] + grid[hour], abs=1e-6)

    water = await hourly_rows(hass, statistic_id(WATER, "water"))
    assert_continuous(water)
    water_truth = climkit_sim.interval_values(
        DEMO_SITE_ID, "cold_water", start, start + timedelta(days=1)
    )
    water_truth = [r for r in water_truth if r["end"] > start]
    expected_water = quarter_sums(water_truth, f"total_{WATER}")
    got_water = {r["start"]: r["state"] for r in water}
    for hour, value in expected_water.items():
        assert got_water[hour] == pytest.approx(value, abs=1e-6)
    heat = await hourly_rows(hass, statistic_id(HEAT, "heat"))
    assert len(rows_of_day(heat, yesterday)) == 24

    # The whole history, from the site's creation, with continuous sums.
    rows = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "consumption"))
    assert_continuous(rows)
    first_day = (CH_NOW - timedelta(days=40)).date() + timedelta(days=1)
    assert rows[0]["start"].astimezone(ZURICH).date() <= first_day
    assert len({r["start"] for r in rows}) == len(rows)


async def test_pacing_and_token_renewal(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Never more than 1 request per second; an expired token is renewed before it is used."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    site = demo_site(creation=CH_NOW - timedelta(days=70), consumers=1, water=False, heat=False)
    sim = ClimkitSimulator([site], token_lifetime=300)
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim)
        history_calls = len(sim.calls)
        assert history_calls >= 6
        next_day = CH_NOW + timedelta(days=1)
        freezer.move_to(next_day)
        async_fire_time_changed(hass, next_day)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert coordinator.have_yesterday()
        stamps = [c.at for c in sim.calls]
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        assert min(gaps) >= timedelta(seconds=1)
        assert all(c.status == 200 for c in sim.calls)
        auths = [i for i, c in enumerate(sim.calls) if c.path.endswith("/auth")]
        assert auths == [0, history_calls]
        assert coordinator.client.auth_count == 2
    finally:
        await sim.stop()


async def test_reauthenticates_once_after_401(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 401 on a data call renews the token and retries the call."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    coordinator = await setup_site(hass, climkit_sim)
    climkit_sim.add_fault("unauthorized", remaining=1)
    before = len(climkit_sim.calls)
    freezer.move_to(CH_NOW + timedelta(days=1))
    async_fire_time_changed(hass, CH_NOW + timedelta(days=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    calls = climkit_sim.calls[before:]
    refused = next(i for i, c in enumerate(calls) if c.status == 401)
    assert calls[refused + 1].path.endswith("/auth")
    assert calls[refused + 1].status == 200
    assert calls[refused + 2].path == calls[refused].path
    assert calls[refused + 2].status == 200
    assert sum(1 for c in calls if c.status == 401) == 1
    assert coordinator.last_update_success
    assert coordinator.have_yesterday()


async def test_real_capture_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """The real 2022 capture: hourly statistics are the sums of its quarter-hours."""
    await zurich(hass)
    now = datetime(2022, 5, 16, 9, 0, tzinfo=ZURICH)
    freezer.move_to(now)
    sim = ClimkitSimulator(
        [real_capture_site(creation=datetime(2022, 4, 20, tzinfo=UTC))], meter_info_mode="2022"
    )
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim, CAPTURE_SITE_ID)
        rows = await hourly_rows(hass, statistic_id(CAPTURE_SITE_ID, "consumption"))
        got = {r["start"]: r["state"] for r in rows}
        capture = capture_rows()
        sums: dict[datetime, float] = defaultdict(float)
        counts: dict[datetime, int] = defaultdict(int)
        for row in capture:
            end = datetime.fromisoformat(row["timestamp"])
            hour = (end.astimezone(UTC) - timedelta(minutes=15)).replace(minute=0)
            sums[hour] += row["conso_total"]
            counts[hour] += 1
        full = [h for h, n in counts.items() if n == 4]
        assert len(full) >= 22
        for hour in full:
            assert got[hour] == pytest.approx(sums[hour], abs=1e-9)
        # The interpolated gap (11:45–12:15) is imported as served.
        gap_hour = datetime(2022, 5, 14, 12, 0, tzinfo=ZURICH).astimezone(UTC)
        assert got[gap_hour] == pytest.approx(sums[gap_hour], abs=1e-9)
        day = rows_of_day(rows, CAPTURE_DAY)
        assert len(day) == 24
        assert coordinator.state.clamped > 0  # negative night-time production, counted

        def hourly(column: str) -> dict[datetime, float]:
            out: dict[datetime, float] = defaultdict(float)
            for row in capture:
                end = datetime.fromisoformat(row["timestamp"]).astimezone(UTC)
                out[(end - timedelta(minutes=15)).replace(minute=0)] += row[column]
            return out

        async def stored(channel: str) -> dict[datetime, float]:
            rows = await hourly_rows(hass, statistic_id(CAPTURE_SITE_ID, channel))
            return {r["start"]: r["state"] for r in rows}

        grid, bought = await stored("grid_import"), hourly("from_ext")
        for hour in full:  # grid import is `from_ext` as given, never recomputed
            assert grid[hour] == pytest.approx(bought[hour], abs=1e-6)
        production, produced = await stored("production"), hourly("prod_total")
        for hour in full:  # as given, negative at night
            assert production[hour] == pytest.approx(produced[hour], abs=1e-6)
        assert min(production[hour] for hour in full) < 0
        own = await stored("self_consumption")
        for hour in full:  # Climkit's own identity, on its own figures
            assert got[hour] == pytest.approx(grid[hour] + own[hour], abs=2e-6)
    finally:
        await sim.stop()


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
async def test_dst_days_in_zurich(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    day: date,
    hours: int,
) -> None:
    """DST days have 23 or 25 hourly rows equal to the quarter-hour sums."""
    await zurich(hass)
    now = datetime.combine(day + timedelta(days=2), datetime.min.time(), tzinfo=ZURICH)
    freezer.move_to(now.replace(hour=9))
    sim = ClimkitSimulator([demo_site(creation=now - timedelta(days=10), water=False, heat=False)])
    await sim.start()
    try:
        await setup_site(hass, sim)
        rows = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "consumption"))
        assert_continuous(rows)
        day_rows = rows_of_day(rows, day)
        assert len(day_rows) == hours
        start = datetime.combine(day, datetime.min.time(), tzinfo=ZURICH)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ZURICH)
        truth = [
            r
            for r in sim.interval_values(DEMO_SITE_ID, "electricity", start, end)
            if r["end"] > start
        ]
        assert len(truth) == hours * 4
        expected = quarter_sums(truth, "conso_total")
        got = {row["start"]: round(row["state"], 4) for row in day_rows}
        assert got == {h: round(v, 4) for h, v in expected.items()}
    finally:
        await sim.stop()
