"""Another integration's energy statistics, read back as days to adopt (linky/history.py).

What the known Linky tools write (read from their code):

- bokub/ha-linky (and its HACS port alexzouz/ha-linky): `linky:<PRM>` (consumption),
  `linky_prod:<PRM>` (production), Wh; hourly rows for its load-curve days, one row at local
  midnight for its daily days; `state` is the row's own energy, `sum` a running total.
- guilhem/hacs-linky: `linky:<PRM>_energy_consumption` / `_energy_production`, Wh, one row
  per day at local midnight, `state` the day's energy; its `sum` restarts at every update, so
  only `state` is trusted.

Any other statistic with a sum in an energy unit may be adopted too: its rows' amounts are
the differences of its sum (a recorder statistic's `state` is a meter reading). The source is
only read, never changed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    async_list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter

from ..const import DOMAIN
from ..model import Channel, DayEnergy
from ..providers.conso_api_parse import PARIS
from .history import Brought

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A statistic that may be adopted."""

    statistic_id: str
    name: str
    unit: str
    tool: str | None  # "ha_linky", "hacs_linky" when it is one of theirs
    channel: Channel | None  # the direction its id says, if it says one

    @property
    def label(self) -> str:
        """What the list shows."""
        return f"{self.name} ({self.statistic_id}, {self.unit})"


def known_tool(statistic_id: str, prm: str) -> tuple[str, Channel] | None:
    """Which known tool wrote this statistic for this PRM, and its direction."""
    ids = {
        f"linky:{prm}": ("ha_linky", Channel.CONSUMPTION),
        f"linky_prod:{prm}": ("ha_linky", Channel.PRODUCTION),
        f"linky:{prm}_energy_consumption": ("hacs_linky", Channel.CONSUMPTION),
        f"linky:{prm}_energy_production": ("hacs_linky", Channel.PRODUCTION),
    }
    return ids.get(statistic_id.lower())


def guess_channel(statistic_id: str) -> Channel | None:
    """The direction an unknown statistic's id suggests."""
    if re.search(r"prod|inject|export|return|solar", statistic_id):
        return Channel.PRODUCTION
    if re.search(r"conso|consumption|import", statistic_id):
        return Channel.CONSUMPTION
    return None


def _candidate(row: dict[str, Any], prm: str) -> Candidate | None:
    unit = row.get("statistics_unit_of_measurement")
    statistic_id = str(row.get("statistic_id", ""))
    if (
        not row.get("has_sum")
        or unit not in EnergyConverter.VALID_UNITS
        or row.get("source") == DOMAIN
    ):
        return None
    known = known_tool(statistic_id, prm)
    return Candidate(
        statistic_id,
        str(row.get("name") or statistic_id),
        str(unit),
        known[0] if known else None,
        known[1] if known else guess_channel(statistic_id),
    )


async def async_candidates(hass: HomeAssistant, prm: str) -> list[Candidate]:
    """Every statistic with a sum in an energy unit (not ours): the known tools' statistics
    of this PRM first, then any whose id holds the PRM, then the others by id."""
    rows = await async_list_statistic_ids(hass, statistic_type="sum")
    found = [c for row in rows if (c := _candidate(row, prm)) is not None]

    def rank(candidate: Candidate) -> tuple[int, str]:
        if candidate.tool is not None:
            return 0, candidate.statistic_id
        return (1 if prm in candidate.statistic_id else 2), candidate.statistic_id

    return sorted(found, key=rank)


def _days(
    rows: Sequence[StatisticsRow], unit: str, trust_state: bool
) -> tuple[dict[date, DayEnergy], int]:
    """Rows grouped by Paris day: one row is a daily figure (kept at local midnight), more
    are hours; returns the days and how many rows were left out (a sum that went down)."""
    to_kwh = EnergyConverter.converter_factory(unit, "kWh")
    per_day: dict[date, list[tuple[datetime, float]]] = defaultdict(list)
    previous: float | None = None
    dropped = 0
    for row in rows:
        start = datetime.fromtimestamp(row["start"], UTC)
        total = row.get("sum")
        if trust_state:
            amount = row.get("state")
        elif total is None:
            amount = None
        else:
            amount = total - previous if previous is not None else total
            previous = total
        if amount is None or amount < 0:
            dropped += 1
            continue
        per_day[start.astimezone(PARIS).date()].append((start, to_kwh(float(amount))))
    days: dict[date, DayEnergy] = {}
    for day, hours in per_day.items():
        if len(hours) == 1:
            days[day] = DayEnergy(day, hours[0][1])
        else:
            days[day] = DayEnergy(day, None, tuple(sorted(hours)))
    return days, dropped


def read_statistic(
    hass: HomeAssistant, candidate: Candidate, channel: Channel, prm: str
) -> tuple[Brought, int]:
    """Every row of the statistic as days to adopt (in the recorder's worker thread)."""
    result = statistics_during_period(
        hass, EPOCH, None, {candidate.statistic_id}, "hour", None, {"state", "sum"}
    )
    rows = result.get(candidate.statistic_id, [])
    trust_state = known_tool(candidate.statistic_id, prm) is not None
    days, dropped = _days(rows, candidate.unit, trust_state)
    brought = Brought(candidate.statistic_id)
    if days:
        brought.days[channel] = days
    return brought, dropped


async def async_read_statistic(
    hass: HomeAssistant, candidate: Candidate, channel: Channel, prm: str
) -> tuple[Brought, int]:
    """`read_statistic` in the recorder's executor."""
    return await get_instance(hass).async_add_executor_job(
        read_statistic, hass, candidate, channel, prm
    )
