"""The config entry type shared by the platforms."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .climkit_coordinator import ClimkitCoordinator
from .coordinator import LinkyCoordinator

type LinkyClimkitConfigEntry = ConfigEntry[LinkyCoordinator | ClimkitCoordinator]
