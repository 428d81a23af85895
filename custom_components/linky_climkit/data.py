"""The config entry type shared by the platforms."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .climkit.coordinator import ClimkitCoordinator
from .gateway.coordinator import GatewayCoordinator
from .linky.coordinator import LinkyCoordinator

type AnyCoordinator = LinkyCoordinator | ClimkitCoordinator | GatewayCoordinator
type LinkyClimkitConfigEntry = ConfigEntry[AnyCoordinator]
