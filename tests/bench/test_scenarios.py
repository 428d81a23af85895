"""The scenarios of `scripts/bench`.

Each test drives the integration through (frozen) time against a simulator served from its
own thread, records its figures in `tests.bench.results.RESULTS` and asserts only that the scenario
itself ran as intended: targets are judged by the table (a missed target fails the run, not
the test). Figures computed over several runs (medians, growth) are added when the session
ends (`report_aggregates`).
"""

from __future__ import annotations

import gc
import itertools
import math
import statistics
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.models.statistics import StatisticData
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.linky_climkit.clients import PACER_KEY
from custom_components.linky_climkit.climkit.coordinator import WINDOW_DAYS, ClimkitCoordinator
from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.data import SiteRuntime
from custom_components.linky_climkit.linky.budget_store import DATA_KEY as BUDGET_KEY
from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers.climkit import Pacer
from custom_components.linky_climkit.statistics.aggregation import hour_starts
from custom_components.linky_climkit.statistics.ids import energy_spec, statistic_id
from custom_components.linky_climkit.statistics.importer import Importer
from custom_components.linky_climkit.tariffs.costs import CostBook
from custom_components.linky_climkit.tariffs.engine import OffPeakRange
from custom_components.linky_climkit.tariffs.stored import (
    new_tariff_options,
    off_peak_to_options,
    period_options,
    with_period,
)
from tests.bench.startup import CORE, OURS, import_seconds
from tests.conftest import CH_NOW, FULL_HISTORY, NOW, PRM, PROD_PRM, climkit_entry
from tests.helpers.statistics_reader import hourly_rows
from tests.helpers.time_travel import max_calls_in_window
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator, demo_site
from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile
from tests.simulators.conso_api_index import RegisterPlan

from .floor import in_run_floor, quiesce, recorder_floor
from .harness import (
    HybridClock,
    ThreadedService,
    keep_out_of_gc,
    preload_integration,
    prewarm_climkit,
    prewarm_conso_api,
    real_datetime_in_package,
    run_until,
    step,
)
from .linky import (
    CHANNELS,
    SetupRun,
    days,
    entry_for,
    hours_in,
    measured_first_setup,
    rewritten,
    stored_rows,
)
from .probes import MB, Measurement, Phase, RowCounter, Stopwatch, real_time, settle
from .results import RESULTS, Results

LAG_LIMIT_MS = 50.0
MEMORY_LIMIT_MB = 100.0
OVERHEAD_LIMIT = 1.3  # our wall time / recorder floor for the same rows
LINEAR_LIMIT = 1.25  # time per row with more history / with less: growth must stay linear
CPU_LIMIT_S = 3.0
PACING_LIMIT = 1.3  # Climkit wall / the larger of its pacing and recorder floors
SETUP_REPEATS = {3: 5, 2: 2, 1: 2}  # timed first setups per history length (median reported)

EARLY_OFFSET = 10 * 60 + 17  # 06:10:17, two attempts before Enedis publishes (08:00)
TESTS_OFFSET = 3600 + 17  # 07:00:17, the test suite's: one attempt before publication
LATE_OFFSET = 2 * 3600 + 47 * 60 + 13  # 08:47:13, after publication

S_SETUP = "Linky first setup (3 y daily + 7 d hourly, cons + prod + max power)"
S_BACKFILL = "Linky full hourly backfill of 24 months"
S_STEADY = "Linky steady state, 30 simulated days"
S_RESTART = "Home Assistant restart when up to date"
S_OFF = "Home Assistant off for 12 days, then on (cons + prod, 60 days hourly)"
S_CLIMKIT = "Climkit first setup, 1 site, 1 y of 15-min data, 6 meters"
S_TARIFF = "tariff change, 3 years hourly"
S_GROWTH = "growth from 1 to 3 years of data"
S_STARTUP = "start-up cost: loading the integration"
ORDER = [S_SETUP, S_BACKFILL, S_STEADY, S_RESTART, S_CLIMKIT, S_TARIFF, S_GROWTH, S_STARTUP]

pytestmark = pytest.mark.usefixtures("socket_enabled")

_setup_runs: dict[int, list[SetupRun]] = defaultdict(list)
_memory_runs: dict[int, SetupRun] = {}
_FINE_CACHE: dict[tuple[Any, ...], list[float]] = {}  # the Conso API simulator's, shared


def loop_and_memory(results: Results, scenario: str, m: Measurement, *, note: str = "") -> None:
    """The figures every scenario has: longest event-loop block and peak memory added."""
    results.at_most(
        scenario,
        "longest event-loop block (loop-lag probe)",
        m.max_lag * 1000,
        LAG_LIMIT_MS,
        unit="ms",
        digits=0,
        strict=True,
        measured=f"{m.max_lag * 1000:.0f} ms (longest GC pause {m.gc_longest * 1000:.0f} ms)",
        details={
            "gc": {
                "pauses": m.gc_pauses,
                "longest_ms": m.gc_longest * 1000,
                "total_ms": m.gc_total * 1000,
            },
            "blocks": [{"ms": round(b.seconds * 1000), "stack": b.stack} for b in m.blocks],
        },
    )
    if m.memory_peak is not None:
        memory(results, scenario, m.memory_peak, note=note)


def memory(results: Results, scenario: str, peak: float, *, note: str = "") -> None:
    """Peak memory added during a scenario."""
    results.at_most(
        scenario,
        "peak memory added (tracemalloc)",
        peak / MB,
        MEMORY_LIMIT_MB,
        unit="MB",
        digits=1,
        strict=True,
        measured=f"{peak / MB:.1f} MB{note}",
    )


async def shutdown(hass: HomeAssistant, service: ThreadedService) -> None:
    """Unload the integration (no timer may call a stopped simulator), stop the simulator.

    A sync still running is finished and the timers are stopped first: a sync cancelled by
    the unload re-arms its timer in its `finally` after the unload cancelled it (a timer then
    outlives the entry).
    """
    try:
        await hass.async_block_till_done(wait_background_tasks=True)
        loaded = [
            e
            for e in hass.config_entries.async_entries(DOMAIN)
            if e.state is ConfigEntryState.LOADED
        ]
        for entry in loaded:
            runtime = entry.runtime_data
            coordinator = runtime.coordinator if isinstance(runtime, SiteRuntime) else runtime
            coordinator.async_cancel_timer()
        for entry in loaded:
            await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await service.stop()
        gc.unfreeze()


def linky_sim(*meters: MeterProfile) -> tuple[ConsoApiSimulator, ThreadedService]:
    """A Conso API simulator, served from its own thread once started."""
    sim = ConsoApiSimulator(list(meters))
    sim._fine_cache = _FINE_CACHE
    return sim, ThreadedService(sim, "conso-api")


async def start_linky(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    service: ThreadedService,
    *,
    history_days: int,
    future_days: int = 1,
) -> None:
    """Paris, the clock at the tests' NOW, the integration loaded, the simulator up."""
    await hass.config.async_set_time_zone("Europe/Paris")
    freezer.move_to(NOW)
    await preload_integration(hass)
    real_datetime_in_package()
    sim: Any = service.simulator
    today = NOW.date()
    prewarm_conso_api(sim, today - timedelta(days=history_days), today + timedelta(future_days))
    sim.base_url = await service.start() + "/api"
    keep_out_of_gc()


def producing_meter(prm: str = PROD_PRM, *, years: int = 3) -> MeterProfile:
    """The first-setup meter: consumption, production, hourly data for years."""
    return MeterProfile(
        prm,
        seed=5,
        has_production=True,
        hourly_since=FULL_HISTORY,
        activation=NOW.date() - timedelta(days=365 * years) if years < 3 else FULL_HISTORY,
    )


# ---- Linky: first setup, then the whole hourly backfill ------------------------------------


async def test_linky_first_setup_and_backfill(
    bench_hass: HomeAssistant, freezer: FrozenDateTimeFactory, counter: RowCounter
) -> None:
    """3 years daily + 7 days hourly in one setup, then 24 months of hourly history."""
    hass = bench_hass
    meter = producing_meter()
    sim, service = linky_sim(meter)
    await start_linky(hass, freezer, service, history_days=1110, future_days=16)
    fetches: list[tuple[str, str, date, date]] = []
    try:
        run, entry = await measured_first_setup(
            hass, sim, service, counter, meter, TESTS_OFFSET, memory=False, fetches=fetches
        )
        _setup_runs[3].append(run)
        await backfill(hass, freezer, sim, service, counter, entry.runtime_data, fetches)
    finally:
        await shutdown(hass, service)


async def backfill(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: ConsoApiSimulator,
    service: ThreadedService,
    counter: RowCounter,
    coordinator: LinkyCoordinator,
    fetches: list[tuple[str, str, date, date]],
) -> None:
    """Run until the hourly history is complete (at most 14 simulated days): the first day
    with tracemalloc on (memory), the rest timed (loop lag, time per row)."""
    mark = counter.mark()
    steps: list[tuple[float, float, int, date]] = []  # (ours s, recorder s, rows, oldest day)
    watch = Stopwatch([service.busy])
    seen = [counter.mark()]
    imports = [len(counter.imports)]
    timed = [False]

    async def after_step() -> None:
        await settle(hass)
        seconds = watch.lap()
        writes = counter.writes_since(seen[0])
        work = counter.imports[imports[0] :]
        seen[0], imports[0] = counter.mark(), len(counter.imports)
        if timed[0] and writes and all(w.phase == "backfill" for w in writes):
            first = min(min(w.starts) for w in writes)
            oldest = datetime.fromtimestamp(first, PARIS).date()
            recorder = sum(w.seconds for w in work)
            steps.append((seconds, recorder, sum(w.rows for w in writes), oldest))
        watch.lap()  # this bookkeeping is not the next step's time

    def done() -> bool:
        return coordinator.history_complete()

    async with Phase([service.busy], memory=True) as traced:
        done_at = await run_until(
            hass,
            freezer,
            lambda: [coordinator],
            NOW + timedelta(days=1),
            done=done,
            after_step=after_step,
        )
    timed[0] = True
    timed_mark = counter.mark()
    async with Phase([service.busy], name="linky backfill") as m:
        watch.restart()
        if done_at is None:
            done_at = await run_until(
                hass,
                freezer,
                lambda: [coordinator],
                NOW + timedelta(days=14),
                done=done,
                after_step=after_step,
            )
    assert done_at is not None, "the backfill did not finish in 14 simulated days"
    s = S_BACKFILL
    per_day = Counter(c.at.astimezone(PARIS).date() for c in sim.calls)
    RESULTS.at_most(
        s,
        "Conso API calls per rolling 12 h (max), a meter that consumes and produces",
        max_calls_in_window(sim.calls),
        24,
        digits=0,
        details={"calls": len(sim.calls), "per_day": {str(k): v for k, v in per_day.items()}},
    )
    elapsed = (done_at - NOW).total_seconds() / 86400
    backfill_calls = sum(1 for phase, *_ in fetches if phase == "backfill")
    # Two load curves double the backfill: with the daily syncs, more calls than 24 per 12 h
    # allow in 5 days, so the 5-day target is the consuming meter's (below); this one is
    # reported against the floor the cap itself sets.
    made = sum(per_day.values())
    cap_floor = made / (2 * 24)
    RESULTS.info(
        s,
        "days to finish, a meter that consumes and produces",
        f"{elapsed:.1f} days ({backfill_calls} load-curve calls of 7 days; the {made} calls"
        f" need ≥ {cap_floor:.1f} days at 24 per 12 h)",
        value=elapsed,
        unit="days",
    )
    RESULTS.info(
        s,
        "Conso API calls per day (first setup, then backfill)",
        ", ".join(str(per_day[d]) for d in sorted(per_day)),
    )
    fetched: set[tuple[str, date]] = set()
    for phase, type_, first, end in fetches:
        if phase == "backfill":
            channel = "production" if "production" in type_ else "consumption"
            fetched.update((channel, day) for day in days(first, end))
    needed = sum(hours_in(day) for _, day in fetched if day >= FULL_HISTORY)
    writes = counter.writes_since(mark, "backfill")
    outside = 0
    for write in writes:
        channel = write.statistic_id.rsplit("_", 1)[-1]
        outside += sum(1 for day in write.days(PARIS) if (channel, day) not in fetched)
    adjustments = counter.adjustments_since(mark, "backfill")
    rows = sum(w.rows for w in writes)
    RESULTS.equal(
        s,
        "rows rewritten outside the backfilled days",
        outside,
        0,
        target="0 (sums shifted, not rewritten)",
        measured=(
            f"{outside} (wrote {rows} rows for {needed} backfilled hours;"
            f" {len(adjustments)} sum adjustments in {len(writes)} imports)"
        ),
        details={
            "backfill_rows": rows,
            "hours_needed": needed,
            "imports": len(writes),
            "adjustments": len(adjustments),
            "written_twice": rewritten(writes),
        },
    )
    loop_and_memory(RESULTS, s, m)
    assert traced.memory_peak is not None
    memory(RESULTS, s, traced.memory_peak, note=" (first simulated day)")
    timed_rows = sum(w.rows for w in counter.writes_since(timed_mark, "backfill"))
    RESULTS.info(
        s,
        "our wall time / loop-thread CPU (day 2 to the end)",
        f"{m.ours:.1f} s / {m.cpu:.1f} s for {timed_rows} backfill rows",
        value=m.ours,
        unit="s",
    )
    growth_of_backfill(steps)


def growth_of_backfill(steps: list[tuple[float, float, int, date]]) -> None:
    """Time per backfilled row, newest 12 months against oldest 12 months; judged on our
    time over the recorder's own time for the same steps (the machine's speed cancels)."""
    cut = NOW.date() - timedelta(days=365)
    newer = [(t, rec, r) for t, rec, r, oldest in steps if oldest >= cut]
    older = [(t, rec, r) for t, rec, r, oldest in steps if oldest < cut]
    if not newer or not older:
        RESULTS.error(S_GROWTH, "backfill steps missing for the growth figure")
        return

    def per_row(group: list[tuple[float, float, int]]) -> tuple[float, float]:
        rows = sum(r for *_, r in group)
        return sum(t for t, *_ in group) / rows, sum(rec for _, rec, _ in group) / rows

    ours_new, rec_new = per_row(newer)
    ours_old, rec_old = per_row(older)
    growth = (ours_old / rec_old) / (ours_new / rec_new)
    RESULTS.at_most(
        S_GROWTH,
        "Linky backfill: time per row, newest → oldest 12 months",
        growth,
        LINEAR_LIMIT,
        unit="×",
        measured=(
            f"{ours_new * 1000:.2f} → {ours_old * 1000:.2f} ms/row, recorder"
            f" {rec_new * 1000:.2f} → {rec_old * 1000:.2f}; relative to it {growth:.2f}×"
        ),
        target=f"≤ {LINEAR_LIMIT}× (linear)",
    )


async def test_linky_backfill_consumption_only(
    bench_hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The same backfill for a meter that only consumes: half the load-curve calls."""
    hass = bench_hass
    sim, service = linky_sim(MeterProfile(PRM, seed=3, hourly_since=FULL_HISTORY))
    await start_linky(hass, freezer, service, history_days=1110, future_days=16)
    try:
        entry = entry_for(sim, PRM, TESTS_OFFSET)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await settle(hass)
        coordinator: LinkyCoordinator = entry.runtime_data
        done_at = await run_until(
            hass,
            freezer,
            lambda: [coordinator],
            NOW + timedelta(days=14),
            done=coordinator.history_complete,
        )
    finally:
        await shutdown(hass, service)
    assert done_at is not None, "the backfill did not finish in 14 simulated days"
    elapsed = (done_at - NOW).total_seconds() / 86400
    curves = sum(1 for c in sim.calls if c.type.startswith("courbe_de_charge"))
    RESULTS.at_most(
        S_BACKFILL,
        "days to finish, a meter that only consumes",
        elapsed,
        5,
        unit="days",
        digits=1,
        measured=f"{elapsed:.1f} days ({curves} load-curve calls)",
    )
    RESULTS.at_most(
        S_BACKFILL,
        "Conso API calls per rolling 12 h (max), a meter that only consumes",
        max_calls_in_window(sim.calls),
        24,
        digits=0,
    )


# ---- Linky: repeated first setups (noise) and 1 / 2 / 3 years (growth) ---------------------

# The 3-year setup of the backfill test is the first of its repeats.
_REPEATS = [(y, r) for y, n in SETUP_REPEATS.items() for r in range(1 if y == 3 else 0, n)]


@pytest.mark.parametrize(("years", "repeat"), _REPEATS)
async def test_linky_first_setup(
    bench_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    counter: RowCounter,
    years: int,
    repeat: int,
) -> None:
    """The first setup again, in a fresh Home Assistant, for a meter with `years` of data."""
    meter = producing_meter(years=years)
    sim, service = linky_sim(meter)
    await start_linky(bench_hass, freezer, service, history_days=365 * years + 15)
    try:
        run, _ = await measured_first_setup(
            bench_hass, sim, service, counter, meter, TESTS_OFFSET, memory=False
        )
    finally:
        await shutdown(bench_hass, service)
    assert run.calls > 0
    _setup_runs[years].append(run)


async def test_linky_first_setup_memory(
    bench_hass: HomeAssistant, freezer: FrozenDateTimeFactory, counter: RowCounter
) -> None:
    """Once more with tracemalloc on (its overhead stays out of the timed runs)."""
    meter = producing_meter()
    sim, service = linky_sim(meter)
    await start_linky(bench_hass, freezer, service, history_days=1110)
    try:
        _memory_runs[3], _ = await measured_first_setup(
            bench_hass, sim, service, counter, meter, TESTS_OFFSET, memory=True
        )
    finally:
        await shutdown(bench_hass, service)


def report_first_setup(results: Results) -> None:
    """Calls, rows, time against the floor (median of the runs), loop lag, memory."""
    s = S_SETUP
    runs = _setup_runs.get(3, [])
    if not runs:
        return  # not selected (-k)
    run = runs[0]
    results.at_most(
        s,
        "Conso API calls",
        max(r.calls for r in runs),
        10,
        digits=0,
        details={"calls": [r.calls for r in runs]},
    )
    needed = sum(run.expected.values())
    worst = max(runs, key=lambda r: r.rows)
    detail = ", ".join(
        f"{k} {worst.written.get(k, 0)}/{v}" for k, v in sorted(run.expected.items())
    )
    results.equal(
        s,
        "rows written / rows needed",
        worst.rows,
        needed,
        measured=f"{worst.rows} / {needed} ({detail}; {worst.duplicates} written twice)",
        target="only the rows needed",
        details={"written": worst.written, "expected": worst.expected, "stored": worst.stored},
    )
    ordered = sorted(runs, key=lambda r: r.ratio)
    median = ordered[len(ordered) // 2]
    m = median.measurement
    ratios = ", ".join(f"{r.ratio:.2f}" for r in runs)
    results.at_most(
        s,
        "wall time / recorder floor for those rows",
        median.ratio,
        OVERHEAD_LIMIT,
        unit="×",
        measured=(
            f"{median.ratio:.2f}× ({m.ours:.2f} s without the {m.services:.2f} s of Conso API"
            f" answers, floor {median.floor.wall:.2f} s; median of {ratios})"
        ),
        target=f"≤ {OVERHEAD_LIMIT}×",
        details={
            "runs": [
                {
                    "ours_s": r.measurement.ours,
                    "wall_s": r.measurement.wall,
                    "services_s": r.measurement.services,
                    "cpu_s": r.measurement.cpu,
                    "floor_s": r.floor.wall,
                    "rows": r.rows,
                    "recorder_import_s_ours": r.recorder_ours,
                    "recorder_import_s_floor": r.recorder_floor,
                }
                for r in runs
            ]
        },
    )
    results.info(
        s,
        "loop-thread CPU (median run)",
        f"{m.cpu:.2f} s",
        value=m.cpu,
        unit="s",
    )
    lag = max(runs, key=lambda r: r.measurement.max_lag).measurement
    loop_and_memory(results, s, lag)
    if 3 in _memory_runs:
        peak = _memory_runs[3].measurement.memory_peak
        if peak is not None:
            memory(results, s, peak, note=" (separate run)")


def report_growth(results: Results) -> None:
    """Time per row of the first setup for 1, 2 and 3 years of history, judged on our time
    over the recorder floor of the same run (the machine's speed between runs cancels)."""
    per_row: dict[int, float] = {}
    floor_per_row: dict[int, float] = {}
    relative: dict[int, float] = {}
    rows: dict[int, int] = {}
    for years, runs in sorted(_setup_runs.items()):
        if runs:
            per_row[years] = statistics.median(r.measurement.ours / r.rows for r in runs)
            floor_per_row[years] = statistics.median(r.floor.per_row for r in runs)
            relative[years] = statistics.median(r.ratio for r in runs)
            rows[years] = runs[0].rows
    if 1 not in per_row or 3 not in per_row:
        return  # not selected (-k)
    growth = relative[3] / relative[1]
    text = " → ".join(f"{y} y {per_row[y] * 1000:.2f}" for y in sorted(per_row))
    floors = " → ".join(f"{floor_per_row[y] * 1000:.2f}" for y in sorted(per_row))
    ratios = " → ".join(f"{relative[y]:.2f}" for y in sorted(per_row))
    results.at_most(
        S_GROWTH,
        "Linky first setup: time per row, 1 y → 3 y",
        growth,
        LINEAR_LIMIT,
        unit="×",
        measured=(
            f"{text} ms/row, floor {floors} ({rows[1]} → {rows[3]} rows); relative to the"
            f" floor {ratios}: {growth:.2f}×"
        ),
        target=f"≤ {LINEAR_LIMIT}× (linear)",
        details={
            "ms_per_row": per_row,
            "floor_ms_per_row": floor_per_row,
            "ratio_to_floor": relative,
            "rows": rows,
        },
    )


# ---- Linky: steady state and restart -------------------------------------------------------

METERED_PRM = "33333333333333"  # HP/HC with periods from the meter: registers read daily
STEADY = [
    # (PRM, produces, sync offset, data types)
    ("11111111111111", False, EARLY_OFFSET, 3),
    (PRM, False, TESTS_OFFSET, 3),
    (PROD_PRM, True, LATE_OFFSET, 5),
    (METERED_PRM, False, LATE_OFFSET + 600, 4),
]
# The metered meter writes its new day (energy, cost, HP/HC energy and cost: 6 hourly
# statistics, and the day's max power) and, the next day, corrects yesterday once its registers
# are known (the 5 priced statistics); 25-hour days included.
METERED_REWRITTEN_PER_DAY = 25 * 5
METERED_ROWS_PER_DAY = 25 * 6 + 1 + METERED_REWRITTEN_PER_DAY


def steady_options(prm: str) -> dict[str, Any]:
    """The metered meter's tariff (HP/HC, periods from the meter) and registers."""
    if prm != METERED_PRM:
        return {}
    tariff = new_tariff_options("hp_hc", "EUR")
    tariff["meter_periods"] = True
    period = period_options(date(2020, 1, 1), hp_price=0.27, hc_price=0.2068)
    return {"tariff": with_period(tariff, period), "read_registers": True}


def _clock(offset: int) -> str:
    minutes, seconds = divmod(6 * 3600 + offset, 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"


async def test_linky_steady_state_and_restart(
    bench_hass: HomeAssistant, freezer: FrozenDateTimeFactory, counter: RowCounter
) -> None:
    """Three PRMs with early, test-suite and late sync times for 30 days, then a restart."""
    hass = bench_hass
    # Meters activated 40 days ago, hourly for 10: a short history, complete before day 0.
    hourly_since = NOW.date() - timedelta(days=10)
    meters = [
        MeterProfile(
            prm,
            seed=3 + i,
            has_production=produces,
            hourly_since=hourly_since,
            activation=NOW.date() - timedelta(days=40),
            registers=RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),)),
        )
        for i, (prm, produces, _, _) in enumerate(STEADY)
    ]
    sim, service = linky_sim(*meters)
    await start_linky(hass, freezer, service, history_days=1110, future_days=36)
    try:
        entries = [entry_for(sim, prm, offset, steady_options(prm)) for prm, _, offset, _ in STEADY]
        for entry in entries:
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
        await settle(hass)

        def coordinators() -> list[LinkyCoordinator]:
            return [e.runtime_data for e in entries]

        # (four meters share the budget: their short histories take a few days to fill)
        day0 = datetime.combine(NOW.date() + timedelta(days=4), datetime.min.time(), PARIS)
        await run_until(hass, freezer, coordinators, day0)
        for coordinator in coordinators():
            assert coordinator.history_complete(), "repairs still running on day 0"
        await steady_state(hass, freezer, sim, service, counter, coordinators, day0)
        await restart(hass, freezer, sim, service, entries, day0 + timedelta(days=30))
    finally:
        await shutdown(hass, service)


async def steady_state(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: ConsoApiSimulator,
    service: ThreadedService,
    counter: RowCounter,
    coordinators: Any,
    day0: datetime,
) -> None:
    """30 days of daily syncs: calls per PRM per day, rows written against rows added."""
    s = S_STEADY
    first_call = len(sim.calls)
    mark = counter.mark()
    before = {prm: await stored_rows(hass, prm) for prm, *_ in STEADY}
    async with Phase([service.busy], memory=True) as traced:  # days 1-2: memory
        await run_until(hass, freezer, coordinators, day0 + timedelta(days=2))
        await settle(hass)
    async with Phase([service.busy], name="linky steady state") as m:  # days 3-30: timed
        await run_until(hass, freezer, coordinators, day0 + timedelta(days=30))
        await settle(hass)
    after = {prm: await stored_rows(hass, prm) for prm, *_ in STEADY}
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    for call in sim.calls[first_call:]:
        per_day[call.params["pointId"]][call.at.astimezone(PARIS).date()] += 1
    window = days(day0.date(), day0.date() + timedelta(days=30))
    for prm, produces, offset, types in STEADY:
        counts = [per_day[prm][day] for day in window]
        mean, worst = statistics.fmean(counts), max(counts)
        kind = "cons + prod" if produces else "cons only"
        results_note = f"{kind}, sync {_clock(offset)}"
        RESULTS.at_most(
            s,
            f"calls per day, PRM {prm[:4]}… ({results_note})",
            worst,
            types,
            digits=0,
            measured=f"mean {mean:.2f}, max {worst}",
            target=f"≤ {types} (enabled data types)",
            details={"per_day": counts},
        )
    writes = counter.writes_since(mark)
    metered = [w for w in writes if METERED_PRM in w.metadata["statistic_id"]]
    written = sum(w.rows for w in writes if w not in metered)
    added = sum(after[p][c] - before[p][c] for p in after for c in after[p] if p != METERED_PRM)
    metered_rows = sum(w.rows for w in metered)
    distinct = len({(w.metadata["statistic_id"], start) for w in metered for start in w.starts})
    span = len(days(day0.date(), day0.date() + timedelta(days=30)))
    per_day, again = metered_rows / span, (metered_rows - distinct) / span
    RESULTS.at_most(
        s,
        "rows written a day, periods from the meter",
        per_day,
        METERED_ROWS_PER_DAY,
        digits=0,
        measured=f"{per_day:.0f} a day",
        target=f"≤ {METERED_ROWS_PER_DAY} (the new day, then yesterday corrected once)",
    )
    RESULTS.at_most(
        s,
        "rows rewritten a day, periods from the meter",
        again,
        METERED_REWRITTEN_PER_DAY,
        digits=0,
        measured=f"{again:.0f} a day",
        target=f"≤ {METERED_REWRITTEN_PER_DAY} (yesterday's split, once its registers are read)",
    )
    RESULTS.equal(
        s,
        "rows written / rows added",
        written,
        added,
        measured=f"{written} / {added} ({written - added} rewritten)",
        target="only new rows",
        details={"adjustments": len(counter.adjustments_since(mark))},
    )
    loop_and_memory(RESULTS, s, m)
    assert traced.memory_peak is not None
    memory(RESULTS, s, traced.memory_peak, note=" (days 1-2)")


async def restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: ConsoApiSimulator,
    service: ThreadedService,
    entries: list[Any],
    day: datetime,
) -> None:
    """At noon, every entry up to date: stop and start the integration (budget included);
    count the calls until the next morning."""
    noon = day + timedelta(hours=12)
    await run_until(hass, freezer, lambda: [e.runtime_data for e in entries], noon)
    for entry in entries:
        assert entry.runtime_data.have_yesterday()
    first_call = len(sim.calls)

    async def restart_all() -> None:
        for entry in entries:
            assert await hass.config_entries.async_unload(entry.entry_id)
        hass.data.pop(BUDGET_KEY, None)  # the budget is reloaded from its store too
        for entry in entries:
            assert await hass.config_entries.async_setup(entry.entry_id)
        await settle(hass)

    async with Phase([service.busy], name="restart") as m:
        await restart_all()
    await run_until(
        hass, freezer, lambda: [e.runtime_data for e in entries], noon + timedelta(hours=1)
    )
    async with Phase([service.busy], memory=True) as traced:  # a second one, for memory
        await restart_all()
    setup_wall = m.ours
    morning = datetime.combine(day.date() + timedelta(days=1), datetime.min.time(), PARIS)
    await run_until(
        hass, freezer, lambda: [e.runtime_data for e in entries], morning + timedelta(hours=6)
    )
    calls = len(sim.calls) - first_call
    RESULTS.equal(
        S_RESTART,
        "Conso API calls (restart → 06:00 next day)",
        calls,
        0,
        target="0",
        measured=f"{calls} ({len(entries)} PRMs, restarted at 12:00 and 13:00; {setup_wall:.2f} s)",
    )
    loop_and_memory(RESULTS, S_RESTART, m)
    assert traced.memory_peak is not None
    memory(RESULTS, S_RESTART, traced.memory_peak)


# ---- Linky: Home Assistant off for 12 days -------------------------------------------------

OFF_DAYS = 12


async def test_linky_twelve_days_off(
    bench_hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Up to date, then stopped for 12 days: once on again, every day comes back, daily and
    hourly, within the budget."""
    hass = bench_hass
    meter = MeterProfile(
        PROD_PRM,
        seed=5,
        has_production=True,
        activation=NOW.date() - timedelta(days=60),
        hourly_since=NOW.date() - timedelta(days=60),
    )
    sim, service = linky_sim(meter)
    await start_linky(hass, freezer, service, history_days=80, future_days=OFF_DAYS + 6)
    try:
        entry = entry_for(sim, PROD_PRM, TESTS_OFFSET)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await settle(hass)
        done = await run_until(
            hass,
            freezer,
            lambda: [entry.runtime_data],
            NOW + timedelta(days=3),
            done=entry.runtime_data.history_complete,
        )
        assert done is not None, "the first history did not complete in 3 days"
        stopped = datetime.combine(NOW.date() + timedelta(days=3), time(12), PARIS)
        await run_until(hass, freezer, lambda: [entry.runtime_data], stopped)
        assert await hass.config_entries.async_unload(entry.entry_id)
        started = stopped + timedelta(days=OFF_DAYS)
        freezer.move_to(started)
        first_call = len(sim.calls)
        # Set up while Home Assistant starts (12 days of work pending): timed, nothing called.
        hass.set_state(CoreState.starting)
        began = real_time()
        assert await hass.config_entries.async_setup(entry.entry_id)
        setup_ms = (real_time() - began) * 1000
        assert len(sim.calls) == first_call
        hass.set_state(CoreState.running)
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
        await settle(hass)
        coordinator: LinkyCoordinator = entry.runtime_data
        caught_up = await run_until(
            hass,
            freezer,
            lambda: [coordinator],
            started + timedelta(days=3),
            done=lambda: coordinator.have_yesterday() and coordinator.history_complete(),
        )
        rows = {c: await hourly_rows(hass, statistic_id(PROD_PRM, c)) for c in CHANNELS}
    finally:
        await shutdown(hass, service)
    assert caught_up is not None, "not caught up in 3 days"
    hours = (caught_up - started).total_seconds() / 3600
    missing = 0
    for day in days(NOW.date(), started.date()):
        for channel, production in (("consumption", False), ("production", True)):
            day_rows = [r for r in rows[channel] if r["start"].astimezone(PARIS).date() == day]
            total = sum(r["state"] for r in day_rows)
            truth = sim.daily_wh(PROD_PRM, day, production) / 1000
            if len(day_rows) != hours_in(day) or abs(total - truth) > 1e-4:
                missing += 1
    calls = sim.calls[first_call:]
    RESULTS.equal(
        S_OFF,
        "days missing or wrong after the catch-up (daily and hourly, both channels)",
        missing,
        0,
        target="0",
        measured=f"{missing} of {2 * len(days(NOW.date(), started.date()))}",
    )
    RESULTS.at_most(
        S_OFF,
        "set-up during Home Assistant's start, 12 days of work pending",
        setup_ms,
        100,
        unit="ms",
        digits=1,
        strict=True,
    )
    RESULTS.at_most(
        S_OFF,
        "hours from the start to every day back",
        hours,
        24,
        unit="h",
        digits=1,
        measured=f"{hours:.1f} h ({len(calls)} Conso API calls)",
    )
    RESULTS.at_most(
        S_OFF,
        "Conso API calls per rolling 12 h (max)",
        max_calls_in_window(sim.calls),
        24,
        digits=0,
    )


# ---- Climkit -------------------------------------------------------------------------------

CLIMKIT_TYPES = ("electricity", "heating", "cold_water")


def climkit_site(days_of_history: int) -> Any:
    """3 consumers, PV, heat and water (6 meters with devices) + the grid introduction."""
    return demo_site(
        creation=CH_NOW - timedelta(days=days_of_history), consumers=3, heat=True, water=True
    )


async def start_climkit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    days_of_history: int,
    *,
    real_waits: bool = True,
) -> tuple[ClimkitSimulator, ThreadedService, HybridClock]:
    """Zurich, the clock at CH_NOW, the simulator up, a pacer on the hybrid clock."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    freezer.move_to(CH_NOW)
    await preload_integration(hass)
    real_datetime_in_package()
    sim = ClimkitSimulator([climkit_site(days_of_history)])
    service = ThreadedService(sim, "climkit")
    prewarm_climkit(
        sim,
        DEMO_SITE_ID,
        CLIMKIT_TYPES,
        CH_NOW - timedelta(days=days_of_history + 2),
        CH_NOW + timedelta(days=1),
    )
    await service.start()
    keep_out_of_gc()
    clock = HybridClock(freezer, real_waits=real_waits)
    hass.data[PACER_KEY] = Pacer(1.1, clock=clock.clock, sleep=clock.sleep)
    return sim, service, clock


async def import_climkit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: ClimkitSimulator,
    clock: HybridClock,
    *,
    windows: int | None = None,
    after_window: Callable[[], Awaitable[None]] | None = None,
) -> ClimkitCoordinator:
    """Set the site up and run its history windows (all, or the first `windows`); after each,
    wait for the recorder and call `after_window`."""
    entry = climkit_entry(sim)
    entry.add_to_hass(hass)
    clock.sync()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator: ClimkitCoordinator = entry.runtime_data.coordinator
    runs = 1
    while not coordinator.state.history_done and (windows is None or runs < windows):
        assert runs < 100, "history import does not end"
        assert coordinator.next_run is not None
        if after_window is not None:
            await settle(hass)
            await after_window()
        await clock.wait_until(coordinator.next_run)
        await step(hass, freezer, coordinator.next_run)
        runs += 1
    await settle(hass)
    if after_window is not None:
        await after_window()
    clock.sync()
    return coordinator


async def test_climkit_first_setup(
    bench_hass: HomeAssistant, freezer: FrozenDateTimeFactory, counter: RowCounter
) -> None:
    """A year of 15-minute data of a 6-meter site, newest first, paced at 1 request/1.1 s."""
    hass = bench_hass
    sim, service, clock = await start_climkit(hass, freezer, 365)
    try:
        await quiesce(hass)
        start = dt_util.utcnow()
        mark = counter.mark()
        imports = len(counter.imports)
        threads = [service.thread, get_instance(hass)]
        async with Phase([service.busy], name="climkit first setup", exclude=threads) as m:
            coordinator = await import_climkit(hass, freezer, sim, clock)
        assert coordinator.state.history_done
        elapsed = (dt_util.utcnow() - start).total_seconds()
        writes = counter.writes_since(mark)
    finally:
        await shutdown(hass, service)
    rows = sum(w.rows for w in writes)
    work = [w for w in counter.imports[imports:] if w.statistic_id.startswith(DOMAIN)]
    floor = in_run_floor(work, rows)
    s = S_CLIMKIT
    calls = sim.calls
    stamps = sorted(c.at for c in calls)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    refused = sum(1 for c in calls if c.status == 429)
    endpoints = Counter(c.endpoint for c in calls)
    received = service.busy.bytes / MB
    RESULTS.at_least(
        s,
        "HTTP requests (min gap between two; 429s)",
        min(gaps, default=0.0) if not refused else 0.0,
        1.0,
        unit="s",
        measured=(
            f"{len(calls)} ({', '.join(f'{k} {v}' for k, v in sorted(endpoints.items()))};"
            f" {received:.0f} MB of JSON); min gap {min(gaps, default=0.0):.2f} s;"
            f" {refused} × 429"
        ),
        target="≥ 1 s apart",
        details={"endpoints": dict(endpoints), "refused": refused},
    )
    pacing = (len(calls) - 1) * 1.1
    wall = m.wall - m.services  # real time: the pacer's waits really waited (off the loop)
    bound = max(pacing, floor.wall)
    RESULTS.at_most(
        s,
        "wall time / max(pacing floor, recorder floor)",
        wall / bound,
        PACING_LIMIT,
        unit="×",
        measured=(
            f"{wall / bound:.2f}× ({wall:.0f} s without the simulator's {m.services:.0f} s;"
            f" pacing floor {pacing:.0f} s, recorder floor {floor.wall:.0f} s for"
            f" {floor.rows} rows; the pacer waited {clock.slept:.0f} s)"
        ),
        target=f"pacing-bound (≤ {PACING_LIMIT}× the larger floor)",
        details={
            "wall_s": wall,
            "frozen_clock_s": elapsed,
            "slept_s": clock.slept,
            "services_s": m.services,
            "pacing_floor_s": pacing,
            "recorder_floor_s": floor.wall,
            "recorder_floor_rows": floor.sampled,
            "importer_reads": len(counter.reads),
            "importer_reads_s": sum(counter.reads),
            "rows": floor.rows,
            "written_twice": rewritten(writes),
        },
    )
    assert m.cpu_outside is not None
    RESULTS.at_most(
        s,
        "our CPU outside the recorder (every thread but the recorder's and the simulator's)",
        m.cpu_outside,
        CPU_LIMIT_S,
        unit="s",
        strict=True,
    )
    RESULTS.info(s, "of which on the event-loop thread", f"{m.cpu:.2f} s", value=m.cpu, unit="s")
    loop_and_memory(RESULTS, s, m)


async def test_climkit_first_setup_memory(
    bench_hass: HomeAssistant, freezer: FrozenDateTimeFactory, counter: RowCounter
) -> None:
    """Peak memory of the same site's first two 30-day windows, tracemalloc on: the import
    holds one window at a time; the peak of each window shows whether it grows."""
    hass = bench_hass
    sim, service, clock = await start_climkit(hass, freezer, 365, real_waits=False)
    peaks: list[float] = []

    async def window_peak() -> None:
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.reset_peak()

    try:
        async with Phase([service.busy], memory=True):
            await import_climkit(hass, freezer, sim, clock, windows=2, after_window=window_peak)
    finally:
        await shutdown(hass, service)
    assert len(peaks) == 2
    windows = math.ceil(365 / WINDOW_DAYS)
    each = " / ".join(f"{p / MB:.1f}" for p in peaks)
    memory(
        RESULTS,
        S_CLIMKIT,
        max(peaks),
        note=f" (windows 1 / 2 of {windows}: {each} MB, own run)",
    )


# ---- tariff change: every cost row re-priced from 3 years of stored hourly energy ---------

TARIFF_YEARS = 3
RECOMPUTE_LIMIT = 1.2


def hp_hc_tariff(hp: float, hc: float) -> dict[str, Any]:
    """HP/HC with minute boundaries, one price set from 2020 on, a monthly fee."""
    tariff = new_tariff_options("hp_hc", "EUR")
    tariff["off_peak"] = off_peak_to_options(
        [OffPeakRange(time(12, 4), time(14, 4)), OffPeakRange(time(21, 8), time(5, 8))]
    )
    return {
        "tariff": with_period(
            tariff, period_options(date(2020, 1, 1), hp_price=hp, hc_price=hc, subscription=15.65)
        )
    }


async def reprice(book: CostBook, today: date) -> None:
    """What a reload after the options flow does (`CostBook.recompute`, consumption only)."""
    change = book.change()
    await book.price(change.consumption_from, today, split=change.split, buckets=change.buckets)


async def test_tariff_recompute(bench_hass: HomeAssistant, counter: RowCounter) -> None:
    """3 years of hourly consumption stored; the peak price changes for the whole history.

    No frozen clock here: nothing is scheduled, and freezegun's datetime classes would slow
    every date computation several times over."""
    hass = bench_hass
    today = NOW.date()
    spec = energy_spec(PRM, "consumption", "bench consumption")
    rows: list[StatisticData] = []
    running = 0.0
    for day in days(today - timedelta(days=365 * TARIFF_YEARS), today):
        for hour in hour_starts(day, PARIS):
            value = round(0.15 + 0.1 * ((hour.hour * 7 + day.day) % 9), 3)
            running += value
            rows.append(StatisticData(start=hour, state=value, sum=running))
    async_add_external_statistics(hass, spec.metadata(), rows)
    await async_wait_recording_done(hass)
    entry = MockConfigEntry(domain=DOMAIN, options=hp_hc_tariff(0.27, 0.2068))
    entry.add_to_hass(hass)
    book = CostBook(
        hass,
        entry,
        PRM,
        "bench",
        PARIS,
        Importer(hass, PARIS),
        charges=Channel.CONSUMPTION,
        compensates=Channel.PRODUCTION,
    )
    await book.price(None, today)  # the tariff is set: not timed
    book.mark_priced()
    await async_wait_recording_done(hass)
    hass.config_entries.async_update_entry(entry, options=hp_hc_tariff(0.29, 0.2068))
    await quiesce(hass)
    mark = counter.mark()
    imports = len(counter.imports)
    async with Phase(name="tariff recompute") as m:
        await reprice(book, today)
        book.mark_priced()
        await async_wait_recording_done(hass)
    writes = counter.writes_since(mark)
    written = sum(w.rows for w in writes)
    changed = {w.statistic_id.split(":", 1)[1] for w in writes}
    ours_in_recorder = sum(w.seconds for w in counter.imports[imports:])
    imports = len(counter.imports)
    floor = await recorder_floor(hass, writes)
    floor_in_recorder = sum(w.seconds for w in counter.imports[imports:])
    ratio = m.wall / floor.wall
    RESULTS.at_most(
        S_TARIFF,
        "recompute wall time / recorder floor",
        ratio,
        RECOMPUTE_LIMIT,
        unit="×",
        measured=(
            f"{ratio:.2f}× ({m.wall:.1f} s for {len(rows)} hours; {written} rows rewritten in"
            f" {', '.join(sorted(changed))}; floor {floor.wall:.1f} s)"
        ),
        details={
            "wall_s": m.wall,
            "floor_s": floor.wall,
            "rows": written,
            "hours": len(rows),
            "recorder_import_s": ours_in_recorder,
            "floor_recorder_import_s": floor_in_recorder,
            "gc_s": m.gc_total,
        },
    )
    RESULTS.equal(
        S_TARIFF,
        "statistics rewritten by a peak-price change",
        len(changed),
        2,
        measured=", ".join(sorted(changed)),
        target="the total cost and the HP cost only",
    )
    async with Phase(memory=True) as traced:
        hass.config_entries.async_update_entry(entry, options=hp_hc_tariff(0.30, 0.2068))
        await reprice(book, today)
        await async_wait_recording_done(hass)
    assert traced.memory_peak is not None
    loop_and_memory(RESULTS, S_TARIFF, m)
    memory(RESULTS, S_TARIFF, traced.memory_peak, note=" (own run)")


# ---- start-up cost ---------------------------------------------------------------------------


def test_startup_cost() -> None:
    """Importing every module of the integration, against Home Assistant's `template`
    integration (about the same size) in the same run (tests/bench/startup.py)."""
    ours, ours_modules = import_seconds(OURS)
    core, core_modules = import_seconds(CORE)
    ratio = ours / core
    RESULTS.at_most(
        S_STARTUP,
        "import time of every module / Home Assistant's template integration's",
        ratio,
        1.5,
        unit="×",
        measured=(
            f"{ratio:.2f}× ({ours * 1000:.0f} ms for {ours_modules} modules; template "
            f"{core * 1000:.0f} ms for {core_modules}; fresh interpreter, median of 5)"
        ),
        details={"ours_s": ours, "template_s": core},
    )


# ---- the figures over several runs, and what cannot be measured yet ------------------------


def report_aggregates(results: Results) -> None:
    """Figures computed over several runs (at the end of the session)."""
    if not results.figures:
        return  # nothing ran (--collect-only)
    report_first_setup(results)
    report_growth(results)


RESULTS.order = ORDER
RESULTS.at_finish(report_aggregates)
