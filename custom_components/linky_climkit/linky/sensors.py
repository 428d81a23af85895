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
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfApparentPower, UnitOfEnergy
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from ..model import MeterIndex, Register
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
        key="meter_index",
        translation_key="meter_index",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,  # what the meter's display shows
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda d: None if d.index is None else d.index.total,
        attrs_fn=lambda d: None if d.index is None else _reading_attributes(d.index),
    ),
    LinkySensorDescription(
        key="production_index",
        translation_key="production_index",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda d: None if d.production_index is None else d.production_index.total,
        attrs_fn=lambda d: (
            None if d.production_index is None else _reading_attributes(d.production_index)
        ),
        available_fn=lambda d: bool(d.has_production),
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
    if not coordinator.read_registers:
        skip.add("meter_index")
    if not coordinator.read_registers or coordinator.data.has_production is False:
        skip.add("production_index")
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


def _reading_attributes(index: MeterIndex) -> dict[str, Any]:
    return {
        "read_on": index.day,  # at the start of that day
        "calendar": index.calendar_label or index.calendar,
    }


@callback
def track_registers(
    coordinator: LinkyCoordinator, add_entities: Callable[[list[SensorEntity]], None]
) -> CALLBACK_TYPE:
    """One sensor per register of the meter's calendar, added as the registers are first
    read (a new contract's calendar brings its own)."""
    known: set[tuple[bool, str]] = set()

    @callback
    def add_new() -> None:
        data = coordinator.data
        new: list[SensorEntity] = []
        for production in (False, True):
            index = None if data is None else (data.production_index if production else data.index)
            for register in index.registers if index else ():
                if (production, register.code) not in known:
                    known.add((production, register.code))
                    new.append(LinkyRegisterSensor(coordinator, register, production=production))
        if new:
            add_entities(new)

    add_new()
    return coordinator.async_add_listener(add_new)


class LinkyRegisterSensor(CoordinatorEntity[LinkyCoordinator], SensorEntity):
    """One register of the meter (a period of its supplier calendar), named as the calendar
    names it."""

    _attr_has_entity_name = True
    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 3

    def __init__(
        self, coordinator: LinkyCoordinator, register: Register, *, production: bool
    ) -> None:
        """Attach to the PRM's device."""
        super().__init__(coordinator)
        self._code = register.code
        self._production = production
        kind = "production_register" if production else "meter_register"
        self._attr_translation_key = kind
        self._attr_translation_placeholders = {"label": register.label}
        prefix = "production_register" if production else "register"
        self._attr_unique_id = f"{coordinator.prm}_{prefix}_{register.code.lower()}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, coordinator.prm)})

    def _index(self) -> MeterIndex | None:
        data = self.coordinator.data
        return data.production_index if self._production else data.index

    def _register(self) -> Register | None:
        index = self._index()
        return next((r for r in index.registers if r.code == self._code), None) if index else None

    @property
    def available(self) -> bool:
        """Unavailable when the meter's calendar has no such register any more."""
        return super().available and self._register() is not None

    @property
    def native_value(self) -> float | None:
        """The register's reading."""
        register = self._register()
        return None if register is None else register.value

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """When it was read, the register's code and its calendar."""
        index = self._index()
        if index is None:
            return None
        return {**_reading_attributes(index), "register": self._code}
