"""A hostile or broken Climkit: sustained failures, unexpected errors, absurd `Retry-After`
values and redirects. Every retry is bounded and growing (backoff.py), never a sleep of more
than `MAX_WAIT` inside a request, and credentials never leave for another address.

Request counts are what the simulator received over simulated days (the clock is frozen and
moved; nothing sleeps)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.linky_climkit.backoff import CAP
from custom_components.linky_climkit.climkit import reader as climkit_reader
from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from custom_components.linky_climkit.const import (
    CONF_API_URL,
    CONF_PASSWORD,
    CONF_SITE_SENSORS_HOURLY,
    CONF_USERNAME,
    DOMAIN,
)
from custom_components.linky_climkit.providers.climkit import MAX_WAIT, Pacer
from tests.conftest import CH_NOW, climkit_entry
from tests.helpers.time_travel import bursts, gaps, most_in_window, setup_climkit_site, step_runs
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator, MeterSpec, demo_site, derive_id

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")

THREE_DAYS = timedelta(days=3)
BACKOFF_STEPS = [timedelta(minutes=30 * 2**i) for i in range(6)] + [CAP]  # 30 min … 16 h, 24 h


@pytest.fixture
async def elsewhere(socket_enabled: None) -> AsyncIterator[ClimkitSimulator]:
    """Another origin (another port) answering like Climkit, with the same credentials."""
    sim = ClimkitSimulator([demo_site()])
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def sleeps(fast_pacer: Pacer) -> list[float]:
    """Every sleep of the Climkit pacer (between requests and inside a request)."""
    recorded: list[float] = []
    sleep = fast_pacer.sleep

    async def recording(seconds: float) -> None:
        recorded.append(seconds)
        await sleep(seconds)

    fast_pacer.sleep = recording
    return recorded


async def setup(
    hass: HomeAssistant, sim: ClimkitSimulator
) -> tuple[MockConfigEntry, ClimkitCoordinator]:
    """The demo site's entry, set up (its discovery, and its first run once started)."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    entry = climkit_entry(sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    return entry, entry.runtime_data.coordinator


def assert_growing(starts: list[datetime], slack: timedelta = timedelta(minutes=1)) -> None:
    """Each gap between runs is the back-off's next step (never shorter than the one
    before), within `slack` (the time a failing run takes)."""
    for gap, step in zip(gaps(starts), BACKOFF_STEPS + [CAP] * 10, strict=False):
        assert step <= gap <= step + slack, (gaps(starts), BACKOFF_STEPS)
    assert all(b >= a for a, b in itertools.pairwise(gaps(starts)))


def failure_key(coordinator: ClimkitCoordinator) -> str | None:
    err = coordinator.last_exception
    assert isinstance(err, UpdateFailed), repr(err)
    return err.translation_key


async def test_sustained_outage_backs_off_growing_to_a_day(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Climkit answers 500 to every data request for 3 days during the history import: the
    runs are 30 min, 1 h, 2 h … 24 h apart; a run after a failed one tries each request once;
    the first answer afterwards resets the back-off."""
    freezer.move_to(CH_NOW)
    climkit_sim.add_fault("server_error", paths="site_data")
    _entry, coordinator = await setup(hass, climkit_sim)
    start = dt_util.utcnow()
    await step_runs(hass, freezer, coordinator, start + THREE_DAYS)

    stamps = [c.at for c in climkit_sim.calls_to("site_data")]
    runs = bursts(stamps)
    assert_growing(runs)
    assert len(runs) == 8  # 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 55.5 h
    assert len(stamps) == 4 + 7  # the first run retried 3 times in the request, then once
    every = [c.at for c in climkit_sim.calls if c.at >= runs[0]]
    assert most_in_window(every) <= 13  # site_data and /auth (the token lasts 15 min)
    assert most_in_window([s for s in every if s >= start + timedelta(days=1)]) <= 4
    assert failure_key(coordinator) == "climkit_error"
    assert coordinator.state.backoff_seconds == CAP.total_seconds()

    climkit_sim.clear_faults()
    await step_runs(hass, freezer, coordinator, start + THREE_DAYS + CAP)
    assert coordinator.last_update_success
    assert coordinator.state.backoff_seconds == 0
    assert coordinator.state.history_done


async def test_unexpected_error_backs_off_instead_of_every_second(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A bug (any exception but a provider error) in a history run: the same growing
    back-off, a translated error naming only the exception's type, then a reset."""
    freezer.move_to(CH_NOW)
    with patch.object(climkit_reader, "prepare_window", side_effect=RuntimeError("s3cret detail")):
        _entry, coordinator = await setup(hass, climkit_sim)
        start = dt_util.utcnow()
        await step_runs(hass, freezer, coordinator, start + THREE_DAYS)
        runs = bursts([c.at for c in climkit_sim.calls_to("site_data")])
        assert_growing(runs)
        assert len(runs) == 8
        err = coordinator.last_exception
        assert isinstance(err, UpdateFailed)
        assert err.translation_key == "unexpected_error"
        assert err.translation_placeholders is not None
        assert err.translation_placeholders["error"] == "RuntimeError"
        assert coordinator.state.last_error == "RuntimeError"
        assert coordinator.state.backoff_until is not None
        assert coordinator.state.backoff_until - dt_util.utcnow() <= CAP
    await step_runs(hass, freezer, coordinator, start + THREE_DAYS + CAP)
    assert coordinator.last_update_success
    assert coordinator.state.backoff_seconds == 0


@pytest.mark.parametrize("value", ["86400", "1e12", "inf", "nan", "-3", "soon"])
async def test_absurd_retry_after_never_sleeps_long_nor_raises(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
    sleeps: list[float],
    value: str,
) -> None:
    """A 429 whose Retry-After is a day, beyond the calendar, infinite, NaN, negative or
    text, for 3 days: no sleep inside a request beyond MAX_WAIT, no crash, a bounded
    number of runs (a long Retry-After is one day's back-off, then Climkit is asked again)."""
    freezer.move_to(CH_NOW)
    climkit_sim.retry_after = value
    climkit_sim.add_fault("rate_limited", paths="site_data")
    _entry, coordinator = await setup(hass, climkit_sim)
    start = dt_util.utcnow()
    await step_runs(hass, freezer, coordinator, start + THREE_DAYS)

    assert max(sleeps) <= MAX_WAIT
    assert failure_key(coordinator) == "climkit_error"
    runs = bursts([c.at for c in climkit_sim.calls_to("site_data")])
    if value in ("86400", "1e12"):  # raised at once, waited for as the back-off (a day)
        assert len(runs) == len(climkit_sim.calls_to("site_data")) == 3
        assert all(CAP <= gap <= CAP + timedelta(seconds=5) for gap in gaps(runs))
    else:  # nonsense: a plain back-off
        assert_growing(runs)
        assert len(runs) == 8
    assert coordinator.state.backoff_until is not None
    assert coordinator.state.backoff_until - dt_util.utcnow() <= CAP


@pytest.mark.usefixtures("no_setup")
async def test_config_flow_does_not_sleep_a_day(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
    sleeps: list[float],
) -> None:
    """Retry-After: 86400 while adding the account: the form answers "quota" at once."""
    freezer.move_to(CH_NOW)
    climkit_sim.retry_after = "86400"
    climkit_sim.add_fault("rate_limited", paths="all_installations")
    result = await submit_credentials(hass, climkit_sim)
    assert result["errors"] == {"base": "quota"}
    assert sum(sleeps) <= 2 * MAX_WAIT
    assert dt_util.utcnow() - CH_NOW < timedelta(minutes=1)


async def submit_credentials(
    hass: HomeAssistant, sim: ClimkitSimulator, url: str | None = None
) -> dict[str, Any]:
    """Menu → Climkit → credentials."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "climkit"}
    )
    return dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_USERNAME: sim.username,
                CONF_PASSWORD: sim.password,
                "advanced": {CONF_API_URL: url or sim.base_url},
            },
        )
    )


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirect_never_carries_the_password_elsewhere(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    elsewhere: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
    status: int,
) -> None:
    """Climkit answers /auth (and everything) with a redirect to another origin: nothing
    reaches it, the entry loads and backs off with a translated "redirected" error."""
    freezer.move_to(CH_NOW)
    climkit_sim.redirect_to, climkit_sim.redirect_status = elsewhere.url, status
    _entry, coordinator = await setup(hass, climkit_sim)
    assert coordinator.state.site is None  # the discovery was refused and is postponed
    start = dt_util.utcnow()
    await step_runs(hass, freezer, coordinator, start + timedelta(days=1))
    assert elsewhere.calls == []
    assert {(c.endpoint, c.status) for c in climkit_sim.calls} == {("auth", status)}
    assert failure_key(coordinator) == "redirected"
    assert len(bursts([c.at for c in climkit_sim.calls])) <= 6  # growing back-off


@pytest.mark.usefixtures("no_setup")
async def test_config_flow_refuses_a_redirect(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    elsewhere: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(CH_NOW)
    climkit_sim.redirect_to = elsewhere.url
    result = await submit_credentials(hass, climkit_sim)
    assert result["errors"] == {"base": "redirected"}
    assert elsewhere.calls == []


async def test_unloaded_during_a_run_neither_rearms_nor_reloads(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A run (the `sync_now` action) still going when the entry is unloaded ends without
    arming a timer or reloading the entry (its daily sync found a new meter)."""
    freezer.move_to(CH_NOW)
    entry, coordinator = await setup(hass, climkit_sim)
    await step_runs(hass, freezer, coordinator, CH_NOW + timedelta(hours=1))
    assert coordinator.state.history_done
    freezer.move_to(CH_NOW + timedelta(days=1))
    site = climkit_sim.sites[DEMO_SITE_ID]
    site.meters.append(
        MeterSpec(derive_id(DEMO_SITE_ID, 15), "electricity", "consumption", 15, "Atelier")
    )
    climkit_sim.forget_cache()
    held, release = asyncio.Event(), asyncio.Event()
    fetch = coordinator._fetch_days

    async def slow_fetch(*args: Any) -> None:
        held.set()
        await release.wait()
        await fetch(*args)

    with patch.object(coordinator, "_fetch_days", slow_fetch):
        run = hass.async_create_task(coordinator.async_sync_now())
        await held.wait()
        assert await hass.config_entries.async_unload(entry.entry_id)
        release.set()
        await run
        await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert coordinator.next_run is None
    calls = len(climkit_sim.calls)
    await step_runs(hass, freezer, coordinator, CH_NOW + timedelta(days=3))
    assert len(climkit_sim.calls) == calls


async def test_failing_site_sensors_back_off_instead_of_every_hour(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Site sensors read hourly (option) that fail for 2 days: their own growing back-off
    (the energy import is not held back), reset by the first good read."""
    freezer.move_to(CH_NOW)
    entry, coordinator = await setup_climkit_site(
        hass, climkit_sim, freezer, options={CONF_SITE_SENSORS_HOURLY: True}
    )
    climkit_sim.add_fault("server_error", paths={"sensors_list"})
    start = dt_util.utcnow()
    for hour in range(1, 49):
        moment = start + timedelta(hours=hour, minutes=1)
        freezer.move_to(moment)
        async_fire_time_changed(hass, moment)
        await hass.async_block_till_done(wait_background_tasks=True)
    runs = bursts([c.at for c in climkit_sim.calls_to("sensors_list") if c.at > start])
    assert 5 <= len(runs) <= 8  # not 48: 1, 2 (rounded to the hourly poll), 3, 5, 9, 17, 33 h
    assert all(b >= a for a, b in itertools.pairwise(gaps(runs)))
    sensors = entry.runtime_data.site_sensors
    assert not sensors.last_update_success
    assert coordinator.state.sensors_backoff.backoff_until is not None
    assert coordinator.have_yesterday()  # the daily imports went on
    climkit_sim.clear_faults()
    moment = coordinator.state.sensors_backoff.backoff_until + timedelta(hours=1)
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sensors.last_update_success
    assert coordinator.state.sensors_backoff.backoff_seconds == 0
