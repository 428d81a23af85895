"""The Climkit site's own sensors (`sensors_list`): the list and each one's newest value.

They are read after the site's discovery and after each daily sync, and every hour when the
options ask for it. A coordinator of their own keeps their failures out of the daily energy
import, and the import's out of them; a failure waits for a back-off of their own
(backoff.py: growing, capped, persisted). What they read stays where it always was, in the
site's stored state (`ClimkitState.sensors`, `sensor_values`, `sensors_read_at`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .. import backoff
from ..const import CONF_SITE_SENSORS_HOURLY, DOMAIN
from ..providers.climkit_model import SiteSensor
from ..providers.errors import AuthError, NoDataError, ProviderError
from ..repair_issues import local_time
from ..sync import UNEXPECTED_KEY, describe
from .coordinator import ClimkitCoordinator

_LOGGER = logging.getLogger(__name__)

SENSOR_LOOKBACK = timedelta(days=1)
SENSOR_PERIOD = timedelta(hours=1)

type SensorValues = dict[str, tuple[datetime, float]]


@dataclass(frozen=True, slots=True)
class SiteSensorsData:
    """What the site's sensor entities show."""

    sensors: tuple[SiteSensor, ...]
    values: SensorValues


class SiteSensorsCoordinator(DataUpdateCoordinator[SiteSensorsData]):
    """Reads the sensors of the site `energy` imports, with its client and into its state."""

    config_entry: ConfigEntry[Any]

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, energy: ClimkitCoordinator) -> None:
        """Every hour when the options say so; otherwise only when `energy` asks."""
        self.hourly = bool(entry.options.get(CONF_SITE_SENSORS_HOURLY, False))
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} climkit sensors",
            update_interval=SENSOR_PERIOD if self.hourly else None,
            always_update=False,
        )
        self.energy = energy
        self.site_id = energy.site_id
        energy.read_site_sensors = self.async_read_if_due

    @callback
    def async_restore(self) -> None:
        """Show what the site's stored state holds (read by `energy.async_restore`)."""
        self.data = self.snapshot()

    def snapshot(self) -> SiteSensorsData:
        """The values the entities show."""
        state = self.energy.state
        return SiteSensorsData(tuple(state.sensors), dict(state.sensor_values))

    def due(self, now: datetime, synced: bool) -> bool:
        """Whether an energy run (`synced`: the daily sync ran) reads the sensors: never
        read yet, after a daily sync, after a failed read, or an hour after the last read
        when asked hourly; never before a failed read's back-off is over."""
        state = self.energy.state
        if state.site is None or not backoff.gate_open(state.sensors_backoff, now):
            return False
        read_at = state.sensors_read_at
        if synced or read_at is None or state.sensors_backoff.backoff_seconds:
            return True  # (a failed read is tried again once its back-off is over)
        return self.hourly and bool(state.sensors) and now >= read_at + SENSOR_PERIOD

    async def async_read_if_due(self, synced: bool) -> None:
        """Read the sensors now if `due` says so; a failure stays in this coordinator."""
        if self.due(dt_util.utcnow(), synced):
            await self.async_refresh()

    async def _async_update_data(self) -> SiteSensorsData:
        state = self.energy.state
        now = dt_util.utcnow()
        if state.site is None:  # discovered by the energy coordinator first
            return self.snapshot()
        if not backoff.gate_open(state.sensors_backoff, now):
            if isinstance(self.last_exception, UpdateFailed):  # still failed: no call yet
                raise self.last_exception.with_traceback(None)
            return self.snapshot()
        try:
            sensors, values = await self._read(now)
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key=ClimkitCoordinator.AUTH_KEY
            ) from err
        except ProviderError as err:
            backoff.back_off(state.sensors_backoff, err, dt_util.utcnow())
            await self.energy.async_save()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=ClimkitCoordinator.ERROR_KEY,
                translation_placeholders={"error": str(err)},
            ) from err
        except Exception as err:
            until = backoff.back_off(state.sensors_backoff, err, dt_util.utcnow())
            await self.energy.async_save()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=UNEXPECTED_KEY,
                translation_placeholders={"error": describe(err), "until": local_time(until)},
            ) from None
        backoff.succeeded(state.sensors_backoff)
        changed = [s.id for s in sensors] != [s.id for s in state.sensors]
        state.sensors, state.sensor_values, state.sensors_read_at = sensors, values, now
        await self.energy.async_save()
        if changed:  # entities of new sensors are added, of gone ones removed, at the reload
            self.energy.async_reload_soon()
        return self.snapshot()

    async def _read(self, now: datetime) -> tuple[list[SiteSensor], SensorValues]:
        """The site's sensors and each one's newest value (1 + one call per sensor)."""
        client, site_id = self.energy.client, self.site_id
        try:
            sensors = await client.sensors_list(site_id)
        except NoDataError:
            sensors = []  # a site without sensors
        known = self.energy.state.sensor_values
        values: SensorValues = {}
        for sensor in sensors:
            last = known.get(sensor.id)
            start = now - SENSOR_LOOKBACK if last is None else max(now - SENSOR_LOOKBACK, last[0])
            try:
                points = await client.sensor_data(site_id, sensor.id, start, now)
            except NoDataError:
                points = []  # that sensor only: the site itself is fine
            newest = points[-1] if points else last
            if newest is not None:
                values[sensor.id] = newest
        return sensors, values
