"""The entry's stores, and ISO text for the persisted states (Store holds JSON)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .statistics.ledger import Ledger

STORAGE_VERSION = 1


def iso(value: date | datetime | None) -> str | None:
    """A date or datetime as ISO text; None stays None."""
    return None if value is None else value.isoformat()


def to_datetime(value: Any) -> datetime | None:
    """Inverse of iso for datetimes."""
    return None if value is None else datetime.fromisoformat(value)


def to_date(value: Any) -> date | None:
    """Inverse of iso for dates."""
    return None if value is None else date.fromisoformat(value)


# One Store each, per entry.
ENTRY_STORES = ("linky", "climkit", "costs", "ledger", "journal", "history")


def entry_store(hass: HomeAssistant, kind: str, entry_id: str) -> Store[dict[str, Any]]:
    """The Store of one kind of an entry's persisted state."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{kind}.{entry_id}")


class LedgerStore:
    """An entry's completeness ledger on disk."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is read here."""
        self._store = entry_store(hass, "ledger", entry_id)

    async def async_load(self) -> Ledger | None:
        """The saved ledger; None when there is none yet (a new entry, or an older version's)."""
        data = await self._store.async_load()
        return None if data is None else Ledger.from_dict(data)

    async def async_save(self, ledger: Ledger) -> None:
        """Write it now."""
        await self._store.async_save(ledger.as_dict())
