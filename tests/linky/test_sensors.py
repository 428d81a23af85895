"""Sensors, device, diagnostics and unload of a Linky entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.diagnostics import async_get_config_entry_diagnostics
from tests.conftest import NOW, PRM, PROD_PRM, linky_entry, token_for
from tests.helpers.time_travel import advance, setup_linky
from tests.simulators.conso_api import ConsoApiSimulator, make_token

pytestmark = pytest.mark.usefixtures("recorder_mock")


def sensor(hass: HomeAssistant, prm: str, key: str) -> str:
    """The state of one sensor, found through its unique id."""
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{prm}_{key}")
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def test_sensors_and_device(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Values, units, classes and device of a producing PRM."""
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(paris, conso_sim, PROD_PRM)
    yesterday = NOW.date() - timedelta(days=1)
    assert float(sensor(paris, PROD_PRM, "daily_consumption")) == pytest.approx(
        conso_sim.daily_wh(PROD_PRM, yesterday) / 1000, abs=1e-3
    )
    assert float(sensor(paris, PROD_PRM, "daily_production")) == pytest.approx(
        conso_sim.daily_wh(PROD_PRM, yesterday, production=True) / 1000, abs=1e-3
    )
    va, peak_time = conso_sim.max_power(PROD_PRM, yesterday)
    assert float(sensor(paris, PROD_PRM, "max_power")) == pytest.approx(va / 1000, abs=1e-3)
    assert sensor(paris, PROD_PRM, "last_data_date") == yesterday.isoformat()
    assert sensor(paris, PROD_PRM, "calls_used") == str(len(conso_sim.calls))
    registry = er.async_get(paris)
    power_id = registry.async_get_entity_id("sensor", DOMAIN, f"{PROD_PRM}_max_power")
    assert power_id is not None
    power = paris.states.get(power_id)
    assert power is not None
    assert power.attributes["unit_of_measurement"] == "kVA"
    assert power.attributes["device_class"] == "apparent_power"
    assert power.attributes["peak_time"].strftime("%Y-%m-%d %H:%M:%S") == peak_time
    consumption_id = registry.async_get_entity_id("sensor", DOMAIN, f"{PROD_PRM}_daily_consumption")
    assert consumption_id is not None
    consumption = paris.states.get(consumption_id)
    assert consumption is not None
    assert "state_class" not in consumption.attributes
    assert consumption.attributes["device_class"] == "energy"
    next_sync = sensor(paris, PROD_PRM, "next_sync")
    assert next_sync.startswith((NOW + timedelta(days=1)).date().isoformat())
    assert next_sync.endswith("T07:30:17+00:00")
    expiry = sensor(paris, PROD_PRM, "token_expiry")
    assert expiry[:4] == "2029"
    device = dr.async_get(paris).async_get_device_by_identifier((DOMAIN, PROD_PRM), entry.entry_id)
    assert device is not None
    assert device.manufacturer == "Enedis"
    assert device.entry_type is dr.DeviceEntryType.SERVICE

    assert await paris.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert coordinator.budget.manager.budget.shares == {}


async def test_no_production_sensor_without_production(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A consumption-only PRM gets no production sensor and no production calls later."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    assert coordinator.state.production is False
    registry = er.async_get(paris)
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{PRM}_daily_production") is None
    production_calls = len(conso_sim.calls_of("production_quotidienne"))
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=2))
    assert len(conso_sim.calls_of("production_quotidienne")) == production_calls
    assert conso_sim.calls_of("courbe_de_charge_production") == []


async def test_diagnostics_hide_secrets(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Diagnostics show progress and never the token, the PRM or the URL."""
    freezer.move_to(NOW)
    entry, _ = await setup_linky(paris, conso_sim, PRM)
    diagnostics = await async_get_config_entry_diagnostics(paris, entry)
    text = str(diagnostics)
    for secret in (entry.data["token"], PRM, conso_sim.base_url, entry.data["token"][-20:]):
        assert secret not in text
    assert diagnostics["budget"]["calls_last_12h"] == len(conso_sim.calls)
    assert diagnostics["state"]["initialised"] is True
    assert diagnostics["state"]["outcomes"]["consommation_quotidienne"]["calls"] >= 3
    newest = diagnostics["newest_statistics"]["consumption"]
    assert newest["start"] == "2026-11-19T22:00:00+00:00"  # 23:00 Paris on the last day
    assert newest["sum"] > 0
    assert diagnostics["newest_statistics"]["max_power"]["max"] > 0
    assert diagnostics["newest_statistics"]["production"] is None
    assert diagnostics["state"]["missing_points"] == 0


async def test_expired_token_starts_reauth_without_calls(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A token past its `exp` is not even tried."""
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim, PRM, token=make_token([PRM], iat=NOW - timedelta(days=1100)))
    entry.add_to_hass(paris)
    assert not await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert conso_sim.calls == []
    flows = paris.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1


async def test_token_without_payload_has_no_expiry(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A token whose payload cannot be read still works; its expiry is unknown."""
    freezer.move_to(NOW)
    good = token_for(PRM)
    entry = linky_entry(conso_sim, PRM, token=good)
    entry.add_to_hass(paris)
    assert await paris.config_entries.async_setup(entry.entry_id)
    assert entry.runtime_data.token_expiry is not None
    assert sensor(paris, PRM, "token_expiry") != "unknown"
