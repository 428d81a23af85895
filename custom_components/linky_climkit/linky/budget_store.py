"""The Conso API budget shared by every entry of this Home Assistant, persisted across restarts."""

from __future__ import annotations

import asyncio
from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .budget import CallBudget, Priority

STORAGE_KEY = f"{DOMAIN}.conso_api_budget"
STORAGE_VERSION = 1
RESERVE_PER_ENTRY = 6
RESERVE_MAX = 12
DATA_KEY = f"{DOMAIN}_budget"


class BudgetRefused(Exception):
    """The budget has no call left for this priority; the call is postponed, never sent."""

    def __init__(self, retry_at: datetime) -> None:
        """Remember when a call could be made."""
        super().__init__(f"Call budget exhausted until {retry_at.isoformat()}")
        self.retry_at = retry_at


class BudgetManager:
    """Hands out Conso API calls to the entries; one per Home Assistant instance."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Create an empty budget; call `async_load` before use."""
        self._hass = hass
        self._store: Store[dict[str, list[str]]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._lock = asyncio.Lock()
        self.budget = CallBudget()
        self.entries: set[str] = set()

    async def async_load(self) -> None:
        """Read the calls made in the last 12 hours (they count after a restart too)."""
        self.budget = CallBudget.from_dict(await self._store.async_load())
        self.budget.prune(dt_util.utcnow())

    @property
    def reserve(self) -> int:
        """Calls kept back from backfill for the daily syncs of every Linky entry."""
        return min(RESERVE_MAX, RESERVE_PER_ENTRY * max(1, len(self.entries)))

    def used(self) -> int:
        """Calls made in the rolling window ending now."""
        return self.budget.used(dt_util.utcnow())

    def available(self, priority: Priority) -> int:
        """Calls that may be made now at this priority."""
        return self.budget.available(dt_util.utcnow(), priority, self.reserve)

    def next_slot(self, priority: Priority) -> datetime:
        """When the next call of this priority may be made."""
        return self.budget.next_slot(dt_util.utcnow(), priority, self.reserve)

    async def async_spend(self, priority: Priority) -> None:
        """Take one call or raise BudgetRefused; the spend is saved before the call is sent."""
        async with self._lock:
            now = dt_util.utcnow()
            if self.budget.available(now, priority, self.reserve) <= 0:
                raise BudgetRefused(self.budget.next_slot(now, priority, self.reserve))
            self.budget.spend(now)
            await self._store.async_save(self.budget.as_dict())


async def async_get_budget(hass: HomeAssistant) -> BudgetManager:
    """The instance's budget manager, loaded once even when entries set up concurrently."""
    loading: asyncio.Task[BudgetManager] | None = hass.data.get(DATA_KEY)
    if loading is None:
        loading = hass.async_create_task(_async_load(BudgetManager(hass)), eager_start=True)
        hass.data[DATA_KEY] = loading
    return await loading


async def _async_load(manager: BudgetManager) -> BudgetManager:
    await manager.async_load()
    return manager
