"""The ledger of an entry saved by a version without one, read back from its statistics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from .aggregation import day_start, hour_starts, local_day
from .ids import StatisticSpec
from .importer import Importer
from .ledger import Ledger, Mark


async def seed_from_statistics(
    importer: Importer,
    ledger: Ledger,
    series: Iterable[tuple[str, StatisticSpec]],
    first: date,
    end: date,
    tz: ZoneInfo,
) -> None:
    """Mark the local days of [first, end) the recorder holds: a day with every hour as
    hourly (and with its total, which older versions always imported with it), a day with
    fewer rows as its total only. Runs after Home Assistant has started (it reads the
    recorder)."""
    for key, spec in series:
        rows = await importer.read_hours(spec, day_start(first, tz), day_start(end, tz))
        per_day = Counter(local_day(row.start, tz) for row in rows)
        for day, count in per_day.items():
            mark = Mark.DAILY
            if spec.has_sum and count >= len(hour_starts(day, tz)):
                mark |= Mark.HOURLY
            ledger.mark(key, (day,), mark)
