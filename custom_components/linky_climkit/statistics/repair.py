"""At the next start, check and repair the statistics a hard stop left half changed (the
journal's pending intents; DESIGN invariant 7). Runs in the entry's background task, after
Home Assistant has started, before any new import.

The repair chosen is the simplest one that is always right and needs none of the values the
stop may have lost:

- Sums. The states are what was imported; the sums derive from them. From the intent's start
  to the statistic's end, wherever sum(h) != sum(previous row) + state(h), that row and every
  later one are shifted by the difference: one `async_adjust_statistics` per break (a block
  written but not shifted has exactly one, at its end). It reads the rows after the start
  once and rewrites nothing that is right; recomputing every later sum would write the whole
  history, and fetching again would spend provider calls on data that is there.
- Rows. A replaced statistic (cleared, then inserted again) that holds fewer rows in the
  range than the replace was writing has lost rows the journal cannot give back (it holds no
  values): the range is reported as damaged, and the pipeline derives it again, priced again
  from the stored energy for costs and bucket energies (no call), read again from the
  provider for energy (queued like an `import_history`, so the next run imports it).
- Costs. Energy imported but maybe not priced (a PRICE intent) is priced again by the
  pipeline: pricing reads the stored energy and writes only the rows that differ.

A change cut before its first step left everything as it was: the checks find nothing, and
the work whose cursor was not saved (cursors move only after the recorder has committed) is
simply done again. Each check reads what is stored, so running a repair twice (a stop during
the repair) changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from .commit import async_committed
from .importer import ANCHOR_LOOKBACK, EPOCH, StatType, StoredRow, read_rows
from .journal import Intent, Kind

_LOGGER = logging.getLogger(__name__)
TOLERANCE = 1e-4  # kWh, m³ or currency; the importer rounds states and sums to 1e-6


@dataclass(frozen=True, slots=True)
class Damage:
    """Rows of [start, end) of a statistic that a cut replace did not put back."""

    statistic_id: str
    start: datetime
    end: datetime


def breaks(anchor: float, rows: Iterable[StoredRow]) -> list[tuple[datetime, float]]:
    """Where the sums stop following the states, after a row whose sum is `anchor` (0 before
    the first row): each break's start and what to add to it and to every later row."""
    previous = anchor
    shift = 0.0
    found: list[tuple[datetime, float]] = []
    for row in rows:
        if row.total is None:
            continue
        actual = row.total + shift
        expected = previous + (row.state or 0.0)
        if abs(actual - expected) > TOLERANCE:
            found.append((row.start, expected - actual))
            shift += expected - actual
            actual = expected
        previous = actual
    return found


async def _read(
    hass: HomeAssistant,
    statistic_id: str,
    start: datetime,
    end: datetime | None,
    types: set[StatType],
) -> list[StoredRow]:
    return await get_instance(hass).async_add_executor_job(
        read_rows, hass, statistic_id, start, end, types
    )


async def _anchor(hass: HomeAssistant, statistic_id: str, start: datetime) -> float:
    """The sum of the row just before `start` (0 when there is none)."""
    rows = await _read(hass, statistic_id, start - ANCHOR_LOOKBACK, start, {"sum"})
    if not rows:
        rows = await _read(hass, statistic_id, EPOCH, start, {"sum"})
    return (rows[-1].total or 0.0) if rows else 0.0


async def repair_statistics(hass: HomeAssistant, intents: Iterable[Intent]) -> list[Damage]:
    """Repair the sums of every statistic a WRITE or REPLACE intent touched (oldest start
    first); return the ranges a replace did not finish."""
    recorder = get_instance(hass)
    await async_committed(hass)  # what an unloaded run still queued comes first
    damaged: list[Damage] = []
    touched = [i for i in intents if i.kind is not Kind.PRICE]
    for intent in sorted(touched, key=lambda i: i.start):
        statistic_id = intent.target
        rows = await _read(hass, statistic_id, intent.start, None, {"state", "sum"})
        found = breaks(await _anchor(hass, statistic_id, intent.start), rows)
        for start, amount in found:
            recorder.async_adjust_statistics(statistic_id, start, amount, intent.unit)
        if found:
            _LOGGER.warning(
                "%s: %d break(s) in the sums after a hard stop, repaired from %s",
                statistic_id,
                len(found),
                found[0][0].isoformat(),
            )
            await async_committed(hass)  # the next intent reads these sums
        inside = sum(1 for row in rows if row.start < intent.end)
        if intent.kind is Kind.REPLACE and inside < intent.rows:
            _LOGGER.warning(
                "%s: %d of %d rows after a hard stop; those days are written again",
                statistic_id,
                inside,
                intent.rows,
            )
            damaged.append(Damage(statistic_id, intent.start, intent.end))
    return damaged
