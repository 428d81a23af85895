"""The instance-wide Conso API call budget (pure arithmetic; persistence lives elsewhere).

Conso API bans any IP making 100 calls in 12 hours, silently and for good. We stay far below:
at most `cap` calls in any rolling window, and backfill only gets what daily syncs leave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum

WINDOW = timedelta(hours=12)
HARD_CAP = 24


class Priority(IntEnum):
    """Daily syncs and first imports come first; history backfill takes what is left."""

    DAILY = 0
    BACKFILL = 1


@dataclass(slots=True)
class CallBudget:
    """Timestamps of the calls made in the last window."""

    cap: int = HARD_CAP
    window: timedelta = WINDOW
    calls: list[datetime] = field(default_factory=list)

    def prune(self, now: datetime) -> None:
        """Forget calls older than the window."""
        horizon = now - self.window
        self.calls = sorted(c for c in self.calls if c > horizon)

    def used(self, now: datetime) -> int:
        """Calls made in the rolling window ending now."""
        horizon = now - self.window
        return sum(1 for c in self.calls if c > horizon)

    def limit(self, priority: Priority, reserve: int) -> int:
        """How many calls a priority may have in the window."""
        if priority is Priority.DAILY:
            return self.cap
        return max(0, self.cap - reserve)

    def available(self, now: datetime, priority: Priority, reserve: int = 0) -> int:
        """Calls that may still be made now at this priority."""
        return max(0, self.limit(priority, reserve) - self.used(now))

    def spend(self, now: datetime) -> None:
        """Record one call made now."""
        self.prune(now)
        self.calls.append(now)

    def next_slot(self, now: datetime, priority: Priority, reserve: int = 0) -> datetime:
        """When a call of this priority may be made (now if it may be made now)."""
        limit = self.limit(priority, reserve)
        recent = sorted(c for c in self.calls if c > now - self.window)
        if len(recent) < limit:
            return now
        if limit == 0:
            return (recent[-1] if recent else now) + self.window
        # The window must shed enough calls to get back below the limit.
        return recent[len(recent) - limit] + self.window

    def as_dict(self) -> dict[str, list[str]]:
        """JSON-ready form for the store."""
        return {"calls": [c.isoformat() for c in self.calls]}

    @classmethod
    def from_dict(cls, data: object) -> CallBudget:
        """Rebuild from the store, ignoring anything unreadable."""
        budget = cls()
        if isinstance(data, dict) and isinstance(data.get("calls"), list):
            for raw in data["calls"]:
                try:
                    stamp = datetime.fromisoformat(raw)
                except TypeError, ValueError:
                    continue
                if stamp.tzinfo is not None:
                    budget.calls.append(stamp)
        budget.calls.sort()
        return budget
