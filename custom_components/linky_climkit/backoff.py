"""The one back-off every retry of a scheduled provider run goes through (pure, no I/O).

After a failed run nothing is called before `backoff_until`. The wait starts at the error's
base delay (a wing's table; 30 minutes for anything else, an unexpected exception included),
doubles with each failed run in a row, is never shorter than the provider's own "retry at"
and never longer than `CAP`: a far "retry at" (a hostile or broken answer) waits a day, then
the provider is asked again. A successful run forgets it all. Both numbers live in the
entry's persisted state, so a restart neither shortens nor forgets the wait; a wait stored by
an older version (any date) is brought back under `CAP` the first time it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from .providers.errors import QuotaError

CAP = timedelta(hours=24)
DEFAULT_BASE = timedelta(minutes=30)

type Bases = tuple[tuple[type[BaseException], timedelta], ...]


class BackoffState(Protocol):
    """The two persisted numbers of a back-off."""

    backoff_until: datetime | None
    backoff_seconds: float  # the last wait; 0 once a run succeeded


@dataclass(slots=True)
class Backoff:
    """A back-off kept apart from an entry's main one (e.g. the Climkit site's sensors)."""

    backoff_until: datetime | None = None
    backoff_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        until = None if self.backoff_until is None else self.backoff_until.isoformat()
        return {"backoff_until": until, "backoff_seconds": self.backoff_seconds}

    @classmethod
    def from_dict(cls, data: Any) -> Backoff:
        """Inverse of as_dict; anything unreadable is no back-off."""
        if not isinstance(data, dict):
            return cls()
        until = data.get("backoff_until")
        return cls(
            datetime.fromisoformat(until) if isinstance(until, str) else None,
            seconds(data.get("backoff_seconds")),
        )


def seconds(value: Any) -> float:
    """A stored wait in seconds (older stores have none: 0), within [0, CAP]."""
    try:
        number = float(value)
    except TypeError, ValueError:
        return 0.0
    if not number >= 0:  # NaN as well
        return 0.0
    return min(number, CAP.total_seconds())


def gate_open(state: BackoffState, now: datetime) -> bool:
    """Whether a run may call the provider now; an open gate forgets `backoff_until` (the
    wait itself is kept: a new failure doubles it)."""
    if state.backoff_until is None:
        return True
    if state.backoff_until > now + CAP:
        state.backoff_until = now + CAP
    if now >= state.backoff_until:
        state.backoff_until = None
        return True
    return False


def back_off(state: BackoffState, err: BaseException, now: datetime, bases: Bases = ()) -> datetime:
    """Record a failed run at `now`: the next one waits for `backoff_until` (returned)."""
    base = next((delay for cls, delay in bases if isinstance(err, cls)), DEFAULT_BASE)
    wait = max(base, 2 * timedelta(seconds=seconds(state.backoff_seconds)))
    if isinstance(err, QuotaError) and err.retry_at is not None:
        wait = max(wait, min(err.retry_at, now + CAP) - now)
    wait = min(wait, CAP)
    state.backoff_seconds = wait.total_seconds()
    state.backoff_until = now + wait
    return state.backoff_until


def succeeded(state: BackoffState) -> None:
    """A run went through: the next failure starts from its base delay again."""
    state.backoff_until = None
    state.backoff_seconds = 0.0
