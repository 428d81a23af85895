"""Restarts in the middle of the first import and of the backfill end exactly where an
uninterrupted run ends: the same rows, states and sums."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.statistics.ledger import Ledger, Mark
from tests.conftest import NOW, linky_entry, token_for
from tests.helpers.statistics_reader import assert_continuous, hourly_rows
from tests.helpers.time_travel import advance
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile

STEADY = "11111111111111"
RESTARTED = "22222222222222"


@pytest.mark.usefixtures("recorder_mock")
async def test_restarts_give_the_same_statistics(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Two PRMs serving identical data; one is restarted during its first import and twice
    during its backfill; in the end both have identical statistics."""
    await hass.config.async_set_time_zone("Europe/Paris")
    since = NOW.date() - timedelta(days=120)
    sim = ConsoApiSimulator(
        [
            MeterProfile(STEADY, seed=7, has_production=True, hourly_since=since),
            MeterProfile(
                RESTARTED, seed=7, has_production=True, hourly_since=since, twin_of=STEADY
            ),
        ]
    )
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    try:
        freezer.move_to(NOW)
        token = token_for(STEADY, RESTARTED)
        steady = linky_entry(sim, STEADY, token=token)
        restarted = linky_entry(sim, RESTARTED, token=token)
        steady.add_to_hass(hass)
        assert await hass.config_entries.async_setup(steady.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        # The first import of the other one is cut by an outage after a few windows.
        sim.add_fault("unknown_error", types={"production_quotidienne"}, remaining=1)
        restarted.add_to_hass(hass)
        assert await hass.config_entries.async_setup(restarted.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert restarted.runtime_data.state.pending
        assert await hass.config_entries.async_reload(restarted.entry_id)  # restart
        coordinators = [steady.runtime_data, restarted.runtime_data]
        await advance(hass, freezer, coordinators, NOW + timedelta(hours=2))
        assert restarted.runtime_data.state.initialised
        for hours in (3, 5):  # two restarts while the backfill runs
            assert not restarted.runtime_data.history_complete()
            assert await hass.config_entries.async_reload(restarted.entry_id)
            coordinators = [steady.runtime_data, restarted.runtime_data]
            await advance(hass, freezer, coordinators, NOW + timedelta(hours=hours))
        await advance(hass, freezer, coordinators, NOW + timedelta(days=6))
        for coordinator in coordinators:
            for channel in (Channel.CONSUMPTION, Channel.PRODUCTION):
                key = Ledger.key(coordinator.prm, channel)
                hourly = [day for day, m in coordinator.ledger.days[key].items() if m & Mark.HOURLY]
                assert min(hourly) == since, channel  # every week with hourly data, fetched

        for channel in ("consumption", "production", "max_power"):
            expected = await hourly_rows(hass, statistic_id(STEADY, channel))
            got = await hourly_rows(hass, statistic_id(RESTARTED, channel))
            assert len(got) == len(expected) > 0
            for a, b in zip(expected, got, strict=True):
                assert a["start"] == b["start"]
                for key in ("state", "sum", "max"):
                    assert a.get(key) == pytest.approx(b.get(key), abs=1e-6), (channel, key)
            if channel != "max_power":
                assert_continuous(got)
    finally:
        await sim.stop()
