"""The Climkit Gateway coordinator: every few seconds, one request per meter, one at a time.

A meter that does not answer, or answers `valid: false`, makes only its own entities
unavailable (one log line when it goes, one when it is back). When nothing answers, the
whole gateway is unavailable; a repair issue appears only if that lasts an hour.
DataUpdateCoordinator schedules the next poll when the current one ends, so polls never
overlap, and stops on unload.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..const import CONF_GATEWAY, CONF_METERS, DOMAIN
from ..providers.climkit_gateway import (
    DEFAULT_PORT,
    GatewayClient,
    GatewayMeter,
    GatewayReading,
    GatewayUnreachableError,
)
from ..providers.errors import ProviderError
from ..repair_issues import Problem, clear_problem, raise_problem

_LOGGER = logging.getLogger(__name__)

DEFAULT_SCAN_SECONDS = 10
MIN_SCAN_SECONDS = 5
MAX_SCAN_SECONDS = 60
REPAIR_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ConfiguredMeter:
    """A meter of a gateway entry; `meter_id` links it to the cloud entry's meter device."""

    meter: GatewayMeter
    name: str
    meter_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Stored in the entry's data."""
        return {
            "type": self.meter.type,
            "address": self.meter.address,
            "name": self.name,
            "meter_id": self.meter_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfiguredMeter:
        """Inverse of as_dict."""
        meter_id = data.get("meter_id")
        return cls(
            GatewayMeter(str(data["type"]), int(data["address"])),
            str(data.get("name") or f"{data['type']} {data['address']}"),
            None if meter_id is None else str(meter_id),
        )


@dataclass(frozen=True, slots=True)
class GatewayData:
    """The latest poll: the readings of the meters that answered."""

    readings: Mapping[str, GatewayReading]

    def reading(self, key: str) -> GatewayReading | None:
        """A meter's reading, None when it did not answer."""
        return self.readings.get(key)


def scan_seconds(options: Mapping[str, Any]) -> int:
    """The poll interval of an entry (5–60 s, 10 by default)."""
    seconds = int(options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_SECONDS))
    return min(MAX_SCAN_SECONDS, max(MIN_SCAN_SECONDS, seconds))


def site_gateway(entry: ConfigEntry) -> Mapping[str, Any] | None:
    """The gateway a Climkit site entry was given; None when it has none.

    Written to the entry's options (None once removed in the options flow); entries linked to
    their gateway before that keep it in their data, read when the options do not say.
    """
    settings: Mapping[str, Any] | None
    if CONF_GATEWAY in entry.options:
        settings = entry.options[CONF_GATEWAY] or None
    else:
        settings = entry.data.get(CONF_GATEWAY)
    return settings


def gateway_settings(entry: ConfigEntry) -> Mapping[str, Any] | None:
    """Host, port and meters of the entry's gateway: a gateway entry's own data, or the
    gateway a Climkit site entry was given; None when the entry has none."""
    if (linked := site_gateway(entry)) is not None:
        return linked
    if CONF_HOST in entry.data:
        return entry.data
    return None


class GatewayCoordinator(DataUpdateCoordinator[GatewayData]):
    """One gateway and the meters chosen in the config flow.

    It belongs to a gateway entry, or to the Climkit site entry it was linked to: devices
    belong to one config entry, so that is how its meters share the cloud meters' devices.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: GatewayClient,
        settings: Mapping[str, Any],
    ) -> None:
        """Polls every `scan_seconds(entry.options)` seconds."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} gateway {settings[CONF_HOST]}",
            update_interval=timedelta(seconds=scan_seconds(entry.options)),
            always_update=False,
        )
        self.client = client
        self.host: str = settings[CONF_HOST]
        self.port: int = int(settings.get(CONF_PORT, DEFAULT_PORT))
        self.meters: Sequence[ConfiguredMeter] = [
            ConfiguredMeter.from_dict(m) for m in settings[CONF_METERS]
        ]
        self.unreachable_since: datetime | None = None
        self.silent: set[str] = set()
        self.last_errors: dict[str, str] = {}
        self.polls = 0

    async def _async_update_data(self) -> GatewayData:
        self.polls += 1
        readings: dict[str, GatewayReading] = {}
        errors: dict[str, ProviderError] = {}
        for configured in self.meters:
            key = configured.meter.key
            try:
                readings[key] = await self.client.read(configured.meter)
            except GatewayUnreachableError as err:
                self._unreachable(err)
            except ProviderError as err:
                errors[key] = err
        if not readings:
            first = next(iter(errors.values()), None)
            self._unreachable(first)
        self._reachable()
        self._log_meters(readings, errors)
        return GatewayData(readings)

    def _unreachable(self, err: ProviderError | None) -> None:
        now = dt_util.utcnow()
        if self.unreachable_since is None:
            self.unreachable_since = now
        if now - self.unreachable_since >= REPAIR_AFTER:
            assert self.config_entry is not None
            raise_problem(
                self.hass,
                self.config_entry,
                Problem.GATEWAY_UNREACHABLE,
                {"host": f"{self.host}:{self.port}", "since": self._since()},
            )
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="gateway_unreachable",
            translation_placeholders={
                "host": f"{self.host}:{self.port}",
                "error": "" if err is None else str(err),
            },
        ) from err

    def _since(self) -> str:
        assert self.unreachable_since is not None
        return dt_util.as_local(self.unreachable_since).strftime("%Y-%m-%d %H:%M")

    def _reachable(self) -> None:
        if self.unreachable_since is not None:
            self.unreachable_since = None
            assert self.config_entry is not None
            clear_problem(self.hass, self.config_entry, Problem.GATEWAY_UNREACHABLE)

    def _log_meters(
        self, readings: Mapping[str, GatewayReading], errors: Mapping[str, ProviderError]
    ) -> None:
        """One line when a meter stops answering (or reports invalid), one when it is back."""
        for configured in self.meters:
            key = configured.meter.key
            reading = readings.get(key)
            if reading is not None and reading.valid:
                if key in self.silent:
                    self.silent.discard(key)
                    self.last_errors.pop(key, None)
                    _LOGGER.info("Climkit meter %s answers again", configured.name)
                continue
            reason = str(errors[key]) if key in errors else "the meter reports invalid data"
            self.last_errors[key] = reason
            if key not in self.silent:
                self.silent.add(key)
                _LOGGER.warning("Climkit meter %s is unavailable: %s", configured.name, reason)
