"""Pure: which Conso API windows a Linky entry reads (first import, the hourly week, a range
asked for with `import_history`). No I/O; the coordinator decides when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ..model import Channel
from ..providers.conso_api import ConsoApiType, history_start, windows
from .state import FetchTask

TRAILING_DAYS = 7
INITIAL_HISTORY_DAYS = 1095
MAX_POWER_HISTORY_DAYS = 365
BACKFILL_CALLS_PER_RUN = 4

DAILY_TYPE = {
    Channel.CONSUMPTION: ConsoApiType.DAILY_CONSUMPTION,
    Channel.PRODUCTION: ConsoApiType.DAILY_PRODUCTION,
}
CURVE_TYPE = {
    Channel.CONSUMPTION: ConsoApiType.CONSUMPTION_LOAD_CURVE,
    Channel.PRODUCTION: ConsoApiType.PRODUCTION_LOAD_CURVE,
}


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


def daily_calls(*, producing: bool) -> int:
    """The calls of one complete daily sync: daily figures, load curve and peaks, and the
    production's daily figures and load curve when the meter produces."""
    return 3 + (2 if producing else 0)
