"""The instance-wide Conso API call budget, shared fairly (pure arithmetic; persistence lives
elsewhere).

Conso API bans any IP making 100 calls in 12 hours, silently and for good. We stay far below:
at most `cap` calls in any rolling window, whoever makes them. Within it:

- the config flow's validation calls keep `FLOW_RESERVE` calls no entry may take;
- each Linky entry has a share (its daily sync's calls): the calls of its share it
  has not made in the window (at daily priority: filling gaps does not use it up) are kept for
  it, so a failing or busy entry never starves another entry's daily sync;
- backfill (filling gaps) gets only what every share and the flow reserve leave, and never more
  than the old fixed margin (`RESERVE_PER_ENTRY` a Linky entry, at most `RESERVE_MAX`) allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum

WINDOW = timedelta(hours=12)
HARD_CAP = 24
FLOW_RESERVE = 2
RESERVE_PER_ENTRY = 6
RESERVE_MAX = 12
FLOW = ""  # the owner of a config flow's calls (and of calls stored without an owner)


class Priority(IntEnum):
    """Who may take which calls, most privileged first."""

    FLOW = 0  # a config flow's validation: the whole cap
    DAILY = 1  # daily syncs and first imports: never another entry's share nor the flow's
    BACKFILL = 2  # filling gaps: what everything else leaves


@dataclass(frozen=True, slots=True)
class Call:
    """One call made: when, by which entry (`FLOW` for a config flow), at which priority."""

    at: datetime
    owner: str = FLOW
    priority: Priority = Priority.FLOW


@dataclass(slots=True)
class CallBudget:
    """The calls made in the last window and each Linky entry's share."""

    cap: int = HARD_CAP
    window: timedelta = WINDOW
    calls: list[Call] = field(default_factory=list)
    shares: dict[str, int] = field(default_factory=dict)

    def prune(self, now: datetime) -> None:
        """Forget calls older than the window."""
        horizon = now - self.window
        self.calls = sorted((c for c in self.calls if c.at > horizon), key=lambda c: c.at)

    def used(self, now: datetime, owner: str | None = None) -> int:
        """Calls made in the rolling window ending now (by `owner` only, when given)."""
        horizon = now - self.window
        return sum(1 for c in self.calls if c.at > horizon and owner in (None, c.owner))

    def unspent(self, now: datetime, owner: str) -> int:
        """The calls of an entry's share it has not made in the window at daily priority."""
        horizon = now - self.window
        made = sum(
            1
            for c in self.calls
            if c.at > horizon and c.owner == owner and c.priority <= Priority.DAILY
        )
        return max(0, self.shares.get(owner, 0) - made)

    def reserved(self, now: datetime, priority: Priority, owner: str = FLOW) -> int:
        """How many of the cap's calls `owner` may not take at this priority."""
        if priority is Priority.FLOW:
            return 0
        others = sum(self.unspent(now, o) for o in self.shares if o != owner)
        if priority is Priority.DAILY:
            return FLOW_RESERVE + others
        margin = min(RESERVE_MAX, RESERVE_PER_ENTRY * max(1, len(self.shares)))
        return max(FLOW_RESERVE + others + self.unspent(now, owner), margin)

    def available(self, now: datetime, priority: Priority, owner: str = FLOW) -> int:
        """Calls `owner` may still make now at this priority."""
        return max(0, self.cap - self.reserved(now, priority, owner) - self.used(now))

    def spend(self, now: datetime, owner: str = FLOW, priority: Priority = Priority.FLOW) -> None:
        """Record one call made now by `owner` at this priority."""
        self.prune(now)
        self.calls.append(Call(now, owner, priority))

    def next_slot(self, now: datetime, priority: Priority, owner: str = FLOW) -> datetime:
        """When `owner` may make a call of this priority (now if it may now): the first moment
        a call leaving the window frees one (a share's call leaving it also reserves one
        again, hence the check at each)."""
        if self.available(now, priority, owner) > 0:
            return now
        for expiry in sorted(c.at + self.window for c in self.calls if c.at + self.window > now):
            if self.available(expiry, priority, owner) > 0:
                return expiry
        return now + self.window  # shares exceed the cap: ask again after a window

    def as_dict(self) -> dict[str, list[list[str | int]]]:
        """JSON-ready form for the store (the shares are set again by each entry)."""
        return {"calls": [[c.at.isoformat(), c.owner, int(c.priority)] for c in self.calls]}

    @classmethod
    def from_dict(cls, data: object) -> CallBudget:
        """Rebuild from the store, ignoring anything unreadable; a call stored by an older
        version (a bare time) counts for nobody's share."""
        budget = cls()
        if isinstance(data, dict) and isinstance(data.get("calls"), list):
            for raw in data["calls"]:
                stamp, owner, priority = raw, FLOW, Priority.FLOW
                if isinstance(raw, list) and len(raw) == 3:
                    stamp, owner = raw[0], raw[1] if isinstance(raw[1], str) else FLOW
                    if raw[2] in set(Priority):
                        priority = Priority(raw[2])
                try:
                    at = datetime.fromisoformat(stamp)
                except TypeError, ValueError:
                    continue
                if at.tzinfo is not None:
                    budget.calls.append(Call(at, owner, priority))
        budget.calls.sort(key=lambda c: c.at)
        return budget
