"""First setup of a Linky PRM against the simulator, read back from the recorder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.conftest import NOW, PRM, PROD_PRM, linky_entry
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.simulators.conso_api import ConsoApiSimulator


@pytest.mark.usefixtures("recorder_mock")
async def test_first_import_consumption_only(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """3 years of days, the last 7 days hourly and scaled to the daily figure, in ≤ 10 calls."""
    hass = paris
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED

    assert len(conso_sim.calls) <= 10
    rows = await hourly_rows(hass, statistic_id(PRM, "consumption"))
    assert_continuous(rows)
    today = NOW.date()
    yesterday = today - timedelta(days=1)
    for back in range(1, 8):
        day = today - timedelta(days=back)
        hours = rows_of_day(rows, day)
        assert len(hours) == 24, day
        assert day_total(rows, day) == pytest.approx(conso_sim.daily_wh(PRM, day) / 1000, abs=1e-4)
    old_day = today - timedelta(days=900)
    assert len(rows_of_day(rows, old_day)) == 1
    assert day_total(rows, old_day) == pytest.approx(conso_sim.daily_wh(PRM, old_day) / 1000)
    assert rows[0]["start"].date() <= today - timedelta(days=1094)

    state = hass.states.get("sensor.linky_12345678901234_consumption_latest_day")
    assert state is not None
    assert float(state.state) == pytest.approx(conso_sim.daily_wh(PRM, yesterday) / 1000, abs=1e-3)
    peak = await hourly_rows(hass, statistic_id(PRM, "max_power"))
    assert len(peak) == 365
    assert peak[-1]["max"] == pytest.approx(conso_sim.max_power(PRM, yesterday)[0] / 1000)


@pytest.mark.usefixtures("recorder_mock")
async def test_first_import_with_production(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A producing PRM gets a production statistic too, still in ≤ 10 calls."""
    hass = paris
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim, PROD_PRM)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(conso_sim.calls) <= 10
    rows = await hourly_rows(hass, statistic_id(PROD_PRM, "production"))
    assert_continuous(rows)
    day = NOW.date() - timedelta(days=2)
    assert len(rows_of_day(rows, day)) == 24
    assert day_total(rows, day) == pytest.approx(
        conso_sim.daily_wh(PROD_PRM, day, production=True) / 1000, abs=1e-4
    )


@pytest.mark.parametrize(
    ("hour", "minute", "newest_back"),
    [(0, 30, 2), (4, 0, 2), (7, 59, 2), (8, 1, 1), (12, 0, 1), (23, 59, 1)],
)
@pytest.mark.usefixtures("recorder_mock")
async def test_first_import_gets_seven_hourly_days_at_any_hour(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    hour: int,
    minute: int,
    newest_back: int,
) -> None:
    """Set up before Enedis publishes yesterday (~08:00): the hourly week ends on the newest
    published day, so a user who sets up at 04:00 gets the same 7 hourly days as at noon."""
    hass = paris
    moment = NOW.replace(hour=hour, minute=minute)
    freezer.move_to(moment)
    entry = linky_entry(conso_sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    rows = await hourly_rows(hass, statistic_id(PRM, "consumption"))
    assert_continuous(rows)
    newest = moment.date() - timedelta(days=newest_back)
    assert rows[-1]["start"].date() == newest
    for back in range(7):
        day = newest - timedelta(days=back)
        assert len(rows_of_day(rows, day)) == 24, day
        assert day_total(rows, day) == pytest.approx(conso_sim.daily_wh(PRM, day) / 1000, abs=1e-4)
    assert len(rows_of_day(rows, newest - timedelta(days=7))) == 1
    assert len(conso_sim.calls) <= 10
