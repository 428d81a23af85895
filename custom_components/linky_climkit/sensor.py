"""Sensor platform: Linky PRM sensors, Climkit site and meter sensors, or a Climkit
Gateway's live meter sensors."""

from __future__ import annotations

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LinkyCoordinator
from .entry import LinkyClimkitConfigEntry
from .gateway_coordinator import GatewayCoordinator
from .sensor_climkit import climkit_sensors
from .sensor_gateway import gateway_sensors, remove_stale_gateway_sensors
from .sensor_linky import linky_sensors

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LinkyClimkitConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's sensors."""
    coordinator = entry.runtime_data
    entities: list[SensorEntity]
    if isinstance(coordinator, LinkyCoordinator):
        entities = list(linky_sensors(coordinator))
    elif isinstance(coordinator, GatewayCoordinator):
        entities = gateway_sensors(hass, coordinator)
    else:
        entities = climkit_sensors(hass, coordinator)
        if coordinator.gateway is not None:
            entities += gateway_sensors(hass, coordinator.gateway)
        remove_stale_gateway_sensors(hass, entry.entry_id, entities)
    async_add_entities(entities)
