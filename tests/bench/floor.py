"""Home Assistant's recorder floor: the same rows written directly, in the same run.

Rows keep the starts the integration wrote (hourly rows, midnight rows, peaks) and go into
fresh statistics (`bench:floor…`), one `async_add_external_statistics` call per statistic,
then `async_wait_recording_done`: what any importer must pay for those rows at least, timed
under the same probes as the scenario it is compared with.
"""

from __future__ import annotations

import gc
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta

import freezegun.api as freezegun_api
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.models.statistics import StatisticData, StatisticMetaData
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance, session_scope
from homeassistant.util.unit_conversion import EnergyConverter
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import text

from .probes import Phase, RecorderWork, Write

_runs = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Floor:
    """The recorder's own cost for a set of rows."""

    rows: int  # rows of the scenario
    sampled: int  # rows actually written to measure it
    wall: float  # seconds for `rows` (extrapolated linearly when sampled < rows)

    @property
    def per_row(self) -> float:
        """Seconds per row."""
        return self.wall / self.rows if self.rows else 0.0


def _floor_metadata(metadata: StatisticMetaData, run: int, index: int) -> StatisticMetaData:
    floor = StatisticMetaData(**metadata)
    floor["statistic_id"] = f"bench:floor{run}_{index}"
    floor["source"] = "bench"
    floor["name"] = f"floor {run} {index}"
    return floor


def _rows(starts: Iterable[float], has_sum: bool) -> list[StatisticData]:
    """Rows with the REAL datetime class, like the integration's (see
    `harness.real_datetime_in_package`): freezegun's would make the recorder slower."""
    real_datetime = freezegun_api.real_datetime  # read at run time: freezegun swaps names
    rows: list[StatisticData] = []
    for index, stamp in enumerate(starts):
        start = real_datetime.fromtimestamp(stamp, UTC)
        if has_sum:
            rows.append(StatisticData(start=start, state=1.0, sum=float(index + 1)))
        else:
            rows.append(StatisticData(start=start, max=1.0, mean=1.0, min=1.0))
    return rows


async def recorder_floor(
    hass: HomeAssistant, writes: Sequence[Write], *, max_rows: int | None = None
) -> Floor:
    """Write the rows of `writes` directly (at most `max_rows`, spread over every statistic,
    the time then scaled to all rows) and time it until the recorder is done."""
    by_statistic: dict[str, list[float]] = defaultdict(list)
    metadata: dict[str, StatisticMetaData] = {}
    for write in writes:
        by_statistic[write.statistic_id].extend(write.starts)
        metadata[write.statistic_id] = write.metadata
    total = sum(len(s) for s in by_statistic.values())
    if total == 0:
        return Floor(0, 0, 0.0)
    share = 1.0 if max_rows is None or max_rows >= total else max_rows / total
    run = next(_runs)
    batches: list[tuple[StatisticMetaData, list[StatisticData]]] = []
    for index, (statistic_id, starts) in enumerate(sorted(by_statistic.items())):
        ordered = sorted(starts)
        kept = ordered[: max(1, round(len(ordered) * share))]
        meta = _floor_metadata(metadata[statistic_id], run, index)
        batches.append((meta, _rows(kept, bool(meta["has_sum"]))))
    sampled = sum(len(rows) for _, rows in batches)
    await quiesce(hass)
    # Under the same instruments as the measured phases: the loop-lag probe's watchdog takes
    # the GIL every 5 ms, which alone slows the recorder thread by up to 15 %.
    async with Phase() as timed:
        for meta, rows in batches:
            async_add_external_statistics(hass, meta, rows)
        await async_wait_recording_done(hass)
    return Floor(total, sampled, timed.wall * total / sampled)


def _checkpoint(instance: Recorder) -> None:
    with session_scope(session=instance.get_session()) as session:
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


async def quiesce(hass: HomeAssistant) -> None:
    """An idle recorder with an empty write-ahead log, and the SQL statements of imports and
    reads already compiled: each timed write starts from the same state (a checkpoint or a
    first-time compilation otherwise lands on whoever writes next)."""
    instance = get_instance(hass)
    if not _primed.get(id(instance)):
        _primed[id(instance)] = True
        start = freezegun_api.real_datetime(2000, 1, 3, tzinfo=UTC)
        for has_sum in (True, False):
            meta = StatisticMetaData(
                has_sum=has_sum,
                mean_type=StatisticMeanType.NONE if has_sum else StatisticMeanType.ARITHMETIC,
                name="bench warm-up",
                source="bench",
                statistic_id=f"bench:warmup_{int(has_sum)}",
                unit_class=EnergyConverter.UNIT_CLASS,
                unit_of_measurement="kWh",
            )
            starts = [(start + timedelta(hours=i)).timestamp() for i in range(48)]
            async_add_external_statistics(hass, meta, _rows(starts, has_sum))
            await async_wait_recording_done(hass)
            await instance.async_add_executor_job(
                statistics_during_period,
                hass,
                start,
                None,
                {meta["statistic_id"]},
                "hour",
                None,
                {"state", "sum", "max"},
            )
    await async_wait_recording_done(hass)
    await instance.async_add_executor_job(_checkpoint, instance)
    gc.collect()


_primed: dict[int, bool] = {}


def in_run_floor(work: Sequence[RecorderWork], rows: int) -> Floor:
    """The recorder floor of a long import measured during it: the recorder thread's own time
    in `import_statistics` for the import's rows (checkpoints its commits caused included).

    Replaying a 150,000-row import would take as long again; this is the same work done on
    the same rows under the same machine conditions, minus only the per-call overhead of
    splitting the rows into several calls (the direct replay writes one call per statistic).
    """
    return Floor(rows, sum(w.rows for w in work), sum(w.seconds for w in work))
