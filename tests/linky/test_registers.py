"""The meter's registers (options → Meter registers): one more call a day, a total index
sensor and one sensor per register of the supplier's calendar, equal to the simulator's
readings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.linky_climkit.const import CONF_READ_REGISTERS, DOMAIN
from tests.conftest import NOW, PRM, linky_entry
from tests.helpers.time_travel import advance, max_calls_in_window
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile
from tests.simulators.conso_api_index import RegisterPlan

INDEX = "index_consommation"


@pytest.fixture
async def hphc_sim(socket_enabled: None) -> AsyncIterator[ConsoApiSimulator]:
    """A meter whose off-peak hours are 22:08-06:08."""
    plan = RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),))
    sim = ConsoApiSimulator([MeterProfile(PRM, seed=7, registers=plan)])
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    yield sim
    await sim.stop()


def state_of(hass: HomeAssistant, unique_id: str) -> float:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


@pytest.mark.usefixtures("recorder_mock")
async def test_the_meter_registers_are_read_once_a_day(
    paris: HomeAssistant, hphc_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    hass, sim = paris, hphc_sim
    freezer.move_to(NOW)
    entry = linky_entry(sim, PRM, options={CONF_READ_REGISTERS: True})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(sim.calls) <= 12  # the first setup, the registers' first reading with it
    assert [c.type for c in sim.calls].count(INDEX) == 1

    def check(day_after: int) -> None:
        newest = NOW.date() - timedelta(days=day_after)
        total, registers = sim.index_book(PRM).reading(newest)
        assert state_of(hass, f"{PRM}_meter_index") == pytest.approx(total / 1000)
        for code, value in registers.items():
            assert state_of(hass, f"{PRM}_register_{code.lower()}") == pytest.approx(value / 1000)
        names = {
            state.name
            for state in hass.states.async_all("sensor")
            if state.entity_id.startswith(f"sensor.linky_{PRM}_register_")
        }
        assert names == {
            f"Linky {PRM} Register Heures Creuses",
            f"Linky {PRM} Register Heures Pleines",
        }

    check(day_after=1)  # read at the start of yesterday (today's comes tomorrow)

    coordinator = entry.runtime_data
    before = len(sim.calls)
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=1, hours=2))
    daily = [c.type for c in sim.calls[before:]]
    assert daily.count(INDEX) == 1  # with the daily sync, no other
    assert max_calls_in_window(sim.calls) <= 24
    check(day_after=0)


@pytest.mark.usefixtures("recorder_mock")
async def test_no_register_call_without_the_option(
    paris: HomeAssistant, hphc_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Off by default: no call, no sensor; switched on in the options, read at once."""
    hass, sim = paris, hphc_sim
    freezer.move_to(NOW)
    entry = linky_entry(sim, PRM)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert INDEX not in [c.type for c in sim.calls]
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{PRM}_meter_index") is None

    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert "meter_registers" in flow["menu_options"]
    form = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"next_step_id": "meter_registers"}
    )
    await hass.config_entries.options.async_configure(form["flow_id"], {CONF_READ_REGISTERS: True})
    await hass.async_block_till_done(wait_background_tasks=True)  # reloaded, read once
    assert [c.type for c in sim.calls].count(INDEX) == 1
    total, _ = sim.index_book(PRM).reading(NOW.date() - timedelta(days=1))
    assert state_of(hass, f"{PRM}_meter_index") == pytest.approx(total / 1000)


@pytest.mark.usefixtures("recorder_mock")
async def test_a_producer_has_its_production_registers_too(
    paris: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """One more call for the production's registers; its index and register sensors."""
    hass = paris
    sim = ConsoApiSimulator([MeterProfile(PRM, seed=7, has_production=True)])
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    try:
        freezer.move_to(NOW)
        entry = linky_entry(sim, PRM, options={CONF_READ_REGISTERS: True})
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        types = [c.type for c in sim.calls]
        assert (types.count(INDEX), types.count("index_production")) == (1, 1)
        assert len(types) <= 12
        total, registers = sim.index_book(PRM, production=True).reading(
            NOW.date() - timedelta(days=1)
        )
        assert state_of(hass, f"{PRM}_production_index") == pytest.approx(total / 1000)
        assert state_of(hass, f"{PRM}_production_register_base") == pytest.approx(
            registers["BASE"] / 1000
        )
        coordinator = entry.runtime_data
        await advance(hass, freezer, [coordinator], NOW + timedelta(days=1, hours=2))
        share = coordinator.budget.manager.budget.shares[entry.entry_id]
        assert share == 7  # a producer's 5 calls, and the registers of each direction
        assert [c.type for c in sim.calls].count("index_production") == 2
    finally:
        await sim.stop()


@pytest.mark.usefixtures("recorder_mock")
@pytest.mark.parametrize("fault", ["bad_request", "technical_error"])
async def test_a_refused_register_read_never_fails_the_daily_sync(
    paris: HomeAssistant, hphc_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory, fault: str
) -> None:
    """[I] If Conso API refuses the index type (or Enedis fails on it), the registers stay
    unread and the day's figures are still imported."""
    hass, sim = paris, hphc_sim
    sim.add_fault(fault, types={INDEX})
    freezer.move_to(NOW)
    entry = linky_entry(sim, PRM, options={CONF_READ_REGISTERS: True})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator = entry.runtime_data
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=1, hours=2))
    assert INDEX in [c.type for c in sim.calls]
    assert coordinator.last_update_success
    assert coordinator.have_yesterday()
    assert coordinator.state.latest_index is None
    # A refusal (400) will not pass by itself: a repair issue says so until a reading comes;
    # an outage (500) only waits for the next day.
    issue_id = f"registers_refused_{entry.entry_id}"
    refused = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert (refused is not None) is (fault == "bad_request")
    sim.clear_faults()
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=2, hours=2))
    assert coordinator.state.latest_index is not None
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
