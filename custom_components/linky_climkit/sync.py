"""What every provider's coordinator shares: no polling interval, its own timer."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import DOMAIN

_LOGGER = logging.getLogger(__package__)


class SyncRefused(Exception):
    """The `sync_now` action cannot run; `key` is the translation key of the reason."""

    def __init__(self, key: str) -> None:
        """Refused for `key`."""
        super().__init__(key)
        self.key = key


class ScheduledCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Runs when its own schedule says so (daily syncs, retries, backfill), never on a period."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, name: str) -> None:
        """No update_interval: `arm` decides the next run."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {name}",
            update_interval=None,
            always_update=False,
        )
        self.next_run: datetime | None = None
        self.auth_failed = False
        self._unsub_timer: CALLBACK_TYPE | None = None

    @callback
    def arm(self, when: datetime) -> None:
        """Run again at `when` (at least one second from now); never after refused credentials:
        nothing is called until the user gives new ones (the entry then reloads)."""
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        if self.auth_failed:
            self.next_run = None
            return
        self.next_run = max(when, dt_util.utcnow() + timedelta(seconds=1))
        self._unsub_timer = async_track_point_in_utc_time(self.hass, self._on_timer, self.next_run)

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._unsub_timer = None
        assert self.config_entry is not None
        self.config_entry.async_create_background_task(
            self.hass, self.async_refresh(), f"{self.name} sync"
        )

    @callback
    def async_cancel_timer(self) -> None:
        """Stop the schedule (unload)."""
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
