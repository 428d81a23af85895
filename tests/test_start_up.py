"""Set-up during Home Assistant's start: the entry loads from its stores without a provider
call and without waiting on the recorder (which writes nothing until Home Assistant has
started); the import work runs once Home Assistant has started, in the entry's background.

The recorder of the test harness is already running, so these tests make its queue behave as
during a real start: `async_block_till_done` does not return before EVENT_HOMEASSISTANT_STARTED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers.recorder import get_instance

from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.conftest import CH_NOW, NOW, PRM, climkit_entry, linky_entry
from tests.helpers.statistics_reader import assert_continuous, hourly_rows, rows_of_day
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator
from tests.simulators.conso_api import ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock")
SET_UP_LIMIT = 30  # seconds of real time; a set-up takes well under one


class StartingRecorder:
    """The recorder's queue as during a start: waiting on it blocks until started."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.started = asyncio.Event()
        self.waits_before_start = 0
        self._hass = hass

    async def block_till_done(self, original: Any) -> None:
        if not self.started.is_set():
            self.waits_before_start += 1
            await self.started.wait()
        await original()

    def start(self) -> None:
        self.started.set()
        self._hass.set_state(CoreState.running)
        self._hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)


@pytest.fixture
def starting(hass: HomeAssistant) -> Iterator[StartingRecorder]:
    """Home Assistant in its start phase, with a recorder that writes nothing yet."""
    recorder = StartingRecorder(hass)
    instance = get_instance(hass)
    original = instance.async_block_till_done

    async def wait() -> None:
        await recorder.block_till_done(original)

    hass.set_state(CoreState.not_running)
    with patch.object(instance, "async_block_till_done", wait):
        yield recorder
    recorder.started.set()


async def test_linky_set_up_during_start_waits_for_nothing(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    starting: StartingRecorder,
) -> None:
    """A first import pending at start: the set-up returns at once (no call, no recorder
    wait, sensors there); once started, the import runs and its statistics are complete."""
    hass = paris
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim)
    entry.add_to_hass(hass)
    async with asyncio.timeout(SET_UP_LIMIT):  # a set-up that waits on the recorder hangs
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert conso_sim.calls == []
    assert starting.waits_before_start == 0
    assert hass.states.get("sensor.linky_12345678901234_consumption_latest_day") is not None

    starting.start()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert 0 < len(conso_sim.calls) <= 10
    rows = await hourly_rows(hass, statistic_id(PRM, "consumption"))
    assert_continuous(rows)
    yesterday = NOW.date() - timedelta(days=1)
    assert len(rows_of_day(rows, yesterday)) == 24
    assert entry.runtime_data.state.initialised


async def test_unloaded_before_start_calls_nothing(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    starting: StartingRecorder,
) -> None:
    """An entry unloaded before Home Assistant has started never runs its import."""
    hass = paris
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    starting.start()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert conso_sim.calls == []
    assert starting.waits_before_start == 0


@pytest.mark.usefixtures("fast_pacer")
async def test_climkit_history_pending_at_start(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
    starting: StartingRecorder,
) -> None:
    """A Climkit site whose history is not imported yet: the set-up only discovers the site
    (its meters and sensors are the entities to create), the history comes once started."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    freezer.move_to(CH_NOW)
    entry = climkit_entry(climkit_sim)
    entry.add_to_hass(hass)
    async with asyncio.timeout(SET_UP_LIMIT):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert climkit_sim.calls_to("site_data") == []
    assert starting.waits_before_start == 0
    assert entry.runtime_data.coordinator.state.meters  # discovered: their devices exist already

    starting.start()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert climkit_sim.calls_to("site_data")
    rows = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "consumption"))
    assert rows
    assert_continuous(rows)
