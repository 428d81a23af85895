"""The config entry type shared by the platforms."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .climkit_coordinator import ClimkitCoordinator
from .coordinator import LinkyCoordinator
from .gateway_coordinator import GatewayCoordinator

type AnyCoordinator = LinkyCoordinator | ClimkitCoordinator | GatewayCoordinator
type LinkyClimkitConfigEntry = ConfigEntry[AnyCoordinator]
