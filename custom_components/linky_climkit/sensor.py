"""Sensor platform: Linky PRM sensors or Climkit site and meter sensors."""

from __future__ import annotations

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LinkyCoordinator
from .entry import LinkyClimkitConfigEntry
from .sensor_climkit import climkit_sensors
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
    else:
        entities = list(climkit_sensors(hass, coordinator))
    async_add_entities(entities)
