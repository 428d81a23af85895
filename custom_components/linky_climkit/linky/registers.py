"""A Linky meter's registers (index types): when they are read (once when switched on, with
each daily sync, a year back for periods from the meter) and the days their readings make to
price again. Mixed into `LinkyCoordinator`, whose state, reader, budget and costs it uses."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..model import Channel
from ..pipeline import Pipeline
from ..providers.conso_api import ConsoApiType
from ..providers.conso_api_parse import PARIS
from ..providers.errors import ProviderError, RequestError
from ..repair_issues import Problem, set_problem
from ..statistics.ledger import Ledger
from ..sync import describe, repair_may_wait
from ..tariffs.costs import CostBook
from .adapter import Collected
from .budget import Priority
from .budget_store import EntryBudget
from .plan import (
    REGISTER_CHUNK_FALLBACK,
    REGISTER_HISTORY_DAYS,
    TRAILING_DAYS,
    register_history_task,
)
from .reader import ConsoApiReader
from .state import FetchTask, LinkyState

_LOGGER = logging.getLogger(__name__)
REGISTER_HISTORY = "registers_history"  # the reason of reading older registers


class RegisterSteps:
    """The register steps of a Linky run."""

    hass: HomeAssistant
    config_entry: ConfigEntry
    name: str
    read_registers: bool
    state: LinkyState
    reader: ConsoApiReader
    budget: EntryBudget
    ledger: Ledger
    costs: CostBook
    pipeline: Pipeline

    if TYPE_CHECKING:  # the coordinator's

        def _today(self) -> date: ...

        async def _import(self, collected: Collected, reason: str) -> None: ...

    async def _read_registers_now(self) -> None:
        """The first reading, right after the registers are switched on (the last week)."""
        collected = Collected()
        try:
            start = self._today() - timedelta(days=TRAILING_DAYS)
            await self._read_registers(start, self._today(), Priority.BACKFILL, collected)
        finally:
            await self._import(collected, "registers")

    def _registers_due(self, now: datetime) -> bool:
        """The registers were just asked for (no reading yet): read once today, from what
        the daily syncs leave, not at tomorrow's sync."""
        if not self.read_registers or self.state.latest_index is not None:
            return False
        outcome = self.state.outcome(ConsoApiType.CONSUMPTION_INDEX)
        asked = outcome.last_success or outcome.last_error_at
        return (
            self.state.initialised
            and not self.state.pending
            and (asked is None or asked.astimezone(PARIS).date() != now.astimezone(PARIS).date())
            and self.budget.available(Priority.BACKFILL) > 0
        )

    async def _read_registers(
        self, start: date, end: date, priority: Priority, collected: Collected
    ) -> None:
        """The meter's registers read at the start of each day of [start, end), those of its
        production too. An answer refused or failing here (no recorded answer of these types
        exists yet) leaves the registers unread, never the day's sync failed."""
        types = [ConsoApiType.CONSUMPTION_INDEX]
        if self.state.production:
            types.append(ConsoApiType.PRODUCTION_INDEX)
        for type_ in types:
            try:
                await self.reader.fetch(type_, start, end, priority, collected)
            except ProviderError as err:
                if not repair_may_wait(err):
                    raise
                _LOGGER.info("%s: registers not read: %s", self.name, describe(err))
                if type_ is ConsoApiType.CONSUMPTION_INDEX and isinstance(err, RequestError):
                    # refused, not failing: it will not pass by itself
                    self._registers_problem(describe(err))
            else:
                if type_ is ConsoApiType.CONSUMPTION_INDEX:
                    self._registers_problem(None)

    def _registers_problem(self, refused: str | None) -> None:
        """A repair issue while Conso API refuses the index type (cleared once read)."""
        set_problem(
            self.hass,
            self.config_entry,
            Problem.REGISTERS_REFUSED,
            refused is not None,
            {"error": refused or ""},
        )

    def _register_history_task(self) -> FetchTask | None:
        if self.state.registers_done or not self.read_registers or not self.costs.uses_registers:
            return None
        floor = self._today() - timedelta(days=REGISTER_HISTORY_DAYS)
        if (activated := self.ledger.history.floor) is not None:
            floor = max(floor, activated)
        return register_history_task(self.costs.oldest_reading(), floor, self.state.registers_chunk)

    async def _read_register_history(self, task: FetchTask, collected: Collected) -> None:
        """One window of older registers. Nothing there (the meter's start, or Enedis keeps
        no more) ends the reading back; a refused range is asked again 7 days at a time, then
        ends it too ([I]: the index types' longest range is undocumented)."""
        try:
            await self.reader.fetch(
                ConsoApiType(task.type), task.start, task.end, Priority.BACKFILL, collected
            )
        except RequestError as err:
            _LOGGER.info("%s: older registers refused: %s", self.name, describe(err))
            if self.state.registers_chunk > REGISTER_CHUNK_FALLBACK:
                self.state.registers_chunk = REGISTER_CHUNK_FALLBACK
            else:
                self.state.registers_done = True
            return
        if not collected.indexes.get(Channel.CONSUMPTION):
            self.state.registers_done = True

    async def _price_registers(self) -> None:
        """Price again the days whose registers became known (periods from the meter)."""
        if (days := self.costs.registers_unpriced()) is not None:
            await self.pipeline.reprice(Channel.CONSUMPTION, *days)
        await self.costs.registers_priced()
