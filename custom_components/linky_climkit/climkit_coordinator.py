"""The Climkit coordinator: one site, its whole history once, then a daily trailing week.

The history (from the site's creation, at most 3 years) is imported newest first in 30-day
windows, one window per run, so every call goes through the instance-wide pacer and a restart
resumes from the stored cursor. Afterwards one sync a day re-reads the last 7 days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import VolumeConverter

from .aggregation import build_days, day_start
from .climkit_state import ClimkitState
from .const import CONF_SITE_ID, CONF_SYNC_OFFSET, DOMAIN, EVENT_DATA_IMPORTED
from .coordinator_base import ScheduledCoordinator
from .importer import Importer, StatisticSpec, energy_spec, statistic_id
from .providers.climkit import ClimkitClient, MeterInfo, SiteInfo
from .providers.climkit_parse import ParsedRows, exposed_meters, parse_site_rows
from .providers.conso_api_parse import PARIS
from .providers.errors import AuthError, NoDataError, ProviderError
from .providers.model import Channel
from .repair_issues import NO_DATA_DAYS, Problem, clear_problem, raise_problem, set_problem
from .schedule import next_sync

_LOGGER = logging.getLogger(__name__)

HISTORY_DAYS = 1095
WINDOW_DAYS = 30
TRAILING_DAYS = 7
UPSTREAM_BACKOFF = timedelta(minutes=30)
STORAGE_VERSION = 1
BATTERY_CHANNELS = (Channel.BATTERY_CHARGE, Channel.BATTERY_DISCHARGE)


@dataclass(frozen=True, slots=True)
class ClimkitData:
    """What the sensors show."""

    site: SiteInfo | None
    meters: tuple[MeterInfo, ...]
    latest: dict[str, tuple[date, float]]
    last_day: date | None
    last_data_end: datetime | None
    next_sync: datetime | None
    storage: bool
    history_done: bool

    def value(self, owner: str, channel: Channel) -> tuple[date, float] | None:
        """The latest complete day's value of one statistic."""
        return self.latest.get(f"{owner}:{channel.value}")


def latest_key(owner: str, channel: Channel) -> str:
    """Key of `ClimkitState.latest`."""
    return f"{owner}:{channel.value}"


class ClimkitCoordinator(ScheduledCoordinator[ClimkitData]):
    """One Climkit site: discover, import history, sync daily."""

    config_entry: ConfigEntry[ClimkitCoordinator]

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, client: ClimkitClient) -> None:
        """Nothing is called here; `_async_setup` loads the persisted state."""
        super().__init__(hass, entry, "climkit")
        self.site_id: str = entry.data[CONF_SITE_ID]
        self.offset: int = int(entry.data[CONF_SYNC_OFFSET])
        self.client = client
        self.state = ClimkitState()
        self.tz = PARIS  # already loaded; replaced by the site's zone in _async_setup
        self.next_daily: datetime | None = None
        self._reload_wanted = False
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.climkit.{entry.entry_id}"
        )

    async def _async_setup(self) -> None:
        self.state = ClimkitState.from_dict(await self._store.async_load())
        await self._load_tz()

    async def _load_tz(self) -> None:
        name = self.state.site.timezone if self.state.site else "Europe/Zurich"
        self.tz = await dt_util.async_get_time_zone(name) or ZoneInfo("UTC")

    @property
    def meters(self) -> list[MeterInfo]:
        """The meters that get devices and statistics."""
        return exposed_meters(self.state.meters)

    def _today(self) -> date:
        return dt_util.utcnow().astimezone(self.tz).date()

    def have_yesterday(self) -> bool:
        """Whether yesterday's site consumption is imported."""
        last = self.state.last_day
        return last is not None and last >= self._today() - timedelta(days=1)

    # ---- running ---------------------------------------------------------------------

    async def _async_update_data(self) -> ClimkitData:
        now = dt_util.utcnow()
        in_setup = self.config_entry.state is ConfigEntryState.SETUP_IN_PROGRESS
        failure: ProviderError | None = None
        requests = self.client.request_count
        try:
            if self.state.backoff_until is None or now >= self.state.backoff_until:
                self.state.backoff_until = None
                if self.state.site is None:
                    await self._discover()
                if not self.state.history_done:
                    await self._run_history_window()
                elif self.next_daily is not None and now >= self.next_daily:
                    await self._run_daily(now)
        except AuthError as err:
            failure = err
            self.auth_failed = True
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="climkit_auth_failed"
            ) from err
        except ProviderError as err:
            failure = err
            self.state.backoff_until = now + UPSTREAM_BACKOFF
            self.state.last_error, self.state.last_error_at = str(err), now
            if not in_setup:
                key = "site_gone" if isinstance(err, NoDataError) else "climkit_error"
                raise UpdateFailed(
                    translation_domain=DOMAIN,
                    translation_key=key,
                    translation_placeholders={"error": str(err)},
                ) from err
            _LOGGER.warning("Climkit import postponed: %s", err)
        finally:
            self.state.calls = self.client.request_count
            await self._store.async_save(self.state.as_dict())
            self._schedule_next()
            self._update_problems(failure, self.client.request_count > requests)
            if self._reload_wanted:
                self._reload_wanted = False
                self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return self.snapshot()

    async def _discover(self) -> None:
        site = await self.client.installation_infos(self.site_id)
        meters = await self.client.meter_info(self.site_id)
        self.state.site, self.state.meters = site, meters
        await self._load_tz()
        today = self._today()
        oldest = today - timedelta(days=HISTORY_DAYS)
        if site.creation is not None:
            oldest = max(oldest, site.creation.astimezone(self.tz).date())
        self.state.history_start = oldest
        self.state.history_cursor = today

    def _update_problems(self, failure: ProviderError | None, asked: bool) -> None:
        hass, entry = self.hass, self.config_entry
        for problem, active in (
            (Problem.CLIMKIT_AUTH, isinstance(failure, AuthError)),
            (Problem.SITE_GONE, isinstance(failure, NoDataError)),
        ):
            if active:
                raise_problem(hass, entry, problem, {"error": str(failure)})
            elif failure is None and asked:
                clear_problem(hass, entry, problem)
        last = self.state.last_day
        stale = self.state.history_done and (
            last is None or (self._today() - last).days > NO_DATA_DAYS
        )
        set_problem(
            hass, entry, Problem.NO_NEW_DATA, stale, {"last_day": last.isoformat() if last else ""}
        )

    def _types(self) -> list[str]:
        types = ["electricity"]
        types += sorted({m.type for m in self.meters if m.type != "electricity"})
        return types

    async def _fetch_days(self, first: date, end: date, reason: str) -> None:
        """Read [first, end) (local days) for every meter type and import complete days."""
        start_utc, end_utc = day_start(first, self.tz), day_start(end, self.tz)
        intervals: ParsedRows | None = None
        for meter_type in self._types():
            rows = await self.client.site_data(self.site_id, meter_type, start_utc, end_utc)
            parsed = parse_site_rows(
                rows,
                site_id=self.site_id,
                meter_type=meter_type,
                meters=self.state.meters,
                tz=self.tz,
            )
            self.state.clamped += parsed.clamped
            self.state.missing += parsed.missing
            self.state.storage = self.state.storage or parsed.storage_seen
            if parsed.last_end is not None and (
                self.state.last_data_end is None or parsed.last_end > self.state.last_data_end
            ):
                self.state.last_data_end = parsed.last_end
            if intervals is None:
                intervals = parsed
            else:
                for key, values in parsed.intervals.items():
                    intervals.intervals[key].extend(values)
        self.state.last_success = dt_util.utcnow()
        if intervals is not None:
            await self._import(intervals, end, reason)

    async def _run_history_window(self) -> None:
        cursor, start = self.state.history_cursor, self.state.history_start
        assert cursor is not None
        assert start is not None
        first = max(start, cursor - timedelta(days=WINDOW_DAYS))
        await self._fetch_days(first, cursor, "first_import")
        self.state.history_cursor = first

    async def _run_daily(self, now: datetime) -> None:
        today = self._today()
        self.state.attempts = [*self._attempts_today(now), now]
        meters = await self.client.meter_info(self.site_id)
        if {m.id for m in meters} != {m.id for m in self.state.meters}:
            # A meter was added or removed: its devices and entities follow at the reload.
            self.state.meters = meters
            self._reload_wanted = True
        await self._fetch_days(today - timedelta(days=TRAILING_DAYS), today, "daily_sync")

    async def _import(self, parsed: ParsedRows, end: date, reason: str) -> None:
        importer = Importer(self.hass, self.tz)
        changed: set[date] = set()
        channels: set[str] = set()
        for (owner, channel), intervals in sorted(parsed.intervals.items()):
            if channel in BATTERY_CHANNELS and not self.state.storage:
                continue
            days = {d: e for d, e in build_days((), intervals, self.tz).items() if d < end}
            days = {d: e for d, e in days.items() if e.hours is not None}
            if not days:
                continue
            result = await importer.import_days(self.spec(owner, channel), days)
            if result.changed_days:
                changed.update(result.changed_days)
                channels.add(channel.value)
            newest = max(days)
            key = latest_key(owner, channel)
            current = self.state.latest.get(key)
            if current is None or newest >= current[0]:
                self.state.latest[key] = (newest, days[newest].measured)
            is_site_consumption = owner == self.site_id and channel is Channel.CONSUMPTION
            if is_site_consumption and (
                self.state.last_day is None or newest > self.state.last_day
            ):
                self.state.last_day = newest
        if changed:
            self.hass.bus.async_fire(
                EVENT_DATA_IMPORTED,
                {
                    "meter": self.site_id,
                    "provider": "climkit",
                    "first_day": min(changed).isoformat(),
                    "last_day": max(changed).isoformat(),
                    "channels": sorted(channels),
                    "reason": reason,
                },
            )

    def spec(self, owner: str, channel: Channel) -> StatisticSpec:
        """The statistic of one site or meter channel (m³ for water, kWh otherwise)."""
        label = self._label(owner)
        name = f"{label} {channel.value.replace('_', ' ')}"
        if channel is Channel.WATER:
            return StatisticSpec(
                statistic_id(owner, channel), name, "m³", VolumeConverter.UNIT_CLASS
            )
        return energy_spec(owner, channel, name)

    def _label(self, owner: str) -> str:
        site_name = self.state.site.name if self.state.site else "Climkit"
        if owner == self.site_id:
            return f"Climkit {site_name}"
        meter = next((m for m in self.state.meters if m.id == owner), None)
        meter_name = meter_label(meter) if meter else owner
        return f"Climkit {site_name} {meter_name}"

    # ---- schedule --------------------------------------------------------------------

    def _attempts_today(self, now: datetime) -> list[datetime]:
        today = now.astimezone(self.tz).date()
        return [a for a in self.state.attempts if a.astimezone(self.tz).date() == today]

    def _schedule_next(self) -> None:
        now = dt_util.utcnow()
        self.next_daily = next_sync(
            now,
            offset=self.offset,
            tz=self.tz,
            have_yesterday=self.have_yesterday(),
            attempts_today=self._attempts_today(now),
            catch_up=timedelta(minutes=3),
        )
        when = self.next_daily
        if self.state.site is None or not self.state.history_done:
            when = now
        if self.state.backoff_until is not None and self.state.backoff_until > now:
            when = max(when, self.state.backoff_until)
            self.next_daily = max(self.next_daily, self.state.backoff_until)
        self.arm(when)

    # ---- sensors ---------------------------------------------------------------------

    def snapshot(self) -> ClimkitData:
        """The values the sensors show."""
        return ClimkitData(
            site=self.state.site,
            meters=tuple(self.meters),
            latest=dict(self.state.latest),
            last_day=self.state.last_day,
            last_data_end=self.state.last_data_end,
            next_sync=self.next_daily,
            storage=self.state.storage,
            history_done=self.state.history_done,
        )


def meter_label(meter: MeterInfo) -> str:
    """A meter's name, else its type and bus address."""
    if meter.name:
        return meter.name
    kind = meter.type.replace("_", " ")
    return f"{kind} {meter.prim_ad}" if meter.prim_ad is not None else kind
