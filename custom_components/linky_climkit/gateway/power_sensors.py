"""A site's live power from its Climkit Gateway, as the Energy dashboard's power view takes
it (Home Assistant 2026.3 and later), beside each meter's own power (sensors.py):

- grid power: the grid connection meter's (introduction, bus address 10) `total_W` as the
  gateway gives it, one signed value: positive while the site draws from the grid, negative
  while it feeds it (the dashboard's standard polarity);
- solar power: the producers' (addresses 100-199) `total_W` added up as magnitudes. Climkit's
  producers report negative power (climkit.md, assumed): the magnitude is right whatever the
  sign.

A sensor exists only when the gateway reads its meters, and is unavailable unless every one
of them answered with valid data (a partial sum would be wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfPower
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import GatewayCoordinator

POWER_REGISTER = "total_W"


@dataclass(frozen=True, kw_only=True)
class SitePowerDescription(SensorEntityDescription):
    """A site-level power: the meters of one role, and how their powers combine."""

    role: str
    combine: Callable[[Sequence[float]], float]


SITE_POWER = (
    SitePowerDescription(
        key="grid_power",
        translation_key="grid_power",
        role="introduction",
        combine=sum,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
    SitePowerDescription(
        key="solar_power",
        translation_key="solar_power",
        role="production",
        combine=lambda powers: sum(abs(p) for p in powers),
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
)
SITE_POWER_KEYS = frozenset(d.key for d in SITE_POWER)


def site_power_sensors(
    coordinator: GatewayCoordinator, device: DeviceInfo, prefix: str
) -> list[SensorEntity]:
    """The site-level power sensors whose meters this gateway reads."""
    sensors: list[SensorEntity] = []
    for description in SITE_POWER:
        keys = [
            c.meter.key
            for c in coordinator.meters
            if c.meter.type == "electricity" and c.meter.role == description.role
        ]
        if keys:
            unique_id = f"{prefix}_{description.key}"
            sensors.append(SitePowerSensor(coordinator, description, keys, device, unique_id))
    return sensors


class SitePowerSensor(CoordinatorEntity[GatewayCoordinator], SensorEntity):
    """One site-level power, as of the latest poll."""

    _attr_has_entity_name = True
    entity_description: SitePowerDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        description: SitePowerDescription,
        keys: list[str],
        device: DeviceInfo,
        unique_id: str,
    ) -> None:
        """On the gateway's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._keys = keys
        self._attr_unique_id = unique_id
        self._attr_device_info = device

    def _powers(self) -> list[float] | None:
        powers: list[float] = []
        for key in self._keys:
            data = self.coordinator.data
            reading = data.reading(key) if data else None
            value = (
                None if reading is None or not reading.valid else reading.values.get(POWER_REGISTER)
            )
            if not isinstance(value, int | float):
                return None
            powers.append(float(value))
        return powers

    @property
    def available(self) -> bool:
        """Every meter of the sum answered with a valid power."""
        return super().available and self._powers() is not None

    @property
    def native_value(self) -> float | None:
        """The combined power, in W."""
        powers = self._powers()
        return None if powers is None else round(self.entity_description.combine(powers), 1)
