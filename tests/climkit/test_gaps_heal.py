"""A Climkit site's gaps heal: the days older than the daily sync's week that Home Assistant
missed while it was off come back, read back from the recorder day by day against the
simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from tests.climkit.test_import import setup_site, zurich
from tests.climkit.test_partial import assert_matches_simulator, next_daily_sync, small_site
from tests.conftest import CH_NOW, ZURICH
from tests.simulators.climkit import ClimkitSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")


async def test_twelve_days_off_are_caught_up(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Home Assistant off for 12 days: after the restart, the days older than the week the
    daily sync re-reads come back too, and the completeness counts say so."""
    await zurich(hass)
    freezer.move_to(CH_NOW)
    site = small_site(CH_NOW - timedelta(days=20))
    sim = ClimkitSimulator([site])
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim)
        entry = coordinator.config_entry
        assert await hass.config_entries.async_unload(entry.entry_id)
        back = CH_NOW + timedelta(days=12)
        freezer.move_to(back)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        coordinator = entry.runtime_data.coordinator
        stop = back + timedelta(hours=6)
        for _ in range(50):
            due = coordinator.next_run
            if due is None or due > stop:
                break
            freezer.move_to(due)
            async_fire_time_changed(hass, due)
            await hass.async_block_till_done(wait_background_tasks=True)

        first = site.creation.astimezone(ZURICH).date()
        await assert_matches_simulator(hass, sim, first, back.date())
        counts = coordinator.completeness()
        assert counts["missing"] == 0
        assert counts["complete"] >= (back.date() - first).days - 2
    finally:
        await sim.stop()


async def test_the_site_state_is_saved_only_once_the_rows_are_committed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every save of the site's state and ledger (history cursor, days marked imported),
    the site sensors' saves included, comes after the recorder committed what was queued."""
    saves: list[set[str]] = []
    original = ClimkitCoordinator._save

    async def save(self: ClimkitCoordinator) -> None:
        saves.append(set(self.pipeline.importer._queued))
        await original(self)

    monkeypatch.setattr(ClimkitCoordinator, "_save", save)
    await zurich(hass)
    freezer.move_to(CH_NOW)
    sim = ClimkitSimulator([small_site(CH_NOW - timedelta(days=40))])
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim)
        await next_daily_sync(hass, coordinator, freezer)  # the site sensors are read then
    finally:
        await sim.stop()
    assert len(saves) >= 3
    assert saves == [set()] * len(saves)
