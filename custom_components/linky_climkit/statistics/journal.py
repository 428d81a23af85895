"""The intent journal: what a multi-step change to the statistics is about to touch, saved
before its first step and forgotten once the recorder has committed it (DESIGN invariant 7).

A change that takes more than one recorder task can be cut by a hard stop (power cut,
SIGKILL) between two of them: a block's rows written but the later sums not shifted (a break
in the sums), a statistic cleared but not inserted again (rows gone), the energy of some days
written but not their costs. Each such change first records an `Intent` here, saved with
`Store.async_save` (written now, not delayed) before its first step is queued. Once all its
steps are queued, a wait on the recorder that starts afterwards (`Importer.commit`, or the
importer's own waits) proves them committed and the intent is dropped.

Intents still saved at the next start were cut; `statistics/repair.py` checks and repairs
them in the entry's background task, before any new import. The journal holds where, never
values: it stays small enough to be saved before every change, and its file exists only while
a change is in progress (removed once none is left).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..const import DOMAIN

STORAGE_VERSION = 1


def journal_key(entry_id: str) -> str:
    """The store key of an entry's journal."""
    return f"{DOMAIN}.journal.{entry_id}"


class Kind(StrEnum):
    """What an intent was about to do."""

    WRITE = "write"  # rows of [start, end) written, then every later sum shifted
    REPLACE = "replace"  # the statistic cleared, then its `rows` rows in [start, end) inserted
    PRICE = "price"  # energy of [start, end) imported, then its costs priced


@dataclass(slots=True)
class Intent:
    """One change in progress: its kind, what it touches (a statistic id, or the channel whose
    energy is priced), the range, the unit of the statistic, the rows a replace writes."""

    kind: Kind
    target: str
    start: datetime
    end: datetime
    unit: str = ""
    rows: int = 0
    queued: int | None = None  # in memory: when its last step was queued (None: not yet)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind.value,
            "target": self.target,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "unit": self.unit,
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Intent:
        """Inverse of as_dict."""
        return cls(
            Kind(data["kind"]),
            str(data["target"]),
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(data["end"]),
            str(data.get("unit") or ""),
            int(data.get("rows", 0)),
        )


class Journal:
    """An entry's intents: `pending` ones left by the previous run (until repaired), `open`
    ones of this run (until committed)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is read yet."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, journal_key(entry_id))
        self.pending: list[Intent] = []
        self.open: dict[str, Intent] = {}
        self._generation = 0
        self._dirty = False
        self._lock = asyncio.Lock()  # a save and a removal never cross

    async def async_load(self) -> None:
        """Read what the previous run left (at set-up: a file, no recorder)."""
        data = await self._store.async_load() or {}
        intents = data.get("intents")
        self.pending = []
        for value in intents if isinstance(intents, list) else []:
            try:
                self.pending.append(Intent.from_dict(value))
            except KeyError, TypeError, ValueError:
                continue

    async def begin(self, key: str, intent: Intent) -> None:
        """Record an intent and save it now, before its first step. An open intent of the same
        key (not committed yet) is widened to cover both."""
        current = self.open.get(key)
        if current is not None and current.kind is intent.kind:
            intent.start = min(intent.start, current.start)
            intent.end = max(intent.end, current.end)
        intent.queued = None
        self.open[key] = intent
        await self._save()

    def queued(self, key: str) -> None:
        """Every step of that intent is queued: the next recorder wait commits it."""
        if (intent := self.open.get(key)) is not None:
            self._generation += 1
            intent.queued = self._generation

    def mark(self) -> int:
        """Taken just before a recorder wait starts (see `committed`)."""
        return self._generation

    def committed(self, mark: int) -> None:
        """A recorder wait that started at `mark` has returned: drop the intents queued by
        then (in memory; saved by the next `begin` or `async_flush`)."""
        done = [k for k, i in self.open.items() if i.queued is not None and i.queued <= mark]
        for key in done:
            del self.open[key]
        self._dirty = self._dirty or bool(done)

    async def async_flush(self) -> None:
        """Save the journal if intents were dropped since the last save."""
        if self._dirty:
            await self._save()

    async def async_forget_pending(self) -> None:
        """The previous run's intents are repaired (and whatever the repair queued for later
        is saved by the wing): forget them."""
        if self.pending:
            self.pending = []
            await self._save()

    async def _save(self) -> None:
        async with self._lock:
            self._dirty = False
            intents = [*self.pending, *self.open.values()]
            if intents:
                await self._store.async_save({"intents": [i.as_dict() for i in intents]})
            else:
                await self._store.async_remove()
