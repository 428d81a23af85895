"""Climkit `site_data` answers → the neutral model → the batch of local days the pipeline
imports (pure, no I/O; run in a worker thread).

A month of a site's 15-minute rows is tens of thousands of values: each series' quarters are
summed straight into hours (POSIX seconds, no per-value objects), an hour becomes one
`Interval` once its four quarters are there, and `build_days` (the same as Linky's) keeps the
days that every hour covers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..model import Channel, Interval, Series
from ..pipeline import Batch, SeriesKey
from ..providers.climkit_model import MeterInfo
from ..providers.climkit_parse import ParsedRows, row_values
from ..statistics.aggregation import build_days

QUARTERS_PER_HOUR = 4
HOUR = timedelta(hours=1)
WATER_UNIT = "m³"


@dataclass(slots=True)
class PreparedWindow:
    """A fetched window as days per (owner, channel), its newest data end and the
    data-quality counts."""

    batch: Batch = field(default_factory=Batch)
    negative: int = 0
    missing: int = 0
    storage_seen: bool = False
    last_end: datetime | None = None


def hourly_series(
    answers: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    site_id: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
    parsed: ParsedRows,
) -> dict[SeriesKey, Series]:
    """Each meter type's rows as one series per (owner, channel), an interval per hour whose
    four quarters are all there; the quality counts go into `parsed`."""
    sums: dict[SeriesKey, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[SeriesKey, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    for meter_type, rows in answers:
        for stamp, values in row_values(
            rows, site_id=site_id, meter_type=meter_type, meters=meters, tz=tz, parsed=parsed
        ):
            ts = stamp.timestamp() - 1  # the quarter ending at a full hour is that hour's last
            hour = ts - ts % 3600
            for key, value in values.items():
                sums[key][hour] += value
                counts[key][hour] += 1
    starts: dict[float, datetime] = {}
    series: dict[SeriesKey, Series] = {}
    for key in sorted(sums):
        intervals = []
        for hour, value in sorted(sums[key].items()):
            if counts[key][hour] != QUARTERS_PER_HOUR:
                continue
            start = starts.get(hour)
            if start is None:
                start = starts[hour] = datetime.fromtimestamp(hour, UTC)
            intervals.append(Interval(start, start + HOUR, value))
        unit = WATER_UNIT if key[1] is Channel.WATER else "kWh"
        series[key] = Series(channel=key[1], unit=unit, intervals=tuple(intervals))
    return series


def prepare_window(
    answers: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    site_id: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
    end: date,
) -> PreparedWindow:
    """The days before `end` that every hour of a series covers, per series."""
    parsed = ParsedRows()
    series = hourly_series(answers, site_id, meters, tz, parsed)
    window = PreparedWindow(
        negative=parsed.negative,
        missing=parsed.missing,
        storage_seen=parsed.storage_seen,
        last_end=parsed.last_end,
    )
    for key, one in series.items():
        days = {
            day: energy
            for day, energy in build_days((), one.intervals, tz).items()
            if day < end and energy.hours is not None
        }
        if days:
            window.batch.days[key] = days
    return window
