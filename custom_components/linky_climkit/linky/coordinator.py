"""The Linky coordinator: decides when to call Conso API and how much, then imports.

It runs the first import (3 years of daily data, the last 7 days hourly), one daily sync at
the entry's stable time (with the retry ladder of schedule.py), and repairs planned from the
completeness ledger (older gaps, the hourly history, the history floor) that only spend the
budget the daily syncs leave.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from ..const import CONF_PRM, CONF_READ_REGISTERS, CONF_SYNC_OFFSET, DOMAIN
from ..model import Channel
from ..pipeline import Imported, Pipeline
from ..providers.conso_api import ConsoApiClient, ConsoApiType
from ..providers.conso_api_parse import PARIS
from ..providers.errors import (
    BlockedError,
    InvalidResponseError,
    NotAuthorisedError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
    RedirectError,
)
from ..providers.token import token_expiry
from ..schedule import PUBLICATION, next_sync
from ..statistics.ids import StatisticSpec, energy_spec, peak_spec
from ..statistics.importer import Importer
from ..statistics.ledger import Ledger
from ..statistics.ledger_seed import seed_from_statistics
from ..storage import LedgerStore, entry_store
from ..sync import (
    REPAIR_FAILURE_PAUSE,
    ScheduledCoordinator,
    SyncRefused,
    describe,
    repair_may_wait,
)
from ..tariffs.costs import CostBook
from .adapter import PRODUCTION_TYPES, Collected, channel_of
from .budget import Priority
from .budget_store import BudgetManager, BudgetRefused, EntryBudget
from .history import Brought, HistoryJob
from .plan import (
    CORRECTION_DAYS,
    CURVE_TYPE,
    INITIAL_HISTORY_DAYS,
    REPAIR_CALLS_PER_RUN,
    TRAILING_DAYS,
    HistoryPlan,
    anchor_week,
    completeness,
    daily_calls,
    history_tasks,
    initial_plan,
    note_absent,
    repair_tasks,
)
from .problems import update_hours_problem, update_problems
from .reader import ConsoApiReader
from .registers import REGISTER_HISTORY, RegisterSteps
from .state import FetchTask, LinkyData, LinkyState

_LOGGER = logging.getLogger(__name__)

REPAIR_PAUSE = timedelta(minutes=45)
QUOTA_BACKOFF = timedelta(hours=3)
BLOCKED_BACKOFF = timedelta(hours=24)

type LinkyConfigEntry = ConfigEntry[LinkyCoordinator]


class LinkyCoordinator(RegisterSteps, ScheduledCoordinator[LinkyData]):
    """One PRM: schedule, budget, fetch, import."""

    config_entry: LinkyConfigEntry
    state: LinkyState
    AUTH_KEY = "auth_failed"
    ERROR_KEYS = (
        (BlockedError, "blocked"),
        (QuotaError, "quota"),
        (NotAuthorisedError, "not_authorised"),
        (ProviderConnectionError, "cannot_connect"),
        (RedirectError, "redirected"),
        (InvalidResponseError, "invalid_response"),
    )
    ERROR_KEY = "service_error"
    BACKOFF_BASES = ((BlockedError, BLOCKED_BACKOFF), (QuotaError, QUOTA_BACKOFF))

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
        self.read_registers = bool(entry.options.get(CONF_READ_REGISTERS, False))
        self.client = client
        self.budget: EntryBudget = budget.account(entry.entry_id)
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
        self._store = entry_store(hass, "linky", entry.entry_id)
        self.ledger = Ledger()
        self._ledger_store = LedgerStore(hass, entry.entry_id)
        self._ledger_seeded = True
        self.history = HistoryJob(hass, entry.entry_id)
        self._hours_checked = False
        self.reader = ConsoApiReader(client, self.budget, self.prm, self.state, self.ledger)
        self._catch_up_at = dt_util.utcnow() + timedelta(seconds=random.randint(120, 420))
        self._next_repair = self._catch_up_at
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
            ledger=self.ledger,
            entry_id=entry.entry_id,
        )

    async def _async_setup(self) -> None:
        self.state = LinkyState.from_dict(await self._store.async_load())
        if (ledger := await self._ledger_store.async_load()) is not None:
            self.ledger = self.pipeline.ledger = ledger
        else:  # an entry of an older version: its ledger is read from the statistics
            self._ledger_seeded = not self.state.initialised
        self.reader = ConsoApiReader(self.client, self.budget, self.prm, self.state, self.ledger)
        await self.pipeline.async_load()
        await self.history.async_load()
        self._join_budget()
        if not self.state.initialised and not self.state.pending:
            self.state.pending = initial_plan(self._today())

    @callback
    def async_cancel_timer(self) -> None:
        """Stop the schedule (unload) and give the budget share back."""
        super().async_cancel_timer()
        self.budget.leave()

    def _join_budget(self) -> None:
        """Keep this entry's share of the shared budget: its daily sync's calls."""
        self.budget.join(self._daily_calls())

    def _daily_calls(self) -> int:
        return daily_calls(producing=bool(self.state.production), registers=self.read_registers)

    # ---- running ---------------------------------------------------------------------

    async def _run(self, now: datetime) -> None:
        self.reader.answered = 0
        self._join_budget()  # (whether the meter produces may have been learnt)
        try:
            if self.state.pending:
                await self._run_first_import(now)
            elif self.next_daily is not None and now >= self.next_daily:
                await self._run_daily(now)
            if self._registers_due(now):
                await self._read_registers_now()
            if self._repairs_due(now):
                await self._run_repairs()
        except BudgetRefused as err:
            _LOGGER.debug("Call postponed by the budget until %s", err.retry_at)

    async def _run_local(self) -> None:
        """The ledger of an older version's entry read from its statistics, then history
        brought from elsewhere imported (no call; a job is resumed after a restart)."""
        if not self._ledger_seeded:
            today = self._today()
            await seed_from_statistics(
                self.pipeline.importer,
                self.ledger,
                [(Ledger.key(self.prm, channel), spec) for channel, spec in self.specs.items()],
                today - timedelta(days=INITIAL_HISTORY_DAYS),
                today,
                PARIS,
            )
            self._ledger_seeded = True
        if self.history.pending:
            await self.history.async_run(self.pipeline, self.prm, self._save_progress, self._noted)
        if not self._hours_checked:  # (the tariff may have changed since)
            await self._check_hours()
        await self._price_registers()  # (read before a stop, not priced yet)

    def _noted(self, done: Imported, reason: str) -> None:
        self.state.note_imported(done, reason, dt_util.utcnow())

    async def async_start_history(self, brought: Brought, reason: str) -> None:
        """Save the import of `brought` and start it now (or once the run under way ends)."""
        await self.history.async_start(brought, reason)
        if not self.running:
            self.arm(dt_util.utcnow())

    async def _save(self) -> None:
        await self._store.async_save(self.state.as_dict())
        if self._ledger_seeded:
            await self._ledger_store.async_save(self.ledger)

    def _update_problems(self, failure: ProviderError | None) -> None:
        update_problems(
            self.hass,
            self.config_entry,
            self.state,
            failure,
            answered=failure is None and self.reader.answered > 0,
            token_expiry=self.token_expiry,
            today=self._today(),
        )

    async def _run_first_import(self, now: datetime) -> None:
        collected = Collected()
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
                series = await self.reader.fetch(
                    type_, task.start, task.end, Priority.DAILY, collected
                )
                if type_ is ConsoApiType.DAILY_PRODUCTION and self.state.production is None:
                    self.state.production = bool(series and series.daily)
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
        self._next_repair = dt_util.utcnow() + REPAIR_PAUSE

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
        # Daily figures over 35 days, the load curve's week and peaks over 7: one call each;
        # Enedis' late corrections (BEST values) of the older days come with the same call.
        corrections = today - timedelta(days=CORRECTION_DAYS)
        if (known := self.ledger.history.ceiling or self.ledger.history.floor) is not None:
            # a recent activation: never ask before it (or while it is being probed)
            corrections = min(start, max(corrections, known))
        try:
            daily_type = ConsoApiType.DAILY_CONSUMPTION
            await self.reader.fetch(daily_type, corrections, today, Priority.DAILY, collected)
            if yesterday not in collected.days_of(Channel.CONSUMPTION):
                return  # not published yet: no other call today until the next attempt
            curve_type = CURVE_TYPE[Channel.CONSUMPTION]
            curve = await self.reader.fetch(curve_type, start, today, Priority.DAILY, collected)
            self.state.hourly_missing = curve is None or not curve.intervals
            await self.reader.fetch(ConsoApiType.MAX_POWER, start, today, Priority.DAILY, collected)
            if self.read_registers:
                await self._read_registers(start, today, Priority.DAILY, collected)
            if self.state.production:
                for type_ in PRODUCTION_TYPES:
                    first = start if type_.is_load_curve else corrections
                    await self.reader.fetch(type_, first, today, Priority.DAILY, collected)
            self.state.last_success = dt_util.utcnow()
            self.state.complete_day = today
        finally:
            await self._import(collected, "daily_sync")

    def _next_repair_task(self) -> tuple[FetchTask, str] | None:
        """A range asked for with `import_history` first, then a year of registers (periods
        from the meter: a dozen calls), then what the ledger misses."""
        if self.state.requested:
            return self.state.requested[0], "import_history"
        if (registers := self._register_history_task()) is not None:
            return registers, REGISTER_HISTORY
        tasks = repair_tasks(
            self.ledger, self.prm, self._today(), production=bool(self.state.production)
        )
        return (tasks[0], "repair") if tasks else None

    def _repairs_due(self, now: datetime) -> bool:
        return (
            self.state.initialised
            and not self.state.pending
            and now >= self._next_repair
            and self.budget.available(Priority.BACKFILL) > 0
            and self._next_repair_task() is not None
        )

    async def _run_repairs(self) -> None:
        """What the ledger misses (older gaps, the hourly history, the history floor), a few
        calls a run from what the daily syncs leave; each call's days are saved once
        imported."""
        pause = REPAIR_PAUSE
        try:
            for _ in range(REPAIR_CALLS_PER_RUN):
                found = self._next_repair_task()
                if found is None:
                    break
                task, reason = found
                collected = Collected()
                if reason == REGISTER_HISTORY:
                    await self._read_register_history(task, collected)
                else:
                    await self.reader.fetch(
                        ConsoApiType(task.type), task.start, task.end, Priority.BACKFILL, collected
                    )
                await self._import(collected, reason)
                if reason == "import_history":
                    self.state.requested.pop(0)
                await self._save_progress()
        except ProviderError as err:
            if not repair_may_wait(err):
                raise
            pause = REPAIR_FAILURE_PAUSE
            _LOGGER.info("Filling the history paused for %s: %s", pause, describe(err))
        finally:
            self._next_repair = dt_util.utcnow() + pause

    async def _import(self, collected: Collected, reason: str) -> None:
        """Import what a run fetched (a day already stored keeps its billing total when the
        answer has none: a load curve re-read without its daily figure), then tell the
        ledger which asked-for days the service did not have. The days of the week the daily
        sync re-reads are not judged: they may still come. Days whose registers became known
        are priced again when the tariff takes its periods from the meter."""
        registers = collected.indexes.get(Channel.CONSUMPTION, [])
        await self.costs.note_readings(registers)
        done = await self.pipeline.run(collected.batch(self.prm), reason, keep_stored_totals=True)
        self.state.note_imported(done, reason, dt_util.utcnow())
        self.state.note_indexes(collected.indexes)
        await self._price_registers()
        settled = self._today() - timedelta(days=TRAILING_DAYS)
        note_absent(self.ledger, self.prm, collected.asked, settled)
        if registers:
            await self._check_hours()

    async def _check_hours(self) -> None:
        """A repair issue when the registers disagree with the typed off-peak hours."""
        self._hours_checked = True
        update_hours_problem(self.hass, self.config_entry, await self.costs.async_check_hours())

    def history_complete(self) -> bool:
        """Whether every day the service may have is imported or known to be absent."""
        return self.state.initialised and self._next_repair_task() is None

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
        self._next_repair = min(self._next_repair, dt_util.utcnow())
        if self.config_entry.state is ConfigEntryState.LOADED:
            self._schedule_next()
        calls = len(self.state.requested)
        return HistoryPlan(
            calls=len(new),
            queued=calls,
            runs=-(-calls // REPAIR_CALLS_PER_RUN),
            available_now=self.budget.available(Priority.BACKFILL),
        )

    async def async_sync_now(self) -> None:
        """Run today's sync now; refused when it is done or the budget cannot pay for it."""
        if not self.state.initialised or self.state.pending:
            raise SyncRefused("first_import_running")
        if self.have_yesterday():
            raise SyncRefused("already_synced")
        if self.budget.available(Priority.DAILY) < self._daily_calls():
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
        if self.history.pending:
            candidates.append(now)
        if self.state.pending:
            candidates.append(
                max(now + timedelta(minutes=1), self.budget.next_slot(Priority.DAILY))
            )
        elif self.state.initialised and self._next_repair_task() is not None:
            candidates.append(max(self._next_repair, self.budget.next_slot(Priority.BACKFILL)))
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
            completeness=self.completeness(),
            index=self.state.latest_index if self.read_registers else None,
            production_index=self.state.latest_production_index if self.read_registers else None,
        )

    def completeness(self) -> dict[str, dict[str, int]]:
        """Complete, partial, missing and unavailable days per need (ledger)."""
        production = bool(self.state.production)
        summaries = completeness(self.ledger, self.prm, self._today(), production=production)
        return {label: summary.as_dict() for label, summary in summaries.items()}


__all__: list[str] = ["LinkyConfigEntry", "LinkyCoordinator", "LinkyData"]
