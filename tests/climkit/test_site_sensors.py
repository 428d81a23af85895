"""The Climkit site's own sensors (`sensors_list`): entities, daily and hourly refresh, on a
coordinator of their own (`climkit/site_sensors.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from custom_components.linky_climkit.climkit.sensors import sensor_class
from custom_components.linky_climkit.const import CONF_SITE_SENSORS_HOURLY, DOMAIN
from custom_components.linky_climkit.providers.climkit_model import SiteSensor
from tests.conftest import CH_NOW
from tests.helpers.time_travel import setup_climkit_site
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")
SENSOR_ID = ClimkitSimulator.sensor_id(DEMO_SITE_ID)


async def setup(
    hass: HomeAssistant,
    sim: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
    options: dict[str, Any] | None = None,
) -> tuple[MockConfigEntry, ClimkitCoordinator]:
    """The demo site, history imported."""
    freezer.move_to(CH_NOW)
    return await setup_climkit_site(hass, sim, freezer, options)


async def move(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done(wait_background_tasks=True)


def sensor_state(hass: HomeAssistant) -> tuple[float, str]:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{DEMO_SITE_ID}_sensor_{SENSOR_ID}"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state), str(state.attributes["measured_at"])


def newest(sim: ClimkitSimulator, now: datetime) -> tuple[datetime, float]:
    return sim.sensor_values(DEMO_SITE_ID, now - timedelta(days=1), now)[-1]


async def test_site_sensor_entity(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Named and typed as Climkit lists it; the newest value and when it was measured."""
    await setup(hass, climkit_sim, freezer)
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{DEMO_SITE_ID}_sensor_{SENSOR_ID}"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.TEMPERATURE
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "°C"
    assert state.attributes["state_class"] == SensorStateClass.MEASUREMENT
    assert state.attributes["model"] == "PT1000"
    assert "Température chaufferie" in str(state.attributes["friendly_name"])
    at, value = newest(climkit_sim, CH_NOW)
    assert sensor_state(hass) == (value, at.isoformat())
    assert len(climkit_sim.calls_to("sensors_list")) == 1
    assert len(climkit_sim.calls_to("sensor_data")) == 1


async def test_refreshed_daily_not_hourly_by_default(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    _entry, coordinator = await setup(hass, climkit_sim, freezer)
    start = len(climkit_sim.calls_to("sensor_data"))
    await move(hass, freezer, CH_NOW + timedelta(hours=3))
    assert len(climkit_sim.calls_to("sensor_data")) == start
    assert coordinator.next_daily is not None
    daily = coordinator.next_daily
    await move(hass, freezer, daily)
    assert len(climkit_sim.calls_to("sensor_data")) == start + 1
    at, value = newest(climkit_sim, daily)
    assert sensor_state(hass) == (value, at.isoformat())


async def test_hourly_refresh_when_asked(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    entry, coordinator = await setup(
        hass, climkit_sim, freezer, options={CONF_SITE_SENSORS_HOURLY: True}
    )
    assert entry.runtime_data.site_sensors.update_interval == timedelta(hours=1)
    start = len(climkit_sim.calls_to("sensor_data"))
    read_at = coordinator.state.sensors_read_at
    assert read_at is not None
    await move(hass, freezer, read_at + timedelta(minutes=59))
    assert len(climkit_sim.calls_to("sensor_data")) == start
    await move(hass, freezer, read_at + timedelta(hours=1, minutes=1))
    assert len(climkit_sim.calls_to("sensor_data")) == start + 1
    now = coordinator.state.sensors_read_at
    assert now is not None
    assert now >= read_at + timedelta(hours=1)
    at, value = newest(climkit_sim, now)
    assert sensor_state(hass) == (value, at.isoformat())
    # Only the sensors were read: no energy call.
    assert climkit_sim.calls[-1].endpoint == "sensor_data"
    assert climkit_sim.calls[-2].endpoint == "sensors_list"


async def test_site_without_sensors(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    climkit_sim.add_fault("site_gone", paths={"sensors_list"})
    _entry, coordinator = await setup(hass, climkit_sim, freezer)
    assert coordinator.state.sensors == []
    assert coordinator.state.history_done
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{DEMO_SITE_ID}_sensor_{SENSOR_ID}"
        )
        is None
    )


@pytest.mark.parametrize(
    ("kind", "unit", "expected"),
    [
        ("temperature", "°C", (SensorDeviceClass.TEMPERATURE, "°C")),
        ("temperature", "C", (SensorDeviceClass.TEMPERATURE, "°C")),
        ("Humidity", "%", (SensorDeviceClass.HUMIDITY, "%")),
        ("co2", "ppm", (SensorDeviceClass.CO2, "ppm")),
        ("temperature", "furlongs", (None, "furlongs")),
        ("wind", "m/s", (None, "m/s")),
        ("pressure", None, (None, None)),
    ],
)
def test_sensor_class(
    kind: str, unit: str | None, expected: tuple[SensorDeviceClass | None, str | None]
) -> None:
    sensor = SiteSensor(id=SENSOR_ID, name="x", type=kind, unit=unit, model=None)
    assert sensor_class(sensor) == expected


async def test_option_turns_the_hourly_refresh_on(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    entry, _ = await setup(hass, climkit_sim, freezer)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "site_sensors"}
    )
    assert result["step_id"] == "site_sensors"
    await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITE_SENSORS_HOURLY: True}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options == {CONF_SITE_SENSORS_HOURLY: True}
    assert entry.runtime_data.site_sensors.hourly
    assert entry.runtime_data.site_sensors.update_interval == timedelta(hours=1)


async def test_sensor_gone_from_the_list_is_removed(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The daily sync sees the list change: the entry reloads without that sensor."""
    _entry, coordinator = await setup(hass, climkit_sim, freezer)
    unique_id = f"{DEMO_SITE_ID}_sensor_{SENSOR_ID}"
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id) is not None
    climkit_sim.add_fault("site_gone", paths={"sensors_list"})
    assert coordinator.next_daily is not None
    await move(hass, freezer, coordinator.next_daily)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id) is None


async def test_a_sensor_failure_leaves_the_daily_import_alone(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The sensors fail after the daily sync: the day is imported, only their entities are
    unavailable, until the next read."""
    entry, coordinator = await setup(hass, climkit_sim, freezer)
    climkit_sim.add_fault("server_error", paths={"sensor_data"})
    assert coordinator.next_daily is not None
    await move(hass, freezer, coordinator.next_daily)
    assert coordinator.have_yesterday()
    assert coordinator.last_update_success
    assert coordinator.state.backoff_until is None
    assert not entry.runtime_data.site_sensors.last_update_success
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{DEMO_SITE_ID}_sensor_{SENSOR_ID}"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "unavailable"
    climkit_sim.clear_faults()
    assert coordinator.next_daily is not None
    await move(hass, freezer, coordinator.next_daily)
    assert entry.runtime_data.site_sensors.last_update_success
    sensor_state(hass)


async def test_an_energy_failure_leaves_the_hourly_sensors_alone(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The daily sync fails and backs off: the sensors are still read every hour."""
    entry, coordinator = await setup(
        hass, climkit_sim, freezer, options={CONF_SITE_SENSORS_HOURLY: True}
    )
    climkit_sim.add_fault("server_error", paths={"site_data"})
    assert coordinator.next_daily is not None
    await move(hass, freezer, coordinator.next_daily)
    assert not coordinator.last_update_success
    assert coordinator.state.backoff_until is not None
    read_at = coordinator.state.sensors_read_at
    assert read_at is not None
    start = len(climkit_sim.calls_to("sensor_data"))
    await move(hass, freezer, read_at + timedelta(hours=1, minutes=1))
    assert len(climkit_sim.calls_to("sensor_data")) == start + 1
    assert entry.runtime_data.site_sensors.last_update_success
    assert not coordinator.have_yesterday()


async def test_hourly_read_sees_a_new_list(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """An hourly read outside any energy run: the entry reloads without the gone sensor."""
    entry, coordinator = await setup(
        hass, climkit_sim, freezer, options={CONF_SITE_SENSORS_HOURLY: True}
    )
    unique_id = f"{DEMO_SITE_ID}_sensor_{SENSOR_ID}"
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id) is not None
    climkit_sim.add_fault("site_gone", paths={"sensors_list"})
    read_at = coordinator.state.sensors_read_at
    assert read_at is not None
    await move(hass, freezer, read_at + timedelta(hours=1, minutes=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.coordinator is not coordinator  # reloaded
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id) is None
