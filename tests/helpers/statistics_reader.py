"""Read statistics back from the recorder, the way the Energy dashboard does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from tests.simulators.conso_api import PARIS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def hourly_rows(hass: HomeAssistant, statistic_id: str) -> list[dict[str, Any]]:
    """Every stored row of a statistic, oldest first, with aware `start`."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        EPOCH,
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum", "max", "mean", "min"},
    )
    result = []
    for row in rows.get(statistic_id, []):
        item = dict(row)
        item["start"] = datetime.fromtimestamp(row["start"], UTC)
        result.append(item)
    return result


def rows_of_day(rows: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """The rows whose start lies in the Paris day."""
    return [r for r in rows if r["start"].astimezone(PARIS).date() == day]


def day_total(rows: list[dict[str, Any]], day: date) -> float:
    """Sum of the states of one day."""
    return sum(r["state"] for r in rows_of_day(rows, day))


def assert_continuous(rows: list[dict[str, Any]]) -> None:
    """sum(h) = sum(previous) + state(h) for every row; the first sum equals its state."""
    previous = 0.0
    for row in rows:
        assert abs(row["sum"] - (previous + row["state"])) < 1e-4, row
        previous = row["sum"]


def days_between(first: date, last: date) -> list[date]:
    """Every day from first to last inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
