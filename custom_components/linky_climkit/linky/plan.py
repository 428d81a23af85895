"""Pure: which Conso API windows a Linky entry reads (first import, the hourly week, what the
ledger misses, a range asked for with `import_history`). No I/O; the coordinator decides when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ..model import Channel
from ..providers.conso_api import ConsoApiType, history_start, windows
from ..statistics.ledger import Ledger, Mark, Summary, days_between, gaps
from .state import FetchTask

TRAILING_DAYS = 7
CORRECTION_DAYS = 35  # the daily figures each daily sync re-reads (late BEST corrections)
INITIAL_HISTORY_DAYS = 1095
MAX_POWER_HISTORY_DAYS = 365
CURVE_DAYS = ConsoApiType.CONSUMPTION_LOAD_CURVE.history_days
REPAIR_CALLS_PER_RUN = 4
REGISTER_HISTORY_DAYS = 365  # periods from the meter: a year of registers, a yearly bill
REGISTER_CHUNK_FALLBACK = 7  # [I] days an index call asks once a longer range is refused

DAILY_TYPE = {
    Channel.CONSUMPTION: ConsoApiType.DAILY_CONSUMPTION,
    Channel.PRODUCTION: ConsoApiType.DAILY_PRODUCTION,
}
CURVE_TYPE = {
    Channel.CONSUMPTION: ConsoApiType.CONSUMPTION_LOAD_CURVE,
    Channel.PRODUCTION: ConsoApiType.PRODUCTION_LOAD_CURVE,
}


@dataclass(frozen=True, slots=True)
class Need:
    """What one Conso API type fills in the ledger, and how far back."""

    type: ConsoApiType
    channel: Channel
    mark: Mark
    depth_days: int


NEEDS = (
    Need(ConsoApiType.DAILY_CONSUMPTION, Channel.CONSUMPTION, Mark.DAILY, INITIAL_HISTORY_DAYS),
    Need(ConsoApiType.MAX_POWER, Channel.MAX_POWER, Mark.DAILY, MAX_POWER_HISTORY_DAYS),
    Need(ConsoApiType.DAILY_PRODUCTION, Channel.PRODUCTION, Mark.DAILY, INITIAL_HISTORY_DAYS),
    Need(ConsoApiType.CONSUMPTION_LOAD_CURVE, Channel.CONSUMPTION, Mark.HOURLY, CURVE_DAYS),
    Need(ConsoApiType.PRODUCTION_LOAD_CURVE, Channel.PRODUCTION, Mark.HOURLY, CURVE_DAYS),
)


def needs(*, production: bool) -> list[Need]:
    """The needs of a meter (production only where it produces)."""
    return [n for n in NEEDS if production or n.channel is not Channel.PRODUCTION]


def repair_tasks(ledger: Ledger, prm: str, today: date, *, production: bool) -> list[FetchTask]:
    """What the ledger misses before the week the daily sync re-reads, in the order the budget
    pays for it: a probe of the history floor, then daily figures and peaks (oldest first,
    batched into the fewest calls), then the load curves (newest week first, both channels in
    step, 7 days a call)."""
    end = today - timedelta(days=TRAILING_DAYS)
    tasks: list[FetchTask] = []
    if probe := ledger.history.probe(ConsoApiType.DAILY_CONSUMPTION.max_days):
        tasks.append(FetchTask(ConsoApiType.DAILY_CONSUMPTION, *probe))
    curves: list[FetchTask] = []
    for need in needs(production=production):
        first = today - timedelta(days=need.depth_days)
        missing = ledger.missing(Ledger.key(prm, need.channel), first, end, need.mark)
        ranges = [
            FetchTask(need.type, start, stop) for start, stop in gaps(missing, need.type.max_days)
        ]
        (curves if need.type.is_load_curve else tasks).extend(ranges)
    return tasks + sorted(curves, key=lambda task: task.start, reverse=True)


def completeness(ledger: Ledger, prm: str, today: date, *, production: bool) -> dict[str, Summary]:
    """Day counts per need over its history depth, up to yesterday: "consumption daily",
    "consumption hourly", "max_power daily", …"""
    return {
        f"{need.channel.value} {'hourly' if need.mark is Mark.HOURLY else 'daily'}": ledger.summary(
            Ledger.key(prm, need.channel), today - timedelta(days=need.depth_days), today, need.mark
        )
        for need in needs(production=production)
    }


def need_of(type_: ConsoApiType) -> Need:
    """The need a type fills."""
    return next(n for n in NEEDS if n.type is type_)


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """What `import_history` queued: calls, and the backfill runs they take."""

    calls: int
    queued: int
    runs: int
    available_now: int


def initial_plan(today: date, *, max_power: bool = True) -> list[FetchTask]:
    """The first import, newest first: at most 10 calls for 3 years of daily data."""
    recent = today - timedelta(days=365)
    tasks = [
        FetchTask(ConsoApiType.DAILY_CONSUMPTION, recent, today),
        FetchTask(ConsoApiType.CONSUMPTION_LOAD_CURVE, today - timedelta(TRAILING_DAYS), today),
    ]
    if max_power:
        start = today - timedelta(days=MAX_POWER_HISTORY_DAYS)
        tasks.append(FetchTask(ConsoApiType.MAX_POWER, start, today))
    tasks += [
        FetchTask(ConsoApiType.DAILY_PRODUCTION, recent, today),
        FetchTask(ConsoApiType.PRODUCTION_LOAD_CURVE, today - timedelta(TRAILING_DAYS), today),
    ]
    oldest = today - timedelta(days=INITIAL_HISTORY_DAYS)
    for type_ in (ConsoApiType.DAILY_CONSUMPTION, ConsoApiType.DAILY_PRODUCTION):
        tasks += [FetchTask(type_, s, e) for s, e in windows(type_, oldest, recent)]
    return tasks


def anchor_week(task: FetchTask, published: Iterable[date]) -> FetchTask:
    """The first import's hourly week ends on the newest published day, not on today: before
    publication (~08:00) yesterday is not there yet, and a week ending today would hold only 6
    days of load curve."""
    known = list(published)
    if not known:
        return task
    end = max(known) + timedelta(days=1)
    if end >= task.end:
        return task
    return FetchTask(task.type, end - timedelta(days=TRAILING_DAYS), end)


def history_tasks(
    first: date, last: date, today: date, channels: Iterable[Channel]
) -> list[FetchTask]:
    """The windows that re-read [first, last] (local days, at most yesterday): daily figures,
    and the load curve where Enedis keeps it."""
    end = min(last, today - timedelta(days=1)) + timedelta(days=1)
    tasks: list[FetchTask] = []
    for channel in channels:
        for type_ in (DAILY_TYPE[channel], CURVE_TYPE[channel]):
            start = max(first, history_start(type_, today))
            tasks += [FetchTask(type_.value, s, e) for s, e in windows(type_, start, end)]
    return tasks


def daily_calls(*, producing: bool, registers: bool = False) -> int:
    """The calls of one complete daily sync: daily figures, load curve and peaks, the
    production's daily figures and load curve when the meter produces, and the meter's
    registers when they are read (one call per direction)."""
    directions = 2 if producing else 1
    return 3 + (2 if producing else 0) + (directions if registers else 0)


def note_absent(
    ledger: Ledger, prm: str, asked: Iterable[tuple[ConsoApiType, date, date]], settled: date
) -> None:
    """Tell the ledger which asked-for days (before `settled`: later ones may still come) the
    service did not have. A day without a daily figure has no load curve either: its week is
    not asked."""
    for type_, start, end in asked:
        need = next((n for n in NEEDS if n.type is type_), None)
        if need is None:  # the registers: not in the ledger
            continue
        key = Ledger.key(prm, need.channel)
        last = min(end, settled)
        ledger.absent(key, start, last, need.mark)
        if need.mark is Mark.DAILY and need.channel is not Channel.MAX_POWER:
            no_daily = [d for d in days_between(start, last) if ledger.has(key, d, Mark.NO_DAILY)]
            ledger.mark(key, no_daily, Mark.NO_HOURLY)
        ledger.history.answered(start)


def register_history_task(oldest: date | None, floor: date, chunk: int) -> FetchTask | None:
    """The next older window of register readings (periods from the meter): the `chunk`
    days before the oldest reading, never before `floor`; None once there."""
    if oldest is None or oldest <= floor:
        return None
    start = max(floor, oldest - timedelta(days=chunk))
    return FetchTask(ConsoApiType.CONSUMPTION_INDEX.value, start, oldest)
