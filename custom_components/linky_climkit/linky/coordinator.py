"""The Linky coordinator: decides when to call Conso API and how much, then imports.

It runs the first import (3 years of daily data, the last 7 days hourly), one daily sync at
the entry's stable time (with the retry ladder of schedule.py), and a progressive hourly
backfill that only spends the budget the daily syncs leave.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import CONF_PRM, CONF_SYNC_OFFSET, DOMAIN
from ..model import Channel, Series
from ..pipeline import Pipeline
from ..providers.conso_api import ConsoApiClient, ConsoApiType, history_start
from ..providers.conso_api_parse import PARIS
from ..providers.errors import (
    BlockedError,
    HistoryLimitError,
    InvalidResponseError,
    NoDataError,
    NotAuthorisedError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
)
from ..providers.token import token_expiry
from ..schedule import PUBLICATION, next_sync
from ..statistics.ids import StatisticSpec, energy_spec, peak_spec
from ..statistics.importer import Importer
from ..sync import ScheduledCoordinator, SyncRefused
from ..tariffs.costs import CostBook
from .adapter import PRODUCTION_TYPES, Collected, channel_of, parse
from .budget import Priority
from .budget_store import BudgetManager, BudgetRefused
from .plan import (
    BACKFILL_CALLS_PER_RUN,
    CURVE_TYPE,
    TRAILING_DAYS,
    HistoryPlan,
    anchor_week,
    daily_calls,
    history_tasks,
    initial_plan,
)
from .problems import update_problems
from .state import FetchTask, LinkyData, LinkyState

_LOGGER = logging.getLogger(__name__)

BACKFILL_PAUSE = timedelta(minutes=45)
UPSTREAM_BACKOFF = timedelta(minutes=30)
QUOTA_BACKOFF = timedelta(hours=3)
BLOCKED_BACKOFF = timedelta(hours=24)
STORAGE_VERSION = 1

type LinkyConfigEntry = ConfigEntry[LinkyCoordinator]


class LinkyCoordinator(ScheduledCoordinator[LinkyData]):
    """One PRM: schedule, budget, fetch, import."""

    config_entry: LinkyConfigEntry
    state: LinkyState
    AUTH_KEY = "auth_failed"
    ERROR_KEYS = (
        (BlockedError, "blocked"),
        (QuotaError, "quota"),
        (NotAuthorisedError, "not_authorised"),
        (ProviderConnectionError, "cannot_connect"),
        (InvalidResponseError, "invalid_response"),
    )
    ERROR_KEY = "service_error"

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: ConsoApiClient,
        budget: BudgetManager,
        token: str,
    ) -> None:
        """Nothing is called here; `_async_setup` loads the persisted state."""
        super().__init__(hass, entry, "linky")
        self.prm: str = entry.data[CONF_PRM]
        self.offset: int = int(entry.data[CONF_SYNC_OFFSET])
        self.client = client
        self.budget = budget
        self.token_expiry = token_expiry(token)
        self.state = LinkyState()
        self.costs = CostBook(
            hass,
            entry,
            self.prm,
            f"Linky {self.prm}",
            PARIS,
            Importer(hass, PARIS),
            charges=Channel.CONSUMPTION,
            compensates=Channel.PRODUCTION,
        )
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.linky.{entry.entry_id}"
        )
        self._answered = 0
        self._catch_up_at = dt_util.utcnow() + timedelta(seconds=random.randint(120, 420))
        self._next_backfill = self._catch_up_at
        self.next_daily: datetime | None = None
        self.specs: dict[Channel, StatisticSpec] = {
            channel: (peak_spec if channel is Channel.MAX_POWER else energy_spec)(
                self.prm, channel, f"Linky {self.prm} {channel.value.replace('_', ' ')}"
            )
            for channel in (Channel.CONSUMPTION, Channel.PRODUCTION, Channel.MAX_POWER)
        }
        self.pipeline = Pipeline(
            hass,
            provider="linky",
            meter=self.prm,
            tz=PARIS,
            spec=lambda _meter, channel: self.specs[channel],
            costs=self.costs,
            entry_id=entry.entry_id,
        )

    async def _async_setup(self) -> None:
        self.state = LinkyState.from_dict(await self._store.async_load())
        await self.pipeline.async_load()
        self.budget.entries.add(self.config_entry.entry_id)
        if not self.state.initialised and not self.state.pending:
            self.state.pending = initial_plan(self._today())

    @callback
    def async_cancel_timer(self) -> None:
        """Stop the schedule (unload) and give the budget reserve back."""
        super().async_cancel_timer()
        self.budget.entries.discard(self.config_entry.entry_id)

    # ---- running ---------------------------------------------------------------------

    async def _run(self, now: datetime) -> None:
        self._answered = 0
        try:
            if self.state.pending:
                await self._run_first_import(now)
            elif self.next_daily is not None and now >= self.next_daily:
                await self._run_daily(now)
            if self._backfill_due(now):
                await self._run_backfill()
        except BudgetRefused as err:
            _LOGGER.debug("Call postponed by the budget until %s", err.retry_at)

    async def _save(self) -> None:
        await self._store.async_save(self.state.as_dict())

    def _update_problems(self, failure: ProviderError | None) -> None:
        update_problems(
            self.hass,
            self.config_entry,
            self.state,
            failure,
            answered=failure is None and self._answered > 0,
            token_expiry=self.token_expiry,
            today=self._today(),
        )

    def _back_off(self, err: ProviderError, now: datetime) -> None:
        if isinstance(err, BlockedError):
            until = now + BLOCKED_BACKOFF
        elif isinstance(err, QuotaError):
            until = max(err.retry_at or now, now + QUOTA_BACKOFF)
        else:
            until = now + UPSTREAM_BACKOFF
        self.state.backoff_until = until

    async def _fetch(
        self, type_: ConsoApiType, start: date, end: date, priority: Priority
    ) -> Series | None:
        """One budgeted call; None when the service has nothing there (yet)."""
        await self.budget.async_spend(priority)
        outcome = self.state.outcome(type_)
        outcome.calls += 1
        now = dt_util.utcnow()
        try:
            payload = await self.client.fetch(type_, self.prm, start, end)
            series = parse(type_, payload)
        except (NoDataError, HistoryLimitError) as err:
            self._answered += 1
            outcome.last_success = now
            outcome.last_error = type(err).__name__
            return None
        except NotAuthorisedError as err:
            outcome.last_error, outcome.last_error_at = str(err), now
            if type_ in PRODUCTION_TYPES:
                self._answered += 1
                # A PRM that produced before and is now refused lost its consent; at discovery
                # the same answer also means "no production" and is not a problem.
                self.state.production_refused = self.state.production is True
                self.state.production = False
                return None
            raise
        except ProviderError as err:
            outcome.last_error, outcome.last_error_at = str(err), now
            raise
        self._answered += 1
        outcome.last_success, outcome.last_error = now, None
        self.state.missing_points += series.missing
        self.state.clamped_points += series.clamped
        return series

    async def _run_first_import(self, now: datetime) -> None:
        collected = Collected()
        curve_start: dict[Channel, date] = {}
        self.state.attempts = [*self._attempts_today(now), now]
        try:
            while self.state.pending:
                task = self.state.pending[0]
                type_ = ConsoApiType(task.type)
                if type_ in PRODUCTION_TYPES and self.state.production is False:
                    self.state.pending.pop(0)
                    continue
                if type_.is_load_curve:
                    task = self._anchor_week(task, collected)
                    channel = channel_of(type_)
                    curve_start[channel] = min(curve_start.get(channel, task.start), task.start)
                series = await self._fetch(type_, task.start, task.end, Priority.DAILY)
                if type_ is ConsoApiType.DAILY_PRODUCTION and self.state.production is None:
                    self.state.production = bool(series and series.daily)
                if series is not None:
                    collected.add(series)
                self.state.pending.pop(0)
        finally:
            await self._import(collected, "first_import")
        self.state.initialised = True
        if self.state.production is False:  # its sensor was created before this was known
            registry = er.async_get(self.hass)
            unique_id = f"{self.prm}_daily_production"
            if entity_id := registry.async_get_entity_id("sensor", DOMAIN, unique_id):
                registry.async_remove(entity_id)
        if self.state.last_day is not None and self.state.last_day >= self._today() - timedelta(1):
            self.state.complete_day = self._today()
        start = self._today() - timedelta(days=TRAILING_DAYS)
        for channel in (Channel.CONSUMPTION, Channel.PRODUCTION):
            self.state.backfill_cursor.setdefault(channel, curve_start.get(channel, start))
        self._next_backfill = dt_util.utcnow() + BACKFILL_PAUSE

    def _anchor_week(self, task: FetchTask, collected: Collected) -> FetchTask:
        channel = channel_of(ConsoApiType(task.type))
        published = collected.days_of(channel)
        if channel is Channel.CONSUMPTION and self.state.last_day is not None:
            published.add(self.state.last_day)
        return anchor_week(task, published)

    async def _run_daily(self, now: datetime) -> None:
        today = self._today()
        start = today - timedelta(days=TRAILING_DAYS)
        yesterday = today - timedelta(days=1)
        if self.budget.available(Priority.DAILY) <= 0:
            raise BudgetRefused(self.budget.next_slot(Priority.DAILY))
        self.state.attempts = [*self._attempts_today(now), now]
        collected = Collected()
        try:
            daily = await self._fetch(ConsoApiType.DAILY_CONSUMPTION, start, today, Priority.DAILY)
            if daily is not None:
                collected.add(daily)
            if yesterday not in collected.days_of(Channel.CONSUMPTION):
                return  # not published yet: no other call today until the next attempt
            curve = await self._fetch(CURVE_TYPE[Channel.CONSUMPTION], start, today, Priority.DAILY)
            self.state.hourly_missing = curve is None or not curve.intervals
            if curve is not None:
                collected.add(curve)
            peaks = await self._fetch(ConsoApiType.MAX_POWER, start, today, Priority.DAILY)
            if peaks is not None:
                collected.add(peaks)
            if self.state.production:
                for type_ in PRODUCTION_TYPES:
                    series = await self._fetch(type_, start, today, Priority.DAILY)
                    if series is not None:
                        collected.add(series)
            self.state.last_success = dt_util.utcnow()
            self.state.complete_day = today
        finally:
            await self._import(collected, "daily_sync")

    def _backfill_channels(self) -> list[Channel]:
        channels = [Channel.CONSUMPTION]
        if self.state.production:
            channels.append(Channel.PRODUCTION)
        return [c for c in channels if not self.state.backfill_done.get(c, False)]

    def _backfill_due(self, now: datetime) -> bool:
        return (
            self.state.initialised
            and not self.state.pending
            and (bool(self._backfill_channels()) or bool(self.state.requested))
            and now >= self._next_backfill
            and self.budget.available(Priority.BACKFILL) > 0
        )

    async def _run_backfill(self) -> None:
        """Hourly history, 7 days per call, newest first, from what the daily syncs leave.
        A range asked for with the `import_history` action comes first."""
        calls = 0
        today = self._today()
        try:
            while self.state.requested and calls < BACKFILL_CALLS_PER_RUN:
                task = self.state.requested[0]
                calls += 1
                series = await self._fetch(
                    ConsoApiType(task.type), task.start, task.end, Priority.BACKFILL
                )
                if series is not None:
                    collected = Collected()
                    collected.add(series)
                    await self._import(collected, "import_history")
                self.state.requested.pop(0)
                await self._save_progress()
            for channel in self._backfill_channels():
                type_ = CURVE_TYPE[channel]
                limit = history_start(type_, today)
                while calls < BACKFILL_CALLS_PER_RUN and not self.state.backfill_done.get(channel):
                    cursor = self.state.backfill_cursor.get(channel, today)
                    if cursor <= limit:
                        self.state.backfill_done[channel] = True
                        break
                    start = max(limit, cursor - timedelta(days=type_.max_days))
                    calls += 1
                    series = await self._fetch(type_, start, cursor, Priority.BACKFILL)
                    if series is None or not series.intervals:
                        self.state.backfill_done[channel] = True
                        break
                    collected = Collected()
                    collected.add(series)
                    await self._import(collected, "backfill")
                    self.state.backfill_cursor[channel] = start
                    await self._save_progress()
        finally:
            self._next_backfill = dt_util.utcnow() + BACKFILL_PAUSE

    async def _import(self, collected: Collected, reason: str) -> None:
        """Import what a run fetched; a day already stored keeps its billing total when the
        answer has none (a load curve re-read without its daily figure)."""
        done = await self.pipeline.run(collected.batch(self.prm), reason, keep_stored_totals=True)
        self.state.note_imported(done, reason, dt_util.utcnow())

    async def async_recompute_costs(self) -> None:
        """Price the stored days again with the current tariff (no Conso API call)."""
        await self.costs.recompute()
        self.async_set_updated_data(self.snapshot())

    # ---- schedule --------------------------------------------------------------------

    def _today(self) -> date:
        return dt_util.utcnow().astimezone(PARIS).date()

    # ---- actions ---------------------------------------------------------------------

    def request_history(self, first: date, last: date) -> HistoryPlan:
        """Queue the re-reading of [first, last] (local days) at backfill priority: daily
        figures, and the load curve where Enedis keeps it. Nothing is called here."""
        channels = [Channel.CONSUMPTION]
        if self.state.production:
            channels.append(Channel.PRODUCTION)
        tasks = history_tasks(first, last, self._today(), channels)
        known = {(t.type, t.start, t.end) for t in self.state.requested}
        new = [t for t in tasks if (t.type, t.start, t.end) not in known]
        self.state.requested += new
        self._next_backfill = min(self._next_backfill, dt_util.utcnow())
        if self.config_entry.state is ConfigEntryState.LOADED:
            self._schedule_next()
        calls = len(self.state.requested)
        return HistoryPlan(
            calls=len(new),
            queued=calls,
            runs=-(-calls // BACKFILL_CALLS_PER_RUN),
            available_now=self.budget.available(Priority.BACKFILL),
        )

    async def async_sync_now(self) -> None:
        """Run today's sync now; refused when it is done or the budget cannot pay for it."""
        if not self.state.initialised or self.state.pending:
            raise SyncRefused("first_import_running")
        if self.have_yesterday():
            raise SyncRefused("already_synced")
        if self.budget.available(Priority.DAILY) < daily_calls(
            producing=bool(self.state.production)
        ):
            raise SyncRefused("budget_exhausted")
        self.next_daily = dt_util.utcnow()
        self.state.backoff_until = None
        await self.async_refresh()

    def _attempts_today(self, now: datetime) -> list[datetime]:
        today = now.astimezone(PARIS).date()
        return [a for a in self.state.attempts if a.astimezone(PARIS).date() == today]

    def have_yesterday(self) -> bool:
        """Whether today's sync is done: yesterday imported with every data type."""
        return self.state.complete_day == self._today()

    @callback
    def _schedule_next(self) -> None:
        now = dt_util.utcnow()
        self.next_daily = next_sync(
            now,
            offset=self.offset,
            tz=PARIS,
            have_yesterday=self.have_yesterday(),
            attempts_today=self._attempts_today(now),
            catch_up=max(timedelta(0), self._catch_up_at - now),
            published=PUBLICATION,
        )
        self.next_daily = max(self.next_daily, self.budget.next_slot(Priority.DAILY))
        candidates = [self.next_daily]
        if self.state.pending:
            candidates.append(
                max(now + timedelta(minutes=1), self.budget.next_slot(Priority.DAILY))
            )
        elif self.state.initialised and (self._backfill_channels() or self.state.requested):
            candidates.append(max(self._next_backfill, self.budget.next_slot(Priority.BACKFILL)))
        if self.state.backoff_until is not None and self.state.backoff_until > now:
            self.next_daily = max(self.next_daily, self.state.backoff_until)
            candidates = [max(c, self.state.backoff_until) for c in candidates]
        self.arm(min(candidates))

    # ---- sensors ---------------------------------------------------------------------

    def snapshot(self) -> LinkyData:
        """The values the sensors show."""
        return LinkyData(
            consumption=self.state.latest_consumption,
            production=self.state.latest_production,
            peak=self.state.latest_peak,
            last_day=self.state.last_day,
            next_sync=self.next_daily,
            token_expiry=self.token_expiry,
            calls_used=self.budget.used(),
            has_production=self.state.production,
            cost=self.costs.latest_cost(),
        )


__all__: list[str] = ["LinkyConfigEntry", "LinkyCoordinator", "LinkyData"]
