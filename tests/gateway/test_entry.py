"""A Climkit Gateway entry in Home Assistant: entities, polling, faults, shared devices."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from itertools import pairwise

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_SCAN_INTERVAL,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.diagnostics import async_get_config_entry_diagnostics
from custom_components.linky_climkit.gateway.coordinator import GatewayCoordinator
from tests.conftest import CH_NOW, gateway_entry
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator

pytestmark = pytest.mark.usefixtures("recorder_mock")

ATTR_STATE_CLASS = "state_class"
LOGGER = "custom_components.linky_climkit.gateway.coordinator"
EXPECTED = {
    # (type, key): (device class, unit, state class)
    ("electricity", "power"): (SensorDeviceClass.POWER, "W", SensorStateClass.MEASUREMENT),
    ("electricity", "current_l1"): (SensorDeviceClass.CURRENT, "A", SensorStateClass.MEASUREMENT),
    ("electricity", "current_l2"): (SensorDeviceClass.CURRENT, "A", SensorStateClass.MEASUREMENT),
    ("electricity", "current_l3"): (SensorDeviceClass.CURRENT, "A", SensorStateClass.MEASUREMENT),
    ("electricity", "energy_import"): (
        SensorDeviceClass.ENERGY,
        "kWh",
        SensorStateClass.TOTAL_INCREASING,
    ),
    ("electricity", "energy_export"): (
        SensorDeviceClass.ENERGY,
        "kWh",
        SensorStateClass.TOTAL_INCREASING,
    ),
    ("heating", "heat_energy"): (
        SensorDeviceClass.ENERGY,
        "kWh",
        SensorStateClass.TOTAL_INCREASING,
    ),
    ("heating", "heat_power"): (SensorDeviceClass.POWER, "kW", SensorStateClass.MEASUREMENT),
    ("heating", "temperature_difference"): (
        SensorDeviceClass.TEMPERATURE_DELTA,
        "K",
        SensorStateClass.MEASUREMENT,
    ),
    ("heating", "flow_temperature"): (
        SensorDeviceClass.TEMPERATURE,
        "°C",
        SensorStateClass.MEASUREMENT,
    ),
    ("heating", "volume_flow_rate"): (
        SensorDeviceClass.VOLUME_FLOW_RATE,
        "m³/h",
        SensorStateClass.MEASUREMENT,
    ),
    ("cold_water", "water_volume"): (
        SensorDeviceClass.WATER,
        "m³",
        SensorStateClass.TOTAL_INCREASING,
    ),
    ("hot_water", "water_volume"): (
        SensorDeviceClass.WATER,
        "m³",
        SensorStateClass.TOTAL_INCREASING,
    ),
}
ADDRESS_OF = {"electricity": 11, "heating": 40, "cold_water": 50, "hot_water": 51}


async def setup(
    hass: HomeAssistant, sim: ClimkitGatewaySimulator, entry: MockConfigEntry | None = None
) -> tuple[MockConfigEntry, GatewayCoordinator]:
    entry = entry or gateway_entry(sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry, entry.runtime_data


def entity_id(hass: HomeAssistant, meter_key: str, key: str) -> str:
    """The entity of one register of one meter of the (only) gateway entry."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    found = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_{meter_key}_{key}"
    )
    assert found is not None, (meter_key, key)
    return found


def state(hass: HomeAssistant, meter_key: str, key: str) -> str:
    current = hass.states.get(entity_id(hass, meter_key, key))
    assert current is not None
    return current.state


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 10) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_entities_per_meter_type(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Device class, unit and state class of every register, values from the gateway."""
    freezer.move_to(CH_NOW)
    await setup(hass, gateway_sim)
    for (meter_type, key), (device_class, unit, state_class) in EXPECTED.items():
        current = hass.states.get(entity_id(hass, f"{meter_type}_{ADDRESS_OF[meter_type]}", key))
        assert current is not None
        assert current.attributes[ATTR_DEVICE_CLASS] == device_class, key
        assert current.attributes[ATTR_UNIT_OF_MEASUREMENT] == unit, key
        assert current.attributes[ATTR_STATE_CLASS] == state_class, key
        assert current.state != STATE_UNAVAILABLE
    water = gateway_sim.meter(50)
    assert float(state(hass, "cold_water_50", "water_volume")) == gateway_sim.index(water)
    assert float(state(hass, "electricity_101", "power")) < 0  # a producer exports
    assert float(state(hass, "electricity_11", "energy_import")) == gateway_sim.index(
        gateway_sim.meter(11)
    )
    registry = er.async_get(hass)
    reading_time = registry.async_get(entity_id(hass, "electricity_11", "reading_time"))
    assert reading_time is not None
    assert reading_time.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    # 9 meters: one device each, under the gateway's own device.
    devices = dr.async_get(hass)
    entry_id = hass.config_entries.async_entries(DOMAIN)[0].entry_id
    gateway = devices.async_get_device_by_identifier((DOMAIN, "gateway_127.0.0.1"), entry_id)
    assert gateway is not None
    meter = devices.async_get_device_by_identifier(
        (DOMAIN, "gateway_127.0.0.1_heating_40"), entry_id
    )
    assert meter is not None
    assert meter.via_device_id == gateway.id
    assert meter.serial_number == "40"


async def test_values_move_and_polls_are_sequential(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Every 10 s one request per meter; indexes follow the meter."""
    freezer.move_to(CH_NOW)
    _entry, coordinator = await setup(hass, gateway_sim)
    first = float(state(hass, "electricity_11", "energy_import"))
    calls = len(gateway_sim.calls)
    assert calls == len(gateway_sim.meters)
    await poll(hass, freezer, 600)
    assert len(gateway_sim.calls) == 2 * calls
    assert gateway_sim.max_in_flight == 1
    later = float(state(hass, "electricity_11", "energy_import"))
    assert later == pytest.approx(first + 0.5 * 600 / 3600, abs=0.002)
    assert coordinator.update_interval == timedelta(seconds=10)


async def test_poll_never_overlaps_and_stops_on_unload(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A poll held by a slow meter is not started again; unloading stops the polling."""
    freezer.move_to(CH_NOW)
    entry, coordinator = await setup(hass, gateway_sim)
    before = len(gateway_sim.calls)
    gateway_sim.add_fault("timeout", address=12)
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    await asyncio.wait_for(gateway_sim.holding.wait(), 10)
    for _ in range(5):
        freezer.tick(timedelta(seconds=30))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert coordinator.polls == 2  # the first refresh and the held one, nothing more
    held = gateway_sim.calls[before : before + 3]
    assert [c.path for c in held] == [
        "/api/v1/meter/electricity/10/",
        "/api/v1/meter/electricity/11/",
        "/api/v1/meter/electricity/12/",
    ]
    gateway_sim.clear_faults()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert gateway_sim.max_in_flight == 1
    assert coordinator.polls == 2  # the next poll is timed from the end of this one
    await poll(hass, freezer)
    assert coordinator.polls == 3
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    unloaded = len(gateway_sim.calls)
    await poll(hass, freezer, 120)
    assert len(gateway_sim.calls) == unloaded


async def test_site_grid_and_solar_power(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The grid connection's signed power and the producers' power, on the gateway's device,
    as the Energy dashboard's power view takes them; unavailable while one of their meters
    does not answer."""
    freezer.move_to(CH_NOW)
    entry, coordinator = await setup(hass, gateway_sim)
    devices = dr.async_get(hass)
    gateway = devices.async_get_device_by_identifier((DOMAIN, "gateway_127.0.0.1"), entry.entry_id)
    assert gateway is not None
    readings = coordinator.data.readings
    expected = {
        "grid_power": readings["electricity_10"].values["total_W"],
        "solar_power": abs(readings["electricity_101"].values["total_W"]),
    }
    assert expected["grid_power"] > 0  # the site draws from the grid
    assert readings["electricity_101"].values["total_W"] < 0  # the producer reports export
    for key, value in expected.items():
        current = hass.states.get(entity_id(hass, "gateway", key))
        assert current is not None
        assert current.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.POWER
        assert current.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
        assert current.attributes[ATTR_STATE_CLASS] == SensorStateClass.MEASUREMENT
        assert float(current.state) == pytest.approx(value, abs=0.1), key
        registered = er.async_get(hass).async_get(entity_id(hass, "gateway", key))
        assert registered is not None
        assert registered.device_id == gateway.id
    gateway_sim.add_fault("invalid", address=101)
    await poll(hass, freezer)
    assert state(hass, "gateway", "solar_power") == STATE_UNAVAILABLE
    assert state(hass, "gateway", "grid_power") != STATE_UNAVAILABLE
    gateway_sim.clear_faults()
    await poll(hass, freezer)
    assert state(hass, "gateway", "solar_power") != STATE_UNAVAILABLE


async def test_the_energy_dashboard_takes_the_power_sensors(
    hass: HomeAssistant,
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Saved as the grid connection's, the solar's and a device's power in the Energy
    preferences, none of them draws a validation issue."""
    assert await async_setup_component(hass, "energy", {})
    # Home Assistant logs the test client's own access token at DEBUG when it connects.
    caplog.set_level(logging.INFO, logger="homeassistant.components.websocket_api")
    client = await hass_ws_client(hass)  # (its token is checked now, before the clock moves)
    freezer.move_to(CH_NOW)
    await setup(hass, gateway_sim)
    now = dt_util.utcnow()
    start = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    for _ in range(6):  # ten minutes of readings, then their 5-minute statistics
        await poll(hass, freezer, 100)
    for period in range(2):
        do_adhoc_statistics(hass, start=start + timedelta(minutes=5 * period))
    await async_wait_recording_done(hass)
    power = {
        "grid": entity_id(hass, "gateway", "grid_power"),
        "solar": entity_id(hass, "gateway", "solar_power"),
        "device": entity_id(hass, "electricity_11", "power"),
    }
    energy = {
        "import": entity_id(hass, "electricity_10", "energy_import"),
        "export": entity_id(hass, "electricity_10", "energy_export"),
        "solar": entity_id(hass, "electricity_101", "energy_export"),
        "device": entity_id(hass, "electricity_11", "energy_import"),
    }
    await client.send_json_auto_id(
        {
            "type": "energy/save_prefs",
            "energy_sources": [
                {
                    "type": "grid",
                    "stat_energy_from": energy["import"],
                    "stat_energy_to": energy["export"],
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                    "stat_compensation": None,
                    "entity_energy_price_export": None,
                    "number_energy_price_export": None,
                    "cost_adjustment_day": 0.0,
                    "power_config": {"stat_rate": power["grid"]},
                },
                {
                    "type": "solar",
                    "stat_energy_from": energy["solar"],
                    "stat_rate": power["solar"],
                    "config_entry_solar_forecast": None,
                },
            ],
            "device_consumption": [
                {"stat_consumption": energy["device"], "stat_rate": power["device"]}
            ],
        }
    )
    saved = await client.receive_json()
    assert saved["success"], saved
    await client.send_json_auto_id({"type": "energy/validate"})
    validation = await client.receive_json()
    assert validation["success"], validation
    result = validation["result"]
    groups = [*result["energy_sources"], *result["device_consumption"]]
    issues = [issue for group in groups for issue in group]
    checked = {entity for issue in issues for entity, _value in issue["affected_entities"]}
    assert not checked & set(power.values()), issues
    await client.send_json_auto_id({"type": "energy/get_prefs"})
    stored = (await client.receive_json())["result"]
    assert stored["energy_sources"][0]["power_config"] == {"stat_rate": power["grid"]}
    assert stored["energy_sources"][1]["stat_rate"] == power["solar"]


async def test_invalid_meter_is_unavailable_alone(
    hass: HomeAssistant,
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`valid: false` or a 500 for one meter: its entities only, one log line each way."""
    freezer.move_to(CH_NOW)
    await setup(hass, gateway_sim)
    gateway_sim.add_fault("invalid", address=50)
    gateway_sim.add_fault("server_error", address=40)
    caplog.clear()
    for _ in range(3):
        await poll(hass, freezer)
    assert state(hass, "cold_water_50", "water_volume") == STATE_UNAVAILABLE
    assert state(hass, "heating_40", "flow_temperature") == STATE_UNAVAILABLE
    assert state(hass, "electricity_11", "power") != STATE_UNAVAILABLE
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == LOGGER]
    assert len(warnings) == 2
    assert "invalid data" in " ".join(r.getMessage() for r in warnings)
    gateway_sim.clear_faults()
    caplog.clear()
    await poll(hass, freezer)
    await poll(hass, freezer)
    assert state(hass, "cold_water_50", "water_volume") != STATE_UNAVAILABLE
    back = [r for r in caplog.records if "answers again" in r.getMessage()]
    assert len(back) == 2


async def test_unreachable_gateway_recovers_and_repairs_after_an_hour(
    hass: HomeAssistant,
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Gateway off: everything unavailable, one error line, an issue only after an hour."""
    freezer.move_to(CH_NOW)
    entry, coordinator = await setup(hass, gateway_sim)
    port = gateway_sim.port
    await gateway_sim.stop()
    caplog.clear()
    issues = ir.async_get(hass)
    issue = f"gateway_unreachable_{entry.entry_id}"
    for _ in range(3):
        await poll(hass, freezer)
    assert state(hass, "electricity_11", "power") == STATE_UNAVAILABLE
    assert not coordinator.last_update_success
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == LOGGER]
    assert len(errors) == 1
    assert issues.async_get_issue(DOMAIN, issue) is None
    await poll(hass, freezer, 3600)
    assert issues.async_get_issue(DOMAIN, issue) is not None
    await gateway_sim.start(port)
    await poll(hass, freezer)
    assert coordinator.last_update_success
    assert state(hass, "electricity_11", "power") != STATE_UNAVAILABLE
    assert issues.async_get_issue(DOMAIN, issue) is None


async def test_setup_retries_when_the_gateway_is_off(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator
) -> None:
    entry = gateway_entry(gateway_sim)
    await gateway_sim.stop()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_index_going_down_is_never_negative_energy(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A wrong low reading is held; a replaced meter carries on from the reported value."""
    freezer.move_to(CH_NOW)
    await setup(hass, gateway_sim)
    before = float(state(hass, "electricity_11", "energy_import"))
    gateway_sim.drop_index(11, 8000.0)  # one poll reads 8000 kWh less
    await poll(hass, freezer)
    assert float(state(hass, "electricity_11", "energy_import")) == before
    gateway_sim.drop_index(11, 0.0)
    await poll(hass, freezer)
    recovered = float(state(hass, "electricity_11", "energy_import"))
    assert before <= recovered < before + 0.01
    # Now a new meter: the lower index stays; after 30 minutes it is accepted as a reset.
    gateway_sim.drop_index(11, 8000.0)
    values = []
    for _ in range(40):
        await poll(hass, freezer, 60)
        values.append(float(state(hass, "electricity_11", "energy_import")))
    assert values == sorted(values)
    assert values[-1] == pytest.approx(recovered + 0.5 * 40 / 60, abs=0.02)
    current = hass.states.get(entity_id(hass, "electricity_11", "energy_import"))
    assert current is not None
    assert current.attributes["meter_index"] == gateway_sim.index(gateway_sim.meter(11))


async def test_options_change_the_interval(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(CH_NOW)
    entry, _ = await setup(hass, gateway_sim)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "gateway_poll"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 30}
    )
    await hass.async_block_till_done()
    assert entry.options == {CONF_SCAN_INTERVAL: 30}
    assert entry.runtime_data.update_interval == timedelta(seconds=30)
    calls = len(gateway_sim.calls)
    await poll(hass, freezer, 15)
    assert len(gateway_sim.calls) == calls
    await poll(hass, freezer, 16)
    assert len(gateway_sim.calls) == calls + len(gateway_sim.meters)


async def test_diagnostics_hide_the_host(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(CH_NOW)
    entry, _ = await setup(hass, gateway_sim)
    gateway_sim.add_fault("invalid", address=50)
    await poll(hass, freezer)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert "127.0.0.1" not in str(diagnostics)
    meters = {(m["type"], m["bus_address"]): m for m in diagnostics["meters"]}
    assert meters[("cold_water", 50)]["reading"]["valid"] is False
    assert meters[("cold_water", 50)]["unavailable_because"]
    assert meters[("electricity", 11)]["reading"]["values"]["en_im"] > 0
    assert diagnostics["poll"]["interval_seconds"] == 10


async def test_recorder_statistics_of_an_index_that_drops(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Read back from the recorder: Home Assistant's own 5-minute sums of the import index
    only grow, through a glitch and a meter replacement, by what the meter really counted."""
    freezer.move_to(CH_NOW)  # on a 5-minute boundary
    await setup(hass, gateway_sim)
    energy = entity_id(hass, "electricity_11", "energy_import")
    start = dt_util.utcnow()
    minutes = 45
    for minute in range(1, minutes + 1):
        if minute == 7:
            gateway_sim.drop_index(11, 8000.0)  # one wrong reading
        elif minute == 8:
            gateway_sim.drop_index(11, 0.0)
        elif minute == 12:
            gateway_sim.drop_index(11, 8000.0)  # a new meter from now on
        await poll(hass, freezer, 60)
    for period in range(minutes // 5):
        do_adhoc_statistics(hass, start=start + timedelta(minutes=5 * period))
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        start + timedelta(minutes=minutes),
        {energy},
        "5minute",
        None,
        {"sum", "state"},
    )
    sums = [row["sum"] for row in rows[energy]]
    assert len(sums) == minutes // 5
    assert all(later >= earlier for earlier, later in pairwise(sums))
    # 0.5 kW for 45 minutes, less the first poll of the first period.
    assert sums[-1] == pytest.approx(0.5 * (minutes - 1) / 60, abs=0.02)
