"""A Climkit history import reads the next 30-day window while the recorder commits the one
it just imported (the cursor is saved only once committed): each window is asked once, a
failed read ahead is the next run's failure (the back-off, nothing lost), an unload cancels
it."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from custom_components.linky_climkit.climkit.coordinator import WINDOW_DAYS, ClimkitCoordinator
from custom_components.linky_climkit.climkit.reader import SiteReader, WindowAsk
from tests.conftest import CH_NOW, climkit_entry
from tests.helpers.time_travel import advance, setup_climkit_site
from tests.simulators.climkit import ClimkitSimulator, demo_site

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")


@pytest.fixture
async def old_site(socket_enabled: None) -> Any:
    """The demo site, created 70 days ago: three 30-day windows of history."""
    sim = ClimkitSimulator([demo_site(creation=CH_NOW - timedelta(days=70))])
    await sim.start()
    yield sim
    await sim.stop()


async def start_site(hass: HomeAssistant, sim: ClimkitSimulator) -> ClimkitCoordinator:
    """The site's entry, set up: its first history window imported (Zurich time)."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    entry = climkit_entry(sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator: ClimkitCoordinator = entry.runtime_data.coordinator
    return coordinator


def asked(sim: ClimkitSimulator) -> Counter[tuple[str, str]]:
    """How often each (meter type, start) of `site_data` was asked."""
    return Counter(
        (c.path.rsplit("/", 1)[-1], str(c.body["t_s"])) for c in sim.calls_to("site_data")
    )


async def test_each_window_is_asked_once_and_the_next_is_read_ahead(
    hass: HomeAssistant, old_site: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(CH_NOW)
    coordinator = await start_site(hass, old_site)
    # One window imported; the next one's answers are already here, before its run.
    assert coordinator.state.history_cursor is not None
    assert not coordinator.state.history_done
    types = {t for t, _ in asked(old_site)}
    starts = sorted({s for _, s in asked(old_site)})
    assert len(starts) == 2
    assert coordinator.reader.ahead is not None
    ask = coordinator.reader.ahead[0]
    assert (ask.first, ask.end) == (
        coordinator.state.history_cursor - timedelta(days=WINDOW_DAYS),
        coordinator.state.history_cursor,
    )
    before = len(old_site.calls_to("site_data"))
    assert coordinator.next_run is not None
    await advance(hass, freezer, [coordinator], coordinator.next_run)
    # That run used the answers read ahead, and started reading the window after it.
    assert len(old_site.calls_to("site_data")) == before + len(types)
    await run_until_history_done(hass, freezer, coordinator)
    assert coordinator.state.history_done
    assert coordinator.reader.ahead is None
    counts = asked(old_site)
    assert set(counts.values()) == {1}
    assert len({s for _, s in counts}) == 3  # 70 days: windows of 30, 30 and 10


async def test_a_failed_read_ahead_is_the_next_runs_failure_and_nothing_is_lost(
    hass: HomeAssistant, old_site: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(CH_NOW)
    calls = 0
    read = SiteReader._read

    async def second_read_fails(self: SiteReader, ask: WindowAsk) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first read ahead
            raise RuntimeError("broken")
        return await read(self, ask)

    with patch.object(SiteReader, "_read", second_read_fails):
        coordinator = await start_site(hass, old_site)
        cursor = coordinator.state.history_cursor
        assert coordinator.next_run is not None
        await advance(hass, freezer, [coordinator], coordinator.next_run)
        err = coordinator.last_exception
        assert isinstance(err, UpdateFailed)
        assert err.translation_key == "unexpected_error"
        assert coordinator.state.history_cursor == cursor  # that window is not done
        assert coordinator.state.backoff_until is not None
        wait = coordinator.state.backoff_until - dt_util.utcnow()
        assert timedelta(minutes=29) <= wait <= timedelta(minutes=30)
        await run_until_history_done(hass, freezer, coordinator)
    assert coordinator.state.history_done
    assert coordinator.last_update_success
    missing = coordinator.completeness()
    assert missing["missing"] == 0, missing


async def run_until_history_done(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: ClimkitCoordinator
) -> None:
    """Let the scheduled runs go on until the history is imported."""
    for _ in range(8):
        if coordinator.state.history_done:
            break
        assert coordinator.next_run is not None
        await advance(hass, freezer, [coordinator], coordinator.next_run)


async def test_an_unload_cancels_the_read_ahead(
    hass: HomeAssistant, old_site: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(CH_NOW)
    started = asyncio.Event()
    read = SiteReader._read
    reads = 0

    async def read_ahead_hangs(self: SiteReader, ask: WindowAsk) -> Any:
        nonlocal reads
        reads += 1
        if reads == 1:
            return await read(self, ask)
        started.set()
        await asyncio.Event().wait()  # never answers
        return None

    with patch.object(SiteReader, "_read", read_ahead_hangs):
        await hass.config.async_set_time_zone("Europe/Zurich")
        entry = climkit_entry(old_site)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await asyncio.wait_for(started.wait(), 60)
        coordinator: ClimkitCoordinator = entry.runtime_data.coordinator
        assert coordinator.reader.ahead is not None
        task = coordinator.reader.ahead[1]
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.state is ConfigEntryState.NOT_LOADED
        assert task.cancelled()
        assert coordinator.reader.ahead is None
        assert reads == 2


async def test_setup_helper_still_imports_the_demo_history(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 40-day site (two windows): the read ahead serves the second."""
    freezer.move_to(CH_NOW)
    _entry, coordinator = await setup_climkit_site(hass, climkit_sim, freezer)
    assert coordinator.state.history_done
    assert set(asked(climkit_sim).values()) == {1}
