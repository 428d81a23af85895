"""Live sensors of the meters a Climkit Gateway answers for: power, currents, indexes, water,
heat; and the site's grid and solar power (power_sensors.py). Indexes are `total_increasing` and
never go down (`index.py`), so Home Assistant's own statistics can feed the Energy dashboard's
devices and real-time cards.

A meter linked to a cloud entry's meter shares its device; otherwise it gets its own device,
under the gateway's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfVolume,
    UnitOfVolumeFlowRate,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.restore_state import ExtraStoredData, RestoredExtraData, RestoreEntity
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .coordinator import ConfiguredMeter, GatewayCoordinator
from .index import MonotonicIndex
from .power_sensors import SITE_POWER_KEYS, site_power_sensors


@dataclass(frozen=True, kw_only=True)
class GatewaySensorDescription(SensorEntityDescription):
    """One register of a gateway reading (`register` None: the reading's time)."""

    register: str | None
    index: bool = False


def _measurement(
    key: str, register: str, device_class: SensorDeviceClass, unit: str, precision: int
) -> GatewaySensorDescription:
    return GatewaySensorDescription(
        key=key,
        translation_key=key,
        register=register,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=precision,
    )


def _index(
    key: str, register: str, device_class: SensorDeviceClass, unit: str
) -> GatewaySensorDescription:
    return GatewaySensorDescription(
        key=key,
        translation_key=key,
        register=register,
        index=True,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3 if device_class is SensorDeviceClass.WATER else 2,
    )


READING_TIME = GatewaySensorDescription(
    key="reading_time",
    translation_key="reading_time",
    register=None,
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
)
CURRENT, POWER, ENERGY = (
    SensorDeviceClass.CURRENT,
    SensorDeviceClass.POWER,
    SensorDeviceClass.ENERGY,
)
AMPERE, KWH = UnitOfElectricCurrent.AMPERE, UnitOfEnergy.KILO_WATT_HOUR
ELECTRICITY = (
    _measurement("power", "total_W", POWER, UnitOfPower.WATT, 0),
    _measurement("current_l1", "L1_a", CURRENT, AMPERE, 2),
    _measurement("current_l2", "L2_a", CURRENT, AMPERE, 2),
    _measurement("current_l3", "L3_a", CURRENT, AMPERE, 2),
    _index("energy_import", "en_im", ENERGY, KWH),
    _index("energy_export", "en_ex", ENERGY, KWH),
)
HEATING = (
    _index("heat_energy", "heat_energy_kwh", ENERGY, KWH),
    _measurement("heat_power", "power_kw", POWER, UnitOfPower.KILO_WATT, 2),
    _measurement(
        "temperature_difference",
        "diff_temp",
        SensorDeviceClass.TEMPERATURE_DELTA,
        UnitOfTemperature.KELVIN,
        1,
    ),
    _measurement(
        "flow_temperature",
        "flow_temp",
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
        1,
    ),
    _measurement(
        "volume_flow_rate",
        "vol_flow_m3_h",
        SensorDeviceClass.VOLUME_FLOW_RATE,
        UnitOfVolumeFlowRate.CUBIC_METERS_PER_HOUR,
        3,
    ),
)
WATER = (_index("water_volume", "vol_m3", SensorDeviceClass.WATER, UnitOfVolume.CUBIC_METERS),)
BY_TYPE: Mapping[str, tuple[GatewaySensorDescription, ...]] = {
    "electricity": ELECTRICITY,
    "heating": HEATING,
    "cold_water": WATER,
    "hot_water": WATER,
}


def gateway_sensors(hass: HomeAssistant, coordinator: GatewayCoordinator) -> list[SensorEntity]:
    """Each configured meter's sensors: on the cloud meter's device when the gateway belongs
    to the site's entry, else on a device of its own under the gateway's."""
    entry = coordinator.config_entry
    assert entry is not None
    gateway = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={gateway_device(coordinator.host)},
        name=f"Climkit Gateway {coordinator.host}",
        manufacturer="Climkit",
        model="Gateway",
    )
    on_gateway = DeviceInfo(identifiers={gateway_device(coordinator.host)})
    entities = site_power_sensors(coordinator, on_gateway, f"{entry.entry_id}_gateway")
    for configured in coordinator.meters:
        if configured.meter_id is not None:
            # Registered with its full description by the site's own sensors.
            device = DeviceInfo(identifiers={(DOMAIN, configured.meter_id)})
            prefix = configured.meter_id
        else:
            device = _own_device(configured, coordinator.host, gateway.id)
            prefix = f"{entry.entry_id}_{configured.meter.key}"
        entities += [
            GatewaySensor(
                coordinator, configured, description, device, f"{prefix}_{description.key}"
            )
            for description in (*BY_TYPE[configured.meter.type], READING_TIME)
        ]
    return entities


def gateway_device(host: str) -> tuple[str, str]:
    """The identifier of a gateway's device."""
    return (DOMAIN, f"gateway_{host}")


def is_gateway_sensor(unique_id: str) -> bool:
    """Whether a unique id is one of a gateway meter's sensors."""
    keys = {d.key for descriptions in BY_TYPE.values() for d in descriptions}
    keys |= {READING_TIME.key, *SITE_POWER_KEYS}
    return any(unique_id.endswith(f"_{key}") for key in keys)


def _own_device(configured: ConfiguredMeter, host: str, gateway_id: str) -> DeviceInfo:
    meter = configured.meter
    return DeviceInfo(
        identifiers={(DOMAIN, f"gateway_{host}_{meter.key}")},
        name=configured.name,
        manufacturer="Climkit",
        model=f"{meter.type.replace('_', ' ').capitalize()} meter",
        serial_number=str(meter.address),
        via_device_id=gateway_id,
    )


class GatewaySensor(CoordinatorEntity[GatewayCoordinator], SensorEntity, RestoreEntity):
    """One register of one meter, as of the latest poll. An index never goes down and its
    offset (after a meter reset) survives restarts."""

    _attr_has_entity_name = True
    _unrecorded_attributes = frozenset({"meter_index"})
    entity_description: GatewaySensorDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        configured: ConfiguredMeter,
        description: GatewaySensorDescription,
        device: DeviceInfo,
        unique_id: str,
    ) -> None:
        """Attach to the meter's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._key = configured.meter.key
        self._attr_unique_id = unique_id
        self._attr_device_info = device
        self._index = MonotonicIndex() if description.index else None

    async def async_added_to_hass(self) -> None:
        """Restore an index's offset and last value, then take the current reading."""
        await super().async_added_to_hass()
        if self._index is not None:
            extra = await self.async_get_last_extra_data()
            self._index = MonotonicIndex.from_dict(extra.as_dict() if extra else None)
            self._take()

    def _raw(self) -> float | datetime | None:
        reading = self.coordinator.data.reading(self._key) if self.coordinator.data else None
        if reading is None or not reading.valid:
            return None
        register = self.entity_description.register
        if register is None:
            return reading.measured_at
        return reading.values.get(register)

    def _take(self) -> None:
        raw = self._raw()
        if self._index is not None and isinstance(raw, float | int):
            self._index.update(float(raw), dt_util.utcnow())

    @callback
    def _handle_coordinator_update(self) -> None:
        self._take()
        super()._handle_coordinator_update()

    @property
    def available(self) -> bool:
        """The gateway answered, the meter too, with valid data holding this register."""
        return super().available and self._raw() is not None

    @property
    def native_value(self) -> float | datetime | None:
        """The register's latest value; for an index, the reported (never lower) value."""
        raw = self._raw()
        if self._index is not None and raw is not None:
            return self._index.reported
        return raw

    @property
    def extra_restore_state_data(self) -> ExtraStoredData | None:
        """What the next start needs (indexes only)."""
        return None if self._index is None else RestoredExtraData(self._index.as_dict())

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The meter's own index, when it differs from the reported one (after a reset)."""
        raw = self._raw()
        if self._index is None or not isinstance(raw, float | int):
            return None
        return None if raw == self._index.reported else {"meter_index": raw}
