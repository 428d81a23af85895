"""Sensors of a Climkit site and of its meters: the latest complete day and the sync's state.

As for Linky, daily values have a device class but no state class: the Energy dashboard uses
the external statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.sensor.const import DEVICE_CLASS_UNITS
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfVolume
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from ..model import Channel
from ..providers.climkit_model import MeterInfo, SiteSensor, meter_label
from ..providers.climkit_parse import channel_of_type
from .coordinator import ClimkitCoordinator
from .site_sensors import SiteSensorsCoordinator
from .state import ClimkitData

type Value = float | datetime | None


@dataclass(frozen=True, kw_only=True)
class ClimkitSensorDescription(SensorEntityDescription):
    """A sensor reading one value of ClimkitData for one owner (site or meter)."""

    value_fn: Callable[[ClimkitData, str], Value]
    attrs_fn: Callable[[ClimkitData, str], Mapping[str, Any] | None] = lambda _d, _o: None
    is_cost: bool = False  # its unit is the tariff's currency


def _energy(key: str, channel: Channel) -> ClimkitSensorDescription:
    return ClimkitSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda d, o: _round(d.value(o, channel)),
        attrs_fn=lambda d, o: _day(d.value(o, channel)),
    )


def _round(value: tuple[Any, float] | None) -> float | None:
    return None if value is None else round(value[1], 3)


def _day(value: tuple[Any, float] | None) -> Mapping[str, Any] | None:
    return None if value is None else {"day": value[0]}


def _ratio(data: ClimkitData, owner: str, part: Channel, whole: Channel) -> float | None:
    numerator, denominator = data.value(owner, part), data.value(owner, whole)
    if numerator is None or denominator is None or numerator[0] != denominator[0]:
        return None
    if denominator[1] <= 0:
        return None
    return round(min(100.0, 100 * numerator[1] / denominator[1]), 1)


SELF_SUFFICIENCY = ClimkitSensorDescription(
    key="self_sufficiency",
    translation_key="self_sufficiency",
    native_unit_of_measurement=PERCENTAGE,
    suggested_display_precision=0,
    value_fn=lambda d, o: _ratio(d, o, Channel.SELF_CONSUMPTION, Channel.CONSUMPTION),
    attrs_fn=lambda d, o: _day(d.value(o, Channel.CONSUMPTION)),
)
SELF_CONSUMPTION_RATE = ClimkitSensorDescription(
    key="self_consumption_rate",
    translation_key="self_consumption_rate",
    native_unit_of_measurement=PERCENTAGE,
    suggested_display_precision=0,
    value_fn=lambda d, o: _ratio(d, o, Channel.SELF_CONSUMPTION, Channel.PRODUCTION),
    attrs_fn=lambda d, o: _day(d.value(o, Channel.PRODUCTION)),
)
LAST_DATA = ClimkitSensorDescription(
    key="last_data_time",
    translation_key="last_data_time",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda d, _o: d.last_data_end,
    attrs_fn=lambda d, _o: (
        None if d.site is None else {"address": d.site.address, "time_zone": d.site.timezone}
    ),
)
COST = ClimkitSensorDescription(
    key="daily_cost",
    translation_key="daily_cost",
    device_class=SensorDeviceClass.MONETARY,
    suggested_display_precision=2,
    value_fn=lambda d, _o: None if d.cost is None else d.cost[1],
    attrs_fn=lambda d, _o: None if d.cost is None else {"day": d.cost[0]},
    is_cost=True,
)
NEXT_SYNC = ClimkitSensorDescription(
    key="next_sync",
    translation_key="next_sync",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda d, _o: d.next_sync,
)
MISSING_DAYS = ClimkitSensorDescription(
    key="missing_days",
    translation_key="missing_days",
    entity_category=EntityCategory.DIAGNOSTIC,
    native_unit_of_measurement="d",
    value_fn=lambda d, _o: d.completeness.get("missing"),
    attrs_fn=lambda d, _o: d.completeness,
)
SITE_ENERGY = [
    _energy("consumption", Channel.CONSUMPTION),
    _energy("production", Channel.PRODUCTION),
    _energy("self_consumption", Channel.SELF_CONSUMPTION),
    _energy("grid_import", Channel.GRID_IMPORT),
    _energy("grid_export", Channel.GRID_EXPORT),
]
BATTERY = [
    _energy("battery_charge", Channel.BATTERY_CHARGE),
    _energy("battery_discharge", Channel.BATTERY_DISCHARGE),
]
CONSUMER = [
    _energy("consumption", Channel.CONSUMPTION),
    _energy("self_consumption", Channel.SELF_CONSUMPTION),
    _energy("grid_import", Channel.GRID_IMPORT),
    SELF_SUFFICIENCY,
]
PRODUCER = [_energy("production", Channel.PRODUCTION)]
WATER = ClimkitSensorDescription(
    key="water",
    translation_key="water",
    device_class=SensorDeviceClass.WATER,
    native_unit_of_measurement=UnitOfVolume.CUBIC_METERS,
    suggested_display_precision=3,
    value_fn=lambda d, o: _round(d.value(o, Channel.WATER)),
    attrs_fn=lambda d, o: _day(d.value(o, Channel.WATER)),
)
HEAT = _energy("heat", Channel.HEAT)


METER_LAST_DATA = ClimkitSensorDescription(
    key="last_data_time",
    translation_key="last_data_time",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda d, _o: d.last_data_end,
)


def _meter_descriptions(meter: MeterInfo) -> list[ClimkitSensorDescription]:
    if meter.type != "electricity":
        return [WATER if channel_of_type(meter.type) is Channel.WATER else HEAT, METER_LAST_DATA]
    return [*(PRODUCER if meter.role == "production" else CONSUMER), METER_LAST_DATA]


def climkit_sensors(
    hass: HomeAssistant,
    coordinator: ClimkitCoordinator,
    site_sensors: SiteSensorsCoordinator,
    other_devices: Set[tuple[str, str]] = frozenset(),
) -> list[SensorEntity]:
    """Site sensors (the site's own sensors among them), then each exposed meter's sensors
    on its own device (via the site's).
    The entry's devices that are neither the site nor its meters are removed, except
    `other_devices` (the site's gateway)."""
    site_id = coordinator.site_id
    data = coordinator.data
    site_name = data.site.name if data.site else site_id
    site_device = DeviceInfo(
        identifiers={(DOMAIN, site_id)},
        name=f"Climkit {site_name}",
        manufacturer="Climkit",
        model="Self-consumption community",
        serial_number=data.site.site_ref if data.site else None,
        entry_type=DeviceEntryType.SERVICE,
        configuration_url="https://app.climkit.io",
    )
    site_descriptions = [
        *SITE_ENERGY,
        SELF_SUFFICIENCY,
        SELF_CONSUMPTION_RATE,
        LAST_DATA,
        NEXT_SYNC,
        MISSING_DAYS,
    ]
    if data.storage:
        site_descriptions[5:5] = BATTERY
    tariff = coordinator.costs.tariff
    if tariff is not None and tariff.periods:
        site_descriptions.append(COST)
    entities: list[SensorEntity] = [
        ClimkitSensor(coordinator, site_id, d, site_device) for d in site_descriptions
    ]
    entities += [SiteSensorEntity(site_sensors, s, site_device) for s in site_sensors.data.sensors]
    assert coordinator.config_entry is not None
    entry_id = coordinator.config_entry.entry_id
    registry = dr.async_get(hass)
    site_entry = registry.async_get_or_create(config_entry_id=entry_id, **site_device)
    current = {(DOMAIN, site_id), *((DOMAIN, m.id) for m in data.meters), *other_devices}
    for stale in dr.async_entries_for_config_entry(registry, entry_id):
        if not stale.identifiers & current:  # a meter the site no longer has
            registry.async_remove_device(stale.id)
    for meter in data.meters:
        device = DeviceInfo(
            identifiers={(DOMAIN, meter.id)},
            name=meter_label(meter),
            manufacturer="Climkit",
            model=f"{meter.type.replace('_', ' ').capitalize()} meter",
            model_id=meter.role,
            serial_number=None if meter.prim_ad is None else str(meter.prim_ad),
            via_device_id=site_entry.id,
        )
        entities += [
            ClimkitSensor(coordinator, meter.id, d, device) for d in _meter_descriptions(meter)
        ]
    return entities


class ClimkitSensor(CoordinatorEntity[ClimkitCoordinator], SensorEntity):
    """A sensor of a Climkit site or meter device."""

    _attr_has_entity_name = True
    entity_description: ClimkitSensorDescription

    def __init__(
        self,
        coordinator: ClimkitCoordinator,
        owner: str,
        description: ClimkitSensorDescription,
        device: DeviceInfo,
    ) -> None:
        """Attach to the owner's device."""
        super().__init__(coordinator)
        self.entity_description = description
        if description.is_cost:  # a new tariff reloads the entry, and so its entities
            self._attr_native_unit_of_measurement = coordinator.costs.currency
        self._owner = owner
        self._attr_unique_id = f"{owner}_{description.key}"
        self._attr_device_info = device

    @property
    def native_value(self) -> Value:
        """The value from the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data, self._owner)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The day the value belongs to."""
        return self.entity_description.attrs_fn(self.coordinator.data, self._owner)


SENSOR_TYPES: Mapping[str, SensorDeviceClass] = {
    "temperature": SensorDeviceClass.TEMPERATURE,
    "humidity": SensorDeviceClass.HUMIDITY,
    "co2": SensorDeviceClass.CO2,
    "pressure": SensorDeviceClass.PRESSURE,
    "illuminance": SensorDeviceClass.ILLUMINANCE,
    "luminosity": SensorDeviceClass.ILLUMINANCE,
    "power": SensorDeviceClass.POWER,
    "voltage": SensorDeviceClass.VOLTAGE,
    "current": SensorDeviceClass.CURRENT,
}
UNIT_SPELLINGS = {"C": "°C", "degC": "°C", "ºC": "°C", "F": "°F", "lux": "lx", "mbar": "mbar"}


def sensor_class(sensor: SiteSensor) -> tuple[SensorDeviceClass | None, str | None]:
    """The device class of a Climkit sensor type and its unit, as Home Assistant spells them.
    A unit the device class does not allow drops the device class, not the unit."""
    unit = UNIT_SPELLINGS.get(sensor.unit or "", sensor.unit)
    device_class = SENSOR_TYPES.get(sensor.type.lower())
    if device_class is not None and unit not in DEVICE_CLASS_UNITS.get(device_class, {unit}):
        device_class = None
    return device_class, unit


class SiteSensorEntity(CoordinatorEntity[SiteSensorsCoordinator], SensorEntity):
    """A sensor of the site (`sensors_list`): its newest value and when it was measured."""

    _attr_has_entity_name = True
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(
        self, coordinator: SiteSensorsCoordinator, sensor: SiteSensor, device: DeviceInfo
    ) -> None:
        """Named as Climkit names it, on the site's device."""
        super().__init__(coordinator)
        self._sensor_id = sensor.id
        self._attr_unique_id = f"{coordinator.site_id}_sensor_{sensor.id}"
        self._attr_translation_key = "site_sensor"
        self._attr_translation_placeholders = {"name": sensor.name}
        self._attr_device_class, self._attr_native_unit_of_measurement = sensor_class(sensor)
        self._attr_device_info = device
        self._model = sensor.model

    @property
    def native_value(self) -> float | None:
        """The newest value read."""
        value = self.coordinator.data.values.get(self._sensor_id)
        return None if value is None else value[1]

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """When the newest value was measured, and the probe's model."""
        value = self.coordinator.data.values.get(self._sensor_id)
        return {
            "measured_at": None if value is None else value[0].isoformat(),
            "model": self._model,
        }
