"""Sensors of a Linky PRM: the latest day's figures and the sync's own state.

Daily-value sensors have a device class but no state class: the Energy dashboard reads the
external statistics; a state class would make Home Assistant compile a second, day-late one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory, UnitOfApparentPower, UnitOfEnergy
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .coordinator import LinkyCoordinator
from .state import LinkyData

type Value = float | int | date | datetime | None


@dataclass(frozen=True, kw_only=True)
class LinkySensorDescription(SensorEntityDescription):
    """A sensor reading one value of LinkyData."""

    value_fn: Callable[[LinkyData], Value]
    attrs_fn: Callable[[LinkyData], Mapping[str, Any] | None] = lambda _: None
    available_fn: Callable[[LinkyData], bool] = lambda _: True
    is_cost: bool = False  # its unit is the tariff's currency


SENSORS: tuple[LinkySensorDescription, ...] = (
    LinkySensorDescription(
        key="daily_consumption",
        translation_key="daily_consumption",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda d: None if d.consumption is None else round(d.consumption[1], 3),
        attrs_fn=lambda d: None if d.consumption is None else {"day": d.consumption[0]},
    ),
    LinkySensorDescription(
        key="daily_production",
        translation_key="daily_production",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda d: None if d.production is None else round(d.production[1], 3),
        attrs_fn=lambda d: None if d.production is None else {"day": d.production[0]},
        available_fn=lambda d: bool(d.has_production),
    ),
    LinkySensorDescription(
        key="max_power",
        translation_key="max_power",
        device_class=SensorDeviceClass.APPARENT_POWER,
        native_unit_of_measurement=UnitOfApparentPower.KILO_VOLT_AMPERE,
        suggested_display_precision=2,
        value_fn=lambda d: None if d.peak is None else round(d.peak[1], 3),
        attrs_fn=lambda d: None if d.peak is None else {"day": d.peak[0], "peak_time": d.peak[2]},
    ),
    LinkySensorDescription(
        key="daily_cost",
        translation_key="daily_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda d: None if d.cost is None else d.cost[1],
        attrs_fn=lambda d: None if d.cost is None else {"day": d.cost[0]},
        is_cost=True,
    ),
    LinkySensorDescription(
        key="last_data_date",
        translation_key="last_data_date",
        device_class=SensorDeviceClass.DATE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: d.last_day,
    ),
    LinkySensorDescription(
        key="next_sync",
        translation_key="next_sync",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: d.next_sync,
    ),
    LinkySensorDescription(
        key="token_expiry",
        translation_key="token_expiry",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: d.token_expiry,
    ),
    LinkySensorDescription(
        key="calls_used",
        translation_key="calls_used",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement="calls",
        value_fn=lambda d: d.calls_used,
    ),
    LinkySensorDescription(
        key="missing_days",
        translation_key="missing_days",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement="d",
        value_fn=lambda d: sum(counts["missing"] for counts in d.completeness.values()),
        attrs_fn=lambda d: d.completeness,
    ),
)


def linky_sensors(coordinator: LinkyCoordinator) -> list[LinkySensor]:
    """One set of sensors per PRM; production only when the PRM produces, cost only with a
    tariff."""
    skip = set()
    if coordinator.data.has_production is False:
        skip.add("daily_production")
    if coordinator.costs.tariff is None or not coordinator.costs.tariff.periods:
        skip.add("daily_cost")
    return [LinkySensor(coordinator, d) for d in SENSORS if d.key not in skip]


class LinkySensor(CoordinatorEntity[LinkyCoordinator], SensorEntity):
    """A sensor of one PRM device."""

    _attr_has_entity_name = True
    entity_description: LinkySensorDescription

    def __init__(self, coordinator: LinkyCoordinator, description: LinkySensorDescription) -> None:
        """Attach to the PRM's device."""
        super().__init__(coordinator)
        self.entity_description = description
        if description.is_cost:  # a new tariff reloads the entry, and so its entities
            self._attr_native_unit_of_measurement = coordinator.costs.currency
        self._attr_unique_id = f"{coordinator.prm}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, coordinator.prm)},
            name=f"Linky {coordinator.prm}",
            manufacturer="Enedis",
            model="Linky",
            entry_type=DeviceEntryType.SERVICE,
            configuration_url="https://conso.boris.sh",
        )

    @property
    def available(self) -> bool:
        """Unavailable after a failed sync, or when the value cannot exist."""
        return super().available and self.entity_description.available_fn(self.coordinator.data)

    @property
    def native_value(self) -> Value:
        """The value from the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The day the value belongs to (and the peak's time)."""
        return self.entity_description.attrs_fn(self.coordinator.data)
