"""The Climkit coordinator: one site, its whole history once, then a daily trailing week.

The history (from the site's creation, at most 3 years) is imported newest first in 30-day
windows, one window per run, so every call goes through the instance-wide pacer and a restart
resumes from the stored cursor. While the recorder commits a window (the cursor is saved only
then), the next window is already being read. Afterwards one sync a day re-reads the last 7
days. The site's own sensors are read by `site_sensors.py`, which each run asks at its end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .. import backoff
from ..const import CONF_SITE_ID, CONF_SYNC_OFFSET, DOMAIN
from ..model import Channel
from ..pipeline import Pipeline
from ..providers.climkit import MAX_RETRIES, ClimkitClient
from ..providers.climkit_model import MeterInfo
from ..providers.climkit_parse import exposed_meters
from ..providers.errors import AuthError, NoDataError, ProviderError, RedirectError
from ..repair_issues import NO_DATA_DAYS, FailureTable, Problem, report_failure, set_problem
from ..schedule import next_sync
from ..statistics.ids import StatisticSpec
from ..statistics.importer import Importer
from ..statistics.ledger import Ledger, Mark, gaps
from ..statistics.ledger_seed import seed_from_statistics
from ..storage import LedgerStore
from ..sync import (
    REPAIR_FAILURE_PAUSE,
    ScheduledCoordinator,
    SyncRefused,
    describe,
    repair_may_wait,
)
from ..tariffs.costs import CostBook
from .adapter import PreparedWindow
from .reader import SiteReader, WindowAsk
from .state import ClimkitData, ClimkitState, latest_key

_LOGGER = logging.getLogger(__name__)

HISTORY_DAYS = 1095
WINDOW_DAYS = 30
TRAILING_DAYS = 7
REPAIR_PAUSE = timedelta(minutes=3)  # between two windows of missing days
STORAGE_VERSION = 1
BATTERY_CHANNELS = (Channel.BATTERY_CHARGE, Channel.BATTERY_DISCHARGE)
CLIMKIT_FAILURES: FailureTable = (
    (AuthError, Problem.CLIMKIT_AUTH),
    (NoDataError, Problem.SITE_GONE),
)
SWISS = ZoneInfo("Europe/Zurich")  # loaded at import time, in the executor


class ClimkitCoordinator(ScheduledCoordinator[ClimkitData]):
    """One Climkit site: discover, import history, sync daily."""

    config_entry: ConfigEntry[Any]
    state: ClimkitState
    AUTH_KEY = "climkit_auth_failed"
    ERROR_KEYS = ((NoDataError, "site_gone"), (RedirectError, "redirected"))
    ERROR_KEY = "climkit_error"

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, client: ClimkitClient) -> None:
        """Nothing is called here; `_async_setup` loads the persisted state."""
        super().__init__(hass, entry, "climkit")
        self.site_id: str = entry.data[CONF_SITE_ID]
        self.offset: int = int(entry.data[CONF_SYNC_OFFSET])
        self.client = client
        self.state = ClimkitState()
        self.tz = SWISS  # until the site's own zone is read in _async_setup
        self.next_daily: datetime | None = None
        self._reload_wanted = False
        self._running = False
        self._requests_before = 0
        # Set by the site's sensors (site_sensors.py): given whether the daily sync ran.
        self.read_site_sensors: Callable[[bool], Awaitable[None]] | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.climkit.{entry.entry_id}"
        )
        self.costs = CostBook(
            hass,
            entry,
            self.site_id,
            f"Climkit {entry.title}",
            self.tz,
            Importer(hass, self.tz),
            charges=Channel.GRID_IMPORT,
            compensates=Channel.GRID_EXPORT,
        )
        self.pipeline = Pipeline(
            hass,
            provider="climkit",
            meter=self.site_id,
            tz=self.tz,
            spec=self.spec,
            costs=self.costs,
            ledger=Ledger(),
            entry_id=entry.entry_id,
        )
        self._ledger_store = LedgerStore(hass, entry.entry_id)
        self._ledger_seeded = True
        self._repair_at = dt_util.utcnow() + REPAIR_PAUSE  # not in the run at the start
        self.reader = SiteReader(hass, entry, client)

    async def _async_setup(self) -> None:
        self.state = ClimkitState.from_dict(await self._store.async_load())
        if (ledger := await self._ledger_store.async_load()) is not None:
            self.pipeline.ledger = ledger
        else:  # a site imported by an older version: its ledger is read from the statistics
            self._ledger_seeded = self.state.history_start is None
        await self._load_tz()
        await self.pipeline.async_load()

    async def _load_tz(self) -> None:
        name = self.state.site.timezone if self.state.site else SWISS.key
        self.tz = await dt_util.async_get_time_zone(name) or ZoneInfo("UTC")
        self.pipeline.set_time_zone(self.tz)

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

    async def _run(self, now: datetime) -> None:
        self._running = True
        self._requests_before = self.client.request_count
        # After a failed run, each request is tried once: the back-off is the retry.
        self.client.retries = 0 if self.state.backoff_seconds else MAX_RETRIES
        if self.state.site is None:
            await self._discover()
            self._reload_wanted = True  # its devices and entities are created at the reload
        if not self._ledger_seeded and self.state.history_start is not None:
            await seed_from_statistics(
                self.pipeline.importer,
                self.pipeline.ledger,
                [(self._ledger_key, self.spec(self.site_id, Channel.CONSUMPTION))],
                self.state.history_start,
                self._today(),
                self.tz,
            )
            self._ledger_seeded = True
        synced = False
        if not self.state.history_done:
            await self._run_history_window()
        elif self.next_daily is not None and now >= self.next_daily:
            await self._run_daily(now)
            synced = True
        elif self.state.requested:
            await self._run_requested()
        elif now >= self._repair_at and (repair := self._next_repair()):
            self._repair_at = now + REPAIR_PAUSE
            try:
                await self._fetch_days(*repair, "repair")
            except ProviderError as err:
                if not repair_may_wait(err):
                    raise
                self._repair_at = now + REPAIR_FAILURE_PAUSE
                _LOGGER.info("Filling the history paused: %s", describe(err))
        if self.read_site_sensors is not None:
            await self.read_site_sensors(synced)

    def _note_failure(self, err: Exception, at: datetime) -> None:
        self.state.last_error, self.state.last_error_at = describe(err), at

    async def _save(self) -> None:
        self.state.calls = self.client.request_count
        await self._store.async_save(self.state.as_dict())
        if self._ledger_seeded:
            await self._ledger_store.async_save(self.pipeline.ledger)

    async def async_save(self) -> None:
        """Persist the site's state (the site's sensors, read apart, are part of it), once
        the rows a running import queued are committed: the state holds its cursors."""
        await self._save_progress()

    def _after_run(self) -> None:
        self._running = False
        if self._reload_wanted:  # new or removed meters or sensors: their entities follow
            self._reload_wanted = False
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    @callback
    def async_reload_soon(self) -> None:
        """Reload a loaded entry (its entities follow the site), once the running run is
        saved: a reload during the run would cancel it."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return
        if self._running:
            self._reload_wanted = True
        else:
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    async def async_restore(self) -> None:
        """Read the stored state; a site never seen is discovered now (its description, its
        meters and its sensors: the entities to create; no recorder involved), its history
        comes after Home Assistant has started. During an outage the set-up goes on and the
        discovery waits for the back-off."""
        await super().async_restore()
        if self.state.site is not None or not backoff.gate_open(self.state, dt_util.utcnow()):
            return
        try:
            await self._discover()
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key=self.AUTH_KEY
            ) from err
        except Exception as err:
            until = self._back_off(err)
            _LOGGER.warning("Climkit site discovery postponed until %s: %s", until, describe(err))
        else:
            if self.read_site_sensors is not None:
                await self.read_site_sensors(True)
        await self._save()
        self.data = self.snapshot()

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

    def _update_problems(self, failure: ProviderError | None) -> None:
        hass, entry = self.hass, self.config_entry
        asked = self.client.request_count > self._requests_before
        report_failure(hass, entry, CLIMKIT_FAILURES, failure, failure is None and asked, {})
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
        """Read [first, end) (local days) for every meter type and import every day with
        data, partial days included (the request overlaps the window, see window.py)."""
        window = await self.reader.read(self._ask(first, end))
        self.state.clamped += window.negative
        self.state.missing += window.missing
        self.state.refused += window.refused
        self.state.storage = self.state.storage or window.storage_seen
        if window.last_end is not None and (
            self.state.last_data_end is None or window.last_end > self.state.last_data_end
        ):
            self.state.last_data_end = window.last_end
        self.state.last_success = dt_util.utcnow()
        await self._import(window, reason)
        # Days asked for that brought nothing are not asked again, once older than the week
        # the daily sync re-reads (they may still come).
        settled = min(end, self._today() - timedelta(days=TRAILING_DAYS))
        self.pipeline.ledger.absent(self._ledger_key, first, settled, Mark.HOURLY)

    def _ask(self, first: date, end: date) -> WindowAsk:
        return WindowAsk(
            self.site_id, first, end, tuple(self._types()), tuple(self.state.meters), self.tz
        )

    def _read_next_window(self) -> None:
        """Start reading the history's next window while the recorder commits this one."""
        cursor, start = self.state.history_cursor, self.state.history_start
        if self.state.history_done or cursor is None or start is None or self._stopped:
            return
        self.reader.read_ahead(self._ask(max(start, cursor - timedelta(days=WINDOW_DAYS)), cursor))

    @callback
    def async_cancel_timer(self) -> None:
        """Stop the schedule and any read ahead (unload)."""
        super().async_cancel_timer()
        self.reader.cancel()

    @property
    def _ledger_key(self) -> str:
        return Ledger.key(self.site_id, Channel.CONSUMPTION)

    def _next_repair(self) -> tuple[date, date] | None:
        """The oldest window of days the ledger misses before the daily sync's week (Home
        Assistant was off, an outage), once the history is imported."""
        if self.state.history_start is None or not self.state.history_done:
            return None
        end = self._today() - timedelta(days=TRAILING_DAYS)
        missing = self.pipeline.ledger.missing(
            self._ledger_key, self.state.history_start, end, Mark.HOURLY
        )
        windows = gaps(missing, WINDOW_DAYS)
        return windows[0] if windows else None

    def completeness(self) -> dict[str, int]:
        """Complete, partial, missing and unavailable days of the site's history."""
        start = self.state.history_start or self._today()
        summary = self.pipeline.ledger.summary(self._ledger_key, start, self._today(), Mark.HOURLY)
        return summary.as_dict()

    async def _run_history_window(self) -> None:
        cursor, start = self.state.history_cursor, self.state.history_start
        assert cursor is not None
        assert start is not None
        first = max(start, cursor - timedelta(days=WINDOW_DAYS))
        await self._fetch_days(first, cursor, "first_import")
        self.state.history_cursor = first
        self._read_next_window()

    async def _run_requested(self) -> None:
        """One window of a range asked for with the `import_history` action."""
        first, end = self.state.requested[0]
        await self._fetch_days(first, end, "import_history")
        self.state.requested.pop(0)

    def request_history(self, first: date, last: date) -> tuple[int, int]:
        """Queue [first, last] (local days) in 30-day windows, read one per run through the
        pacer; returns (windows, calls). Nothing is called here."""
        end = min(last, self._today() - timedelta(days=1)) + timedelta(days=1)
        added = 0
        cursor = first
        while cursor < end:
            window = (cursor, min(end, cursor + timedelta(days=WINDOW_DAYS)))
            if window not in self.state.requested:
                self.state.requested.append(window)
                added += 1
            cursor = window[1]
        if self.config_entry.state is ConfigEntryState.LOADED:
            self._schedule_next()
        return added, added * len(self._types())

    async def async_sync_now(self) -> None:
        """Run today's sync now; refused while the history imports or when it is done."""
        if self.state.site is None or not self.state.history_done:
            raise SyncRefused("first_import_running")
        if self.have_yesterday():
            raise SyncRefused("already_synced")
        self.next_daily = dt_util.utcnow()
        self.state.backoff_until = None
        await self.async_refresh()

    async def _run_daily(self, now: datetime) -> None:
        today = self._today()
        self.state.attempts = [*self._attempts_today(now), now]
        meters = await self.client.meter_info(self.site_id)
        if {m.id for m in meters} != {m.id for m in self.state.meters}:
            # A meter was added or removed: its devices and entities follow at the reload.
            self.state.meters = meters
            self._reload_wanted = True
        await self._fetch_days(today - timedelta(days=TRAILING_DAYS), today, "daily_sync")

    async def _import(self, window: PreparedWindow, reason: str) -> None:
        batch = window.batch
        if not self.state.storage:
            for key in [k for k in batch.days if k[1] in BATTERY_CHANNELS]:
                del batch.days[key]
                batch.partial.pop(key, None)
        done = await self.pipeline.run(batch, reason)
        for (owner, channel), day in done.newest.items():
            latest = latest_key(owner, channel)
            current = self.state.latest.get(latest)
            if current is None or day.day >= current[0]:
                self.state.latest[latest] = (day.day, day.measured)
            is_site_consumption = owner == self.site_id and channel is Channel.CONSUMPTION
            if is_site_consumption and (
                self.state.last_day is None or day.day > self.state.last_day
            ):
                self.state.last_day = day.day

    async def async_recompute_costs(self) -> None:
        """Price every stored day again with the current tariff (no Climkit call)."""
        await self.costs.recompute()
        self.async_set_updated_data(self.snapshot())

    def spec(self, owner: str, channel: Channel) -> StatisticSpec:
        """The statistic of one site or meter channel (m³ for water, kWh otherwise)."""
        return self.state.spec(self.site_id, owner, channel)

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
        if self.state.site is None or not self.state.history_done or self.state.requested:
            when = now
        elif not self._ledger_seeded or self._next_repair() is not None:
            when = min(when, max(now, self._repair_at))
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
            cost=self.costs.latest_cost(),
            completeness=self.completeness(),
        )
