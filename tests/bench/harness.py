"""Running the integration through time against simulators served like remote servers."""

from __future__ import annotations

import asyncio
import gc
import importlib
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import freezegun.api as freezegun_api
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.sync import ScheduledCoordinator

from .probes import BusyTimer, real_time


class Simulator(Protocol):
    """What both simulators offer."""

    async def start(self) -> str:
        """Serve on 127.0.0.1; the base URL."""

    async def stop(self) -> None:
        """Stop serving."""


class ThreadedService:
    """A simulator on its own thread and event loop, like a remote server: its CPU is not
    ours and cannot block our loop; the time it spends answering is measured to be
    subtracted from our wall time."""

    @property
    def thread(self) -> threading.Thread:
        """The thread the simulator answers on."""
        return self._thread

    def __init__(self, simulator: Simulator, name: str) -> None:
        """Serve `simulator` once `start` is awaited."""
        self.simulator = simulator
        self.name = name
        self.busy = BusyTimer()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"bench-{name}", daemon=True
        )
        handle: Callable[[Any], Awaitable[Any]] = simulator._handle  # type: ignore[attr-defined]
        busy = self.busy

        async def timed(request: Any) -> Any:
            start = real_time()
            size = 0
            try:
                response = await handle(request)
                body = getattr(response, "body", None)
                size = len(body) if isinstance(body, bytes) else 0
                return response
            finally:
                busy.add(real_time() - start, size)

        simulator._handle = timed  # type: ignore[attr-defined]

    async def start(self) -> str:
        """Start the thread and the server; the simulator's URL."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.simulator.start(), self._loop)
        try:
            return await asyncio.wrap_future(future)
        except BaseException:
            await self._stop_thread()
            raise

    async def stop(self) -> None:
        """Stop the server, the loop and the thread."""
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self.simulator.stop(), self._loop)
        try:
            await asyncio.wrap_future(future)
        finally:
            await self._stop_thread()

    async def _stop_thread(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._loop.close()


async def preload_integration(hass: HomeAssistant) -> None:
    """Import the integration and its sensor platform before anything is timed (Home
    Assistant loads them once at start, not per setup)."""
    from homeassistant.loader import async_get_integration

    assert await async_setup_component(hass, DOMAIN, {})
    integration = await async_get_integration(hass, DOMAIN)
    await integration.async_get_platforms(["sensor"])
    # python-slugify imports its transliteration tables the first time a name has a non-ASCII
    # letter ("Résidence"): once per process, at whichever entity comes first.
    await hass.async_add_executor_job(importlib.import_module, "text_unidecode")
    # A running Home Assistant has its shared HTTP session long before an entry is set up; the
    # first one of a process costs about 0.3 s on the loop (aiohttp's lazy set-up).
    async_get_clientsession(hass)


_NOW_CALL = re.compile(r"\b(?:datetime|date)\.(?:now|utcnow|today)\(")


def real_datetime_in_package(package: str = "custom_components.linky_climkit") -> list[str]:
    """Give the integration's modules back the real `datetime` and `date` classes.

    freezegun swaps them for Python subclasses in every loaded module: each datetime the
    integration parses or computes then pays Python-level `astimezone`, `+`, `-`… several
    times slower than production. The integration reads the time only through
    `dt_util.utcnow()` (still frozen); modules that call `datetime.now()`-like functions
    themselves keep the fake classes. Call after the package (and its platforms) are
    imported, once time is frozen. Returns the modules changed.
    """
    changed: list[str] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == package or name.startswith(package + ".")):
            continue
        path = getattr(module, "__file__", None)
        if path is None or _NOW_CALL.search(Path(path).read_text(encoding="utf-8")):
            continue
        for attribute, value in list(vars(module).items()):
            if not isinstance(value, type):
                continue
            real: type | None = None
            if value is not freezegun_api.real_datetime and issubclass(
                value, freezegun_api.real_datetime
            ):
                real = freezegun_api.real_datetime
            elif (
                value is not freezegun_api.real_date
                and issubclass(value, freezegun_api.real_date)
                and not issubclass(value, freezegun_api.real_datetime)
            ):
                real = freezegun_api.real_date
            if real is not None and value.__module__.startswith(("freezegun", "pytest_home")):
                setattr(module, attribute, real)
                changed.append(f"{name}.{attribute}")
    return changed


async def step(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    """Move the clock to `moment` (never backwards) and run what is due."""
    if moment > dt_util.utcnow():
        freezer.move_to(moment)
    async_fire_time_changed(hass, max(moment, dt_util.utcnow()))
    await hass.async_block_till_done(wait_background_tasks=True)


def next_moment(coordinators: Sequence[ScheduledCoordinator[Any]]) -> datetime | None:
    """The earliest scheduled run."""
    due = [c.next_run for c in coordinators if c.next_run is not None]
    return min(due) if due else None


async def run_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinators: Callable[[], Sequence[ScheduledCoordinator[Any]]],
    until: datetime,
    *,
    done: Callable[[], bool] | None = None,
    after_step: Callable[[], Awaitable[None]] | None = None,
) -> datetime | None:
    """Fire every scheduled run up to `until` in order (stop early once `done()`); the
    clock ends at `until` (or at the step that made `done()` true, which is returned)."""
    while True:
        moment = next_moment(coordinators())
        if moment is None or moment > until:
            break
        await step(hass, freezer, moment)
        if after_step is not None:
            await after_step()
        if done is not None and done():
            return dt_util.utcnow()
    await step(hass, freezer, until)
    return None


class HybridClock:
    """Real time for paced clients under a frozen clock: the frozen clock follows real
    elapsed time, so the Pacer and the simulator's 1 request/s limit see real gaps.

    With `real_waits`, the pacer's sleeps (and `wait_until`) really wait, off the event loop:
    the recorder keeps writing meanwhile, as in production, and the phase's real wall time is
    the production wall time. Without, a sleep moves the clock forward instantly (fast tests).
    `slept` is the waiting the pacer imposed.
    """

    def __init__(self, freezer: FrozenDateTimeFactory, *, real_waits: bool = False) -> None:
        """Follow real time from now on."""
        self._freezer = freezer
        self._real_waits = real_waits
        self._last = real_time()
        self.slept = 0.0

    def sync(self) -> None:
        """Add the real time elapsed since the previous sync to the frozen clock."""
        now = real_time()
        self._freezer.tick(timedelta(seconds=now - self._last))
        self._last = now

    def clock(self) -> float:
        """The pacer's clock: frozen time, synced first."""
        self.sync()
        return dt_util.utcnow().timestamp()

    async def _wait(self, seconds: float) -> None:
        self.sync()
        if seconds <= 0:
            return
        if self._real_waits:
            await asyncio.get_running_loop().run_in_executor(None, time.sleep, seconds)
            self.sync()
        else:
            self._freezer.tick(timedelta(seconds=seconds))

    async def sleep(self, seconds: float) -> None:
        """The pacer's sleep."""
        await self._wait(seconds)
        self.slept += max(0.0, seconds)

    async def wait_until(self, moment: datetime) -> None:
        """Let time pass until `moment` (a scheduled run)."""
        self.sync()
        await self._wait((moment - dt_util.utcnow()).total_seconds())


def prewarm_conso_api(sim: Any, first: date, end: date) -> None:
    """Compute the simulator's synthetic 5-minute data of [first, end) before anything is
    timed: a remote service's cost is not ours, and its CPU would compete for the GIL."""
    day = first
    while day < end:
        for meter in sim.meters.values():
            sim._fine_watts(meter, day, False)
            if meter.has_production:
                sim._fine_watts(meter, day, True)
        day += timedelta(days=1)


def keep_out_of_gc() -> None:
    """Move every object alive now (the simulators' precomputed data above all) out of the
    garbage collector's reach: a remote service's data is not in Home Assistant's heap, and
    each full collection would otherwise walk it. Undone by `gc.unfreeze()`."""
    gc.collect()
    gc.freeze()


def prewarm_climkit(
    sim: Any, site_id: str, types: Sequence[str], first: datetime, end: datetime
) -> None:
    """Same for the Climkit simulator (its per-day rows are cached)."""
    for meter_type in types:
        sim.interval_values(site_id, meter_type, first, end)
