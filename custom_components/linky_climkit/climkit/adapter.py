"""Climkit `site_data` answers → the batch of local days the pipeline imports (pure, no I/O;
run in a worker thread).

A month of a site's 15-minute rows is tens of thousands of values: each series' quarters are
summed straight into UTC hours (POSIX seconds, no per-value objects). An hour's value is the
sum of the quarters that exist, a day is the hours that exist; a day with fewer quarters than
it has (a site's first day, a quarter Climkit never sent) is imported all the same and marked
partial, and when its missing quarters come later, the re-read rewrites its hours.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from ..model import DayEnergy
from ..pipeline import Batch, SeriesKey
from ..providers.climkit_model import MeterInfo
from ..providers.climkit_parse import ParsedRows, row_values
from ..statistics.aggregation import day_start
from .window import day_window

QUARTER_SECONDS = 900
HOUR_SECONDS = 3600


@dataclass(slots=True)
class PreparedWindow:
    """A fetched window as days per (owner, channel), its newest data end and the
    data-quality counts."""

    batch: Batch = field(default_factory=Batch)
    negative: int = 0
    missing: int = 0
    refused: int = 0
    storage_seen: bool = False
    last_end: datetime | None = None


def hourly_sums(
    answers: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    site_id: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
    parsed: ParsedRows,
    window: tuple[datetime, datetime],
) -> tuple[dict[SeriesKey, dict[float, float]], dict[SeriesKey, dict[float, int]]]:
    """Per series, the sum and the number of quarters of each UTC hour (POSIX seconds) of the
    rows inside `window`; the quality counts go into `parsed`."""
    sums: dict[SeriesKey, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[SeriesKey, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    for meter_type, rows in answers:
        for stamp, values in row_values(
            rows,
            site_id=site_id,
            meter_type=meter_type,
            meters=meters,
            tz=tz,
            parsed=parsed,
            window=window,
        ):
            ts = stamp.timestamp() - 1  # the quarter ending at a full hour is that hour's last
            hour = ts - ts % HOUR_SECONDS
            for key, value in values.items():
                sums[key][hour] += value
                counts[key][hour] += 1
    return sums, counts


def prepare_window(
    answers: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    site_id: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
    first: date,
    end: date,
) -> PreparedWindow:
    """The local days [first, end) of every series, with the hours that have data; the days
    missing a quarter are listed in `batch.partial`."""
    parsed = ParsedRows()
    window = day_window(first, end, tz)
    sums, counts = hourly_sums(answers, site_id, meters, tz, parsed, window)
    prepared = PreparedWindow(
        negative=parsed.negative,
        missing=parsed.missing,
        refused=parsed.refused,
        storage_seen=parsed.storage_seen,
        last_end=parsed.last_end,
    )
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    midnights = [day_start(day, tz).timestamp() for day in days]
    midnights.append(window[1].timestamp())
    expected = [int(b - a) // QUARTER_SECONDS for a, b in pairwise(midnights)]
    starts: dict[float, datetime] = {}
    for key in sorted(sums):
        hours: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
        quarters: dict[int, int] = defaultdict(int)
        per_hour = counts[key]
        for hour, value in sorted(sums[key].items()):
            index = max(0, bisect_right(midnights, hour) - 1)
            start = starts.get(hour)
            if start is None:
                start = starts[hour] = datetime.fromtimestamp(hour, UTC)
            hours[index].append((start, value))
            quarters[index] += per_hour[hour]
        prepared.batch.days[key] = {
            days[i]: DayEnergy(day=days[i], hours=tuple(rows)) for i, rows in hours.items()
        }
        partial = {days[i] for i, n in quarters.items() if n < expected[i]}
        if partial:
            prepared.batch.partial[key] = partial
    return prepared
