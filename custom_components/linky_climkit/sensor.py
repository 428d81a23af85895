"""Sensor platform: Linky PRM sensors, Climkit site and meter sensors, or a Climkit
Gateway's live meter sensors."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .climkit.sensors import climkit_sensors
from .data import LinkyClimkitConfigEntry
from .gateway.coordinator import GatewayCoordinator
from .gateway.sensors import gateway_device, gateway_sensors, is_gateway_sensor
from .linky.coordinator import LinkyCoordinator
from .linky.sensors import linky_sensors, track_registers

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LinkyClimkitConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's sensors."""
    runtime = entry.runtime_data
    entities: list[SensorEntity]
    if isinstance(runtime, LinkyCoordinator):
        entities = list(linky_sensors(runtime))
        if runtime.read_registers:
            entry.async_on_unload(track_registers(runtime, async_add_entities))
    elif isinstance(runtime, GatewayCoordinator):
        entities = gateway_sensors(hass, runtime)
    else:
        gateway = runtime.gateway
        other_devices = set() if gateway is None else {gateway_device(gateway.host)}
        entities = climkit_sensors(hass, runtime.coordinator, runtime.site_sensors, other_devices)
        if gateway is not None:
            entities += gateway_sensors(hass, gateway)
        site_sensor = f"{runtime.coordinator.site_id}_sensor_"
        _remove_stale(
            hass,
            entry.entry_id,
            {e.unique_id for e in entities},
            lambda uid: uid.startswith(site_sensor) or is_gateway_sensor(uid),
        )
    async_add_entities(entities)


def _remove_stale(
    hass: HomeAssistant, entry_id: str, wanted: set[str | None], ours: Callable[[str], bool]
) -> None:
    """Forget the site's sensors and gateway sensors the entry no longer has (a sensor gone
    from `sensors_list`, the gateway removed, a meter gone from it)."""
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry_id):
        if entity.unique_id not in wanted and ours(entity.unique_id):
            registry.async_remove(entity.entity_id)
