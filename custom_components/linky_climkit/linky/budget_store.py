"""The Conso API budget shared by every entry of this Home Assistant, persisted across restarts."""

from __future__ import annotations

import asyncio
from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .budget import FLOW, CallBudget, Priority

STORAGE_KEY = f"{DOMAIN}.conso_api_budget"
STORAGE_VERSION = 1
DATA_KEY = f"{DOMAIN}_budget"


class BudgetRefused(Exception):
    """The budget has no call left for this priority; the call is postponed, never sent."""

    def __init__(self, retry_at: datetime) -> None:
        """Remember when a call could be made."""
        super().__init__(f"Call budget exhausted until {retry_at.isoformat()}")
        self.retry_at = retry_at


class BudgetManager:
    """Hands out Conso API calls to the entries and the config flow; one per Home Assistant
    instance."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Create an empty budget; call `async_load` before use."""
        self._store: Store[dict[str, list[list[str | int]]]] = Store(
            hass, STORAGE_VERSION, STORAGE_KEY
        )
        self._lock = asyncio.Lock()
        self.budget = CallBudget()

    async def async_load(self) -> None:
        """Read the calls made in the last 12 hours (they count after a restart too)."""
        self.budget = CallBudget.from_dict(await self._store.async_load())
        self.budget.prune(dt_util.utcnow())

    def account(self, owner: str) -> EntryBudget:
        """One entry's view of the budget (its share is set when it joins)."""
        return EntryBudget(self, owner)

    def used(self) -> int:
        """Calls made in the rolling window ending now, by anyone."""
        return self.budget.used(dt_util.utcnow())

    def available(self, priority: Priority, owner: str = FLOW) -> int:
        """Calls `owner` may make now at this priority."""
        return self.budget.available(dt_util.utcnow(), priority, owner)

    def next_slot(self, priority: Priority, owner: str = FLOW) -> datetime:
        """When `owner`'s next call of this priority may be made."""
        return self.budget.next_slot(dt_util.utcnow(), priority, owner)

    async def async_spend(self, priority: Priority, owner: str = FLOW) -> None:
        """Take one call or raise BudgetRefused; the spend is saved before the call is sent."""
        async with self._lock:
            now = dt_util.utcnow()
            if self.budget.available(now, priority, owner) <= 0:
                raise BudgetRefused(self.budget.next_slot(now, priority, owner))
            self.budget.spend(now, owner, priority)
            await self._store.async_save(self.budget.as_dict())


class EntryBudget:
    """What one Linky entry sees of the shared budget: its own share kept for it."""

    def __init__(self, manager: BudgetManager, owner: str) -> None:
        """Not counted among the entries until it `join`s."""
        self.manager = manager
        self.owner = owner

    def join(self, share: int) -> None:
        """Keep `share` calls per window for this entry's daily sync (set again when its
        needs change)."""
        self.manager.budget.shares[self.owner] = share

    def leave(self) -> None:
        """The entry is unloaded: its share goes back to the others."""
        self.manager.budget.shares.pop(self.owner, None)

    def used(self) -> int:
        """Calls made in the window by every entry and flow of this instance."""
        return self.manager.used()

    def used_by_me(self) -> int:
        """Calls made in the window by this entry."""
        return self.manager.budget.used(dt_util.utcnow(), self.owner)

    def reserved_for_others(self) -> int:
        """Calls this entry's daily sync may not take (others' shares, the flow reserve)."""
        return self.manager.budget.reserved(dt_util.utcnow(), Priority.DAILY, self.owner)

    def available(self, priority: Priority) -> int:
        """Calls this entry may make now at this priority."""
        return self.manager.available(priority, self.owner)

    def next_slot(self, priority: Priority) -> datetime:
        """When this entry's next call of this priority may be made."""
        return self.manager.next_slot(priority, self.owner)

    async def async_spend(self, priority: Priority) -> None:
        """Take one call for this entry or raise BudgetRefused."""
        await self.manager.async_spend(priority, self.owner)


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
