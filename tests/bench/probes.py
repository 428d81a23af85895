"""Instruments: real time under a frozen clock, loop lag, CPU, memory, rows, service time.

The tests freeze time with freezegun, which also freezes `time.perf_counter`,
`time.monotonic` and the event loop's clock; wall times here come from freezegun's saved
`real_perf_counter`, CPU from `time.thread_time` (never patched).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
import threading
import time
import traceback
import tracemalloc
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

import freezegun.api as freezegun_api
from homeassistant.components.recorder import statistics as recorder_statistics
from homeassistant.components.recorder.const import DB_WORKER_PREFIX
from homeassistant.components.recorder.models.statistics import StatisticData, StatisticMetaData
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.linky_climkit.statistics import importer as importer_module

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


def real_time() -> float:
    """Seconds of real time (a monotonic clock freezegun does not freeze).

    Read through the module at each call: freezegun replaces every module attribute that
    holds a real time function (a `from freezegun.api import real_perf_counter` included)
    with its fake when it starts, but never touches its own module.
    """
    return float(freezegun_api.real_perf_counter())


# ---- loop lag ------------------------------------------------------------------------------


@dataclass(slots=True)
class Block:
    """One stretch during which the event loop did not get back to select(), with where it
    was (sampled while it lasted)."""

    seconds: float
    stack: list[str]


class LoopLagProbe:
    """Times every stretch the event loop spends between two select() calls.

    The loop only polls for I/O and timers in select(); anything longer between two polls
    delays every other callback by as much. The selector's `select` is wrapped (two clock
    reads per loop iteration, no extra wake-up); a watchdog thread samples the loop thread's
    stack once a stretch exceeds `sample_after`, so the longest blocks come with where they
    were. With `profile`, the watchdog also samples every busy moment (a sampling profiler of
    the event-loop thread only).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        sample_after: float = 0.03,
        period: float = 0.005,
        profile: bool = False,
    ) -> None:
        """Probe `loop`; call `start` and `stop` from the loop's thread."""
        self._loop = loop
        self.sample_after = sample_after
        self.period = period
        self.max_lag = 0.0
        self.blocks: list[Block] = []
        self.profile: StackProfile | None = StackProfile() if profile else None
        self._selector: Any = getattr(loop, "_selector", None)
        self._original: Callable[..., Any] | None = None
        self._last_exit = real_time()
        self._in_select = False
        self._stack: list[str] | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bench-loop-lag", daemon=True)
        self._loop_thread = threading.get_ident()

    def start(self) -> None:
        """Wrap the selector and start the watchdog."""
        if self._selector is None:
            raise RuntimeError("the loop-lag probe needs a selector event loop")
        self._loop_thread = threading.get_ident()
        original = self._original = self._selector.select

        def select(timeout: float | None = None) -> Any:
            entered = real_time()
            self._busy_ended(entered - self._last_exit)
            self._in_select = True
            try:
                return original(timeout)
            finally:
                self._in_select = False
                self._last_exit = real_time()

        self._last_exit = real_time()
        self._selector.select = select
        self._thread.start()

    def _busy_ended(self, busy: float) -> None:
        self.max_lag = max(self.max_lag, busy)
        stack, self._stack = self._stack, None
        if stack is not None:
            self.blocks.append(Block(busy, stack))
            self.blocks.sort(key=lambda b: -b.seconds)
            del self.blocks[5:]

    def _watch(self) -> None:
        while not self._stopped.wait(self.period):
            if self._in_select:
                continue
            stretch = real_time() - self._last_exit
            wanted = self.profile is not None or (
                self._stack is None and stretch > self.sample_after
            )
            if not wanted:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None or self._in_select:
                continue
            if self.profile is not None:
                self.profile.add(frame)
            if self._stack is None and stretch > self.sample_after:
                self._stack = _format_stack(frame)

    async def stop(self) -> None:
        """Stop the watchdog and unwrap the selector."""
        self._stopped.set()
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._busy_ended(real_time() - self._last_exit)
        if self._selector is not None:
            with contextlib.suppress(AttributeError):
                del self._selector.select  # the class's method again


class StackProfile:
    """Stack samples of one thread: inclusive and self counts per function."""

    def __init__(self) -> None:
        """No sample yet."""
        self.samples = 0
        self.inclusive: Counter[str] = Counter()
        self.own: Counter[str] = Counter()

    def add(self, frame: Any) -> None:
        """One sample of the thread's current frame."""
        self.samples += 1
        seen: set[str] = set()
        leaf = True
        if frame.f_code.co_name == "_on_gc":  # the bench's GC callback: a collection ran
            self.own["(garbage collection)"] += 1
            frame, leaf = frame.f_back, False
        while frame is not None:
            code = frame.f_code
            key = f"{_short(code.co_filename)}:{code.co_firstlineno} {code.co_name}"
            if leaf:
                self.own[key] += 1
                leaf = False
            if key not in seen:
                seen.add(key)
                self.inclusive[key] += 1
            frame = frame.f_back

    def report(self, top: int = 40) -> str:
        """The busiest functions, as a share of the busy (non-idle) samples."""
        busy = max(1, self.samples)
        lines = [
            f"{self.samples} samples of the busy event loop (every 5 ms outside select())",
            "",
            "inclusive (function and what it calls):",
        ]
        lines += [f"  {100 * n / busy:5.1f}%  {key}" for key, n in self.inclusive.most_common(top)]
        lines += ["", "self (the function's own code):"]
        lines += [f"  {100 * n / busy:5.1f}%  {key}" for key, n in self.own.most_common(top)]
        return "\n".join(lines) + "\n"


def _format_stack(frame: Any) -> list[str]:
    """The innermost frames, package and Home Assistant frames first in importance."""
    summary = traceback.extract_stack(frame)
    lines = [
        f"{_short(entry.filename)}:{entry.lineno} {entry.name}"
        for entry in summary
        if "asyncio" not in entry.filename or entry is summary[-1]
    ]
    return lines[-14:]


def _short(filename: str) -> str:
    for marker in ("custom_components/", "site-packages/", "tests/", "bench/", "lib/python"):
        index = filename.find(marker)
        if index >= 0:
            return filename[index:]
    return filename


# ---- rows written --------------------------------------------------------------------------

PHASE: ContextVar[str] = ContextVar("bench_phase", default="other")
"""What the integration is doing when it writes (first_import, daily, backfill, ...)."""


@dataclass(slots=True)
class Write:
    """One `async_add_external_statistics` call of the integration."""

    metadata: StatisticMetaData
    starts: array[float]  # UTC timestamps of the rows, compact
    phase: str
    at: float  # real time of the call

    @property
    def statistic_id(self) -> str:
        """The statistic written."""
        return self.metadata["statistic_id"]

    @property
    def rows(self) -> int:
        """Rows passed."""
        return len(self.starts)

    def days(self, tz: ZoneInfo) -> Iterator[date]:
        """The local day of each row."""
        for stamp in self.starts:
            yield datetime.fromtimestamp(stamp, UTC).astimezone(tz).date()


@dataclass(slots=True)
class Adjustment:
    """One `async_adjust_statistics` call of the integration."""

    statistic_id: str
    start: datetime
    delta: float
    phase: str


@dataclass(slots=True)
class RecorderWork:
    """One statistics import as the recorder thread ran it."""

    statistic_id: str
    rows: int
    seconds: float


@dataclass(slots=True)
class RowCounter:
    """Counts what the integration writes: rows per call, sum adjustments, with the phase;
    and times every statistics import in the recorder thread and every read of the importer."""

    writes: list[Write] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    imports: list[RecorderWork] = field(default_factory=list)  # every caller, floor included
    reads: list[float] = field(default_factory=list)  # seconds of each importer read

    def install(self, hass: HomeAssistant, patch: Callable[[object, str, object], None]) -> None:
        """Wrap the importer's recorder calls (`patch` is monkeypatch.setattr)."""
        original_add = async_add_external_statistics  # what the importer imported
        recorder = get_instance(hass)
        original_adjust = recorder.async_adjust_statistics

        def add(
            hass: HomeAssistant,
            metadata: StatisticMetaData,
            statistics: Iterable[StatisticData],
            **kwargs: Any,
        ) -> None:
            rows = list(statistics)
            starts = array("d", (row["start"].timestamp() for row in rows))
            self.writes.append(Write(metadata, starts, PHASE.get(), real_time()))
            original_add(hass, metadata, rows, **kwargs)

        def adjust(statistic_id: str, start: datetime, delta: float, unit: str) -> None:
            self.adjustments.append(Adjustment(statistic_id, start, delta, PHASE.get()))
            original_adjust(statistic_id, start, delta, unit)

        original_import = recorder_statistics.import_statistics

        def timed_import(
            instance: Any, metadata: StatisticMetaData, statistics: Any, table: Any
        ) -> bool:
            rows = list(statistics)
            start = real_time()
            try:
                return bool(original_import(instance, metadata, rows, table))
            finally:
                seconds = real_time() - start
                self.imports.append(RecorderWork(metadata["statistic_id"], len(rows), seconds))

        original_read = statistics_during_period  # what the importer imported

        def timed_read(*args: Any, **kwargs: Any) -> Any:
            start = real_time()
            try:
                return original_read(*args, **kwargs)
            finally:
                self.reads.append(real_time() - start)

        patch(importer_module, "async_add_external_statistics", add)
        patch(recorder, "async_adjust_statistics", adjust)
        patch(recorder_statistics, "import_statistics", timed_import)
        patch(importer_module, "statistics_during_period", timed_read)

    def mark(self) -> tuple[int, int]:
        """A position to measure from."""
        return len(self.writes), len(self.adjustments)

    def writes_since(self, mark: tuple[int, int], phase: str | None = None) -> list[Write]:
        """Writes after `mark` (of one phase)."""
        return [w for w in self.writes[mark[0] :] if phase is None or w.phase == phase]

    def adjustments_since(
        self, mark: tuple[int, int], phase: str | None = None
    ) -> list[Adjustment]:
        """Adjustments after `mark` (of one phase)."""
        return [a for a in self.adjustments[mark[1] :] if phase is None or a.phase == phase]


def tag_phase[**P, R](
    phase: str, method: Callable[P, Awaitable[R]]
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Wrap a coroutine method so that what it writes is counted under `phase`."""

    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = PHASE.set(phase)
        try:
            return await method(*args, **kwargs)
        finally:
            PHASE.reset(token)

    return wrapper


# ---- one measured phase --------------------------------------------------------------------


class BusyTimer:
    """Seconds spent by a service (simulator) answering, to subtract from our wall time."""

    def __init__(self) -> None:
        """Nothing spent yet."""
        self.seconds = 0.0
        self.requests = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def add(self, seconds: float, size: int = 0) -> None:
        """One answer of `size` bytes took `seconds`."""
        with self._lock:
            self.seconds += seconds
            self.requests += 1
            self.bytes += size


@dataclass(slots=True)
class Measurement:
    """What one phase cost."""

    wall: float = 0.0  # real seconds, services' answering time included
    services: float = 0.0  # real seconds the simulators spent answering
    cpu: float = 0.0  # CPU seconds of the event-loop thread
    cpu_outside: float | None = None  # CPU seconds of every thread but the excluded ones
    max_lag: float = 0.0  # longest event-loop block, seconds
    blocks: list[Block] = field(default_factory=list)
    memory_peak: float | None = None  # bytes allocated at the peak (tracemalloc)
    gc_pauses: int = 0  # garbage collections during the phase (every thread)
    gc_longest: float = 0.0  # seconds
    gc_total: float = 0.0  # seconds

    @property
    def ours(self) -> float:
        """Wall time without the services' answering time."""
        return max(0.0, self.wall - self.services)


def thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds one thread of this process has used (Linux /proc; 0 once it has ended)."""
    try:
        stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


NOT_OURS_PREFIXES = (DB_WORKER_PREFIX, "bench-")
PROFILE_ENV = "BENCH_PROFILE"
PROFILE_DIR = ROOT / "bench-results" / "profiles"


class Phase:
    """`async with Phase(...) as m:` measures wall, CPU, loop lag and (optionally) memory.

    tracemalloc makes Python code about three times slower: a phase measures memory or
    times, not both. With $BENCH_PROFILE set, a named phase also samples the event-loop
    thread's stack every 5 ms into bench-results/profiles/<name>.txt (cProfile would see
    every thread, the recorder's included).
    """

    def __init__(
        self,
        timers: Iterable[BusyTimer] = (),
        *,
        memory: bool = False,
        name: str = "",
        exclude: Iterable[threading.Thread] = (),
    ) -> None:
        """Measure while the block runs; `timers` are the services to subtract, `exclude` the
        threads whose CPU is not ours (the recorder's, the simulators')."""
        self._timers = list(timers)
        self._exclude = list(exclude)
        self._outside = 0.0
        self._memory = memory
        self._name = name
        self._profile = bool(name and os.environ.get(PROFILE_ENV))
        self.result = Measurement()
        self._probe: LoopLagProbe | None = None
        self._start = 0.0
        self._cpu = 0.0
        self._busy = 0.0

    def _cpu_outside(self) -> float:
        """Process CPU minus the excluded threads' and the recorder's database workers' and
        the bench's own; the worker threads the integration uses count as ours."""
        others = [
            t
            for t in threading.enumerate()
            if t in self._exclude or t.name.startswith(NOT_OURS_PREFIXES)
        ]
        return time.process_time() - sum(thread_cpu(t) for t in others)

    def _services(self) -> float:
        return sum(t.seconds for t in self._timers)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = real_time()
            return
        pause = real_time() - self._gc_started
        result = self.result
        result.gc_pauses += 1
        result.gc_total += pause
        result.gc_longest = max(result.gc_longest, pause)

    async def __aenter__(self) -> Measurement:
        """Start every instrument."""
        gc.collect()  # garbage of earlier phases is not this phase's cost
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)
        if self._memory:
            tracemalloc.start(1)
        self._probe = LoopLagProbe(asyncio.get_running_loop(), profile=self._profile)
        self._probe.start()
        self._busy = self._services()
        self._cpu = time.thread_time()
        self._outside = self._cpu_outside()
        self._start = real_time()
        return self.result

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the instruments and fill the measurement."""
        gc.callbacks.remove(self._on_gc)
        result = self.result
        result.wall = real_time() - self._start
        result.cpu = time.thread_time() - self._cpu
        if self._exclude:
            result.cpu_outside = self._cpu_outside() - self._outside
        result.services = self._services() - self._busy
        if self._memory:
            result.memory_peak = float(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        assert self._probe is not None
        await self._probe.stop()
        result.max_lag = self._probe.max_lag
        result.blocks = list(self._probe.blocks)
        if self._probe.profile is not None:
            PROFILE_DIR.mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "_" for c in self._name.lower()).strip("_")
            path = PROFILE_DIR / f"{slug}.txt"
            path.write_text(self._probe.profile.report(), encoding="utf-8")


class Stopwatch:
    """Real time and service time between `lap` calls (per-step costs inside a phase)."""

    def __init__(self, timers: Iterable[BusyTimer]) -> None:
        """Start now."""
        self._timers = list(timers)
        self._last = real_time()
        self._busy = self._services()

    def _cpu_outside(self) -> float:
        """Process CPU minus the excluded threads' and the recorder's database workers' and
        the bench's own; the worker threads the integration uses count as ours."""
        others = [
            t
            for t in threading.enumerate()
            if t in self._exclude or t.name.startswith(NOT_OURS_PREFIXES)
        ]
        return time.process_time() - sum(thread_cpu(t) for t in others)

    def _services(self) -> float:
        return sum(t.seconds for t in self._timers)

    def lap(self) -> float:
        """Our seconds (services excluded) since the previous lap."""
        now, busy = real_time(), self._services()
        ours = (now - self._last) - (busy - self._busy)
        self._last, self._busy = now, busy
        return max(0.0, ours)

    def restart(self) -> Self:
        """Forget the time elapsed so far."""
        self._last, self._busy = real_time(), self._services()
        return self


async def settle(hass: HomeAssistant) -> None:
    """Every task, background task and recorder write done."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
