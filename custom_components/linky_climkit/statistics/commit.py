"""A wait that proves the recorder has committed what was queued before it.

`Recorder.async_block_till_done` returns at once when the recorder's queue is empty, and the
queue is empty while the recorder thread runs the last task it took: an import of thousands
of rows may still be uncommitted then. The recorder runs its tasks one by one, each
statistics task (import, adjust, clear) in its own committed session; a `SynchronizeTask`
queued behind them resolves once they all are. Only after Home Assistant has started (the
recorder runs no task before): never in a set-up.
"""

from __future__ import annotations

from homeassistant.components.recorder.tasks import SynchronizeTask
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance


async def async_committed(hass: HomeAssistant) -> None:
    """Return once every recorder task queued before this call is committed."""
    instance = get_instance(hass)
    # The queue first (what a start-up check watches), then the task it may still be running.
    await instance.async_block_till_done()
    future = hass.loop.create_future()
    instance.queue_task(SynchronizeTask(future))
    await future
