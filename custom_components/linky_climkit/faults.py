"""Test-only fault points: a hard stop (SIGKILL, as a power cut) at a named point between the
steps of a multi-step change.

The end-to-end tests start Home Assistant with `LINKY_CLIMKIT_FAULT=<name>`; the first time the
code reaches the point of that name the process kills itself, then the test restarts it
without the variable and checks that nothing was lost or doubled. The variable is read once,
at import; without it (always, outside these tests) every point does nothing.

The points (where they are):
- `import.intent`: the intent of a multi-step change is saved, nothing is written yet;
- `import.cleared`: a replaced statistic is cleared (committed), not re-inserted yet;
- `import.written`: a block's rows are written (committed), the later sums not shifted yet;
- `progress.saved`: a run's progress (Linky's pending work and backfill cursor, Climkit's
  history cursor) has just been saved;
- `history.saved`: an *Import history* job's cursor has just been saved, more days to go;
- `registers.intent`: days whose registers became known are to be priced again (periods from
  the meter): the intent is saved, no cost is written yet.
"""

from __future__ import annotations

import os
import signal

from homeassistant.core import HomeAssistant

from .statistics.commit import async_committed

FAULT_ENV = "LINKY_CLIMKIT_FAULT"
_ARMED = os.environ.get(FAULT_ENV, "")


def armed(name: str) -> bool:
    """Whether the point `name` is the one to stop at."""
    return bool(_ARMED) and name == _ARMED


def fault_point(name: str) -> None:
    """Stop the process here, at once, when `name` is armed; nothing otherwise."""
    if armed(name):
        os.write(2, f"linky_climkit: fault point {name}: SIGKILL\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)


async def fault_point_committed(hass: HomeAssistant, name: str) -> None:
    """The same, once the recorder has committed what is queued: the worst moment for a
    power cut between two recorder tasks (the first done, the next not)."""
    if armed(name):
        await async_committed(hass)
        fault_point(name)
