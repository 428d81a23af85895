"""The config entry type shared by the platforms, and what each kind of entry runs.

The wings are imported for type checking only: a wing may read `SiteMeters` without
importing the other wings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from homeassistant.config_entries import ConfigEntry

from .providers.climkit_model import MeterInfo

if TYPE_CHECKING:
    from .climkit.coordinator import ClimkitCoordinator
    from .climkit.site_sensors import SiteSensorsCoordinator
    from .gateway.coordinator import GatewayCoordinator
    from .linky.coordinator import LinkyCoordinator


@runtime_checkable
class SiteMeters(Protocol):
    """What a Climkit site entry's runtime tells the other wings: the site's meters."""

    @property
    def site_meters(self) -> Sequence[MeterInfo]:
        """Every meter of the site, as Climkit lists it."""
        ...


@dataclass(frozen=True, slots=True)
class SiteRuntime:
    """A Climkit site entry: the import of its energy, the reading of its own sensors, and
    the gateway it was given."""

    coordinator: ClimkitCoordinator
    site_sensors: SiteSensorsCoordinator
    gateway: GatewayCoordinator | None = None

    @property
    def site_meters(self) -> Sequence[MeterInfo]:
        """Every meter of the site, as Climkit lists it."""
        return self.coordinator.state.meters


type EntryRuntime = LinkyCoordinator | SiteRuntime | GatewayCoordinator
type LinkyClimkitConfigEntry = ConfigEntry[EntryRuntime]
