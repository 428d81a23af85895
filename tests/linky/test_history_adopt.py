"""Adopting another integration's statistics (options → Import history → statistics): each
known tool's statistics written the way it writes them, into a real recorder, adopted, then
read back day by day against the simulator's ground truth.

The meter was activated on 2025-11-01: Conso API has nothing before (those days come from
the old statistic), and its daily figure wins from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.models.statistics import StatisticMetaData
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.linky_climkit.linky.adopt import _days
from tests.helpers.enedis_files import PRM, days, half_hours
from tests.helpers.statistics_reader import day_total, hourly_rows, rows_of_day
from tests.linky.history_helpers import (
    ACTIVATION,
    CONSUMPTION,
    COST,
    PRICE,
    activated_sim,  # noqa: F401 - fixture
    confirm_and_run,
    fresh_token,
    open_step,
    own_upload_folder,  # noqa: F401 - fixture
    rows,
    setup_priced_meter,
)
from tests.simulators.conso_api import PARIS, ConsoApiSimulator

HA_LINKY = f"linky:{PRM}"
HACS_LINKY = f"linky:{PRM}_energy_consumption"
DAILY_DAYS = days(date(2025, 10, 1), date(2025, 10, 19))  # ha-linky's older, daily days
HOURLY_DAYS = days(date(2025, 10, 20), date(2025, 11, 3))  # its load-curve days
BEFORE = [d for d in HOURLY_DAYS if d < ACTIVATION]
AFTER = [d for d in HOURLY_DAYS if d >= ACTIVATION]


def ha_linky_rows(sim: ConsoApiSimulator) -> list[dict[str, Any]]:
    """ha-linky's rows: a daily day's Wh at local midnight, a load-curve day's hours (mean
    of the hour's two half-hour W values, stamped at the local hour's start with its
    offset), `state` the row's Wh, `sum` running from the first row."""
    found = [
        (datetime.combine(day, time(), PARIS), float(sim.daily_wh(PRM, day))) for day in DAILY_DAYS
    ]
    for day in HOURLY_DAYS:
        per_hour: dict[datetime, list[int]] = {}
        for start, watts in half_hours(sim, day):
            hour = start.replace(minute=0)
            per_hour.setdefault(hour, []).append(watts)
        for hour, values in per_hour.items():
            local = hour.astimezone(PARIS)
            found.append((local, round(sum(values) / len(values), 2)))
    total = 0.0
    out = []
    for start, value in found:
        total += value
        out.append({"start": start.isoformat(), "state": value, "sum": round(total, 2)})
    return out


async def write_like_ha_linky(hass: HomeAssistant, hass_ws_client: Any, sim: Any) -> None:
    """Through the websocket, as ha-linky's `src/ha.ts` does (no mean_type, no unit_class:
    Home Assistant fills them in)."""
    client = await hass_ws_client(hass, await fresh_token(hass))
    await client.send_json_auto_id(
        {
            "type": "recorder/import_statistics",
            "metadata": {
                "has_mean": False,
                "has_sum": True,
                "name": "Linky consumption",
                "source": "linky",
                "statistic_id": HA_LINKY,
                "unit_of_measurement": "Wh",
            },
            "stats": ha_linky_rows(sim),
        }
    )
    assert (await client.receive_json())["success"]
    await async_wait_recording_done(hass)


def write_like_hacs_linky(hass: HomeAssistant, sim: ConsoApiSimulator, batches: int) -> None:
    """As guilhem/hacs-linky does: Wh per day at local midnight (`as_utc` of a naive
    midnight), its sum restarting at 0 with every update batch."""
    metadata = StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=f"Linky {PRM} consumption",
        source="linky",
        statistic_id=HACS_LINKY,
        unit_class="energy",
        unit_of_measurement="Wh",
    )
    every = days(date(2025, 9, 1), date(2025, 11, 5))
    size = -(-len(every) // batches)
    for first in range(0, len(every), size):
        total, stats = 0.0, []
        for day in every[first : first + size]:
            wh = float(sim.daily_wh(PRM, day))
            total += wh
            start = dt_util.as_utc(datetime.combine(day, time.min))
            stats.append({"start": start, "state": wh, "sum": total})
        async_add_external_statistics(hass, metadata, stats)  # type: ignore[arg-type]


async def adopt(hass: HomeAssistant, entry: Any, statistic: str) -> dict[str, Any]:
    """The statistic step: the known tools' statistic is offered first; its preview."""
    form = await open_step(hass, entry, "history_statistic")
    schema = form["data_schema"].schema
    offered = next(k for k in schema if k == "statistic").default()
    assert offered == statistic
    return dict(
        await hass.config_entries.options.async_configure(
            form["flow_id"], {"statistic": statistic, "channel": "auto"}
        )
    )


@pytest.mark.usefixtures("recorder_mock", "own_upload_folder")
async def test_adopt_ha_linky(
    paris: HomeAssistant,
    activated_sim: ConsoApiSimulator,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    hass_ws_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ha-linky's daily rows stay one row at local midnight, its hours stay hours, Wh become
    kWh, Conso API's days keep their figure (ha-linky's hours give their shape), sums stay
    continuous, costs are priced, the old statistic is untouched, adopting again changes
    nothing."""
    hass, sim = paris, activated_sim
    entry, coordinator = await setup_priced_meter(hass, sim, freezer)
    # The websocket logs its messages at debug, the test client's access token with them.
    caplog.set_level(logging.INFO, logger="homeassistant.components.websocket_api")
    await write_like_ha_linky(hass, hass_ws_client, sim)
    old = await hourly_rows(hass, HA_LINKY)
    api = await hourly_rows(hass, CONSUMPTION)

    preview = await adopt(hass, entry, HA_LINKY)
    figures = preview["description_placeholders"]
    assert figures["source"] == HA_LINKY
    assert figures["days"] == str(len(DAILY_DAYS) + len(HOURLY_DAYS))
    assert (figures["new"], figures["shaped"]) == (str(len(DAILY_DAYS) + len(BEFORE)), "3")
    await confirm_and_run(hass, freezer, coordinator, preview)

    energy = await rows(hass, CONSUMPTION)
    for day in DAILY_DAYS:
        (row,) = rows_of_day(energy, day)
        assert row["start"] == dt_util.as_utc(datetime.combine(day, time(), PARIS))
        assert row["state"] == pytest.approx(sim.daily_wh(PRM, day) / 1000, abs=1e-6)
    for day in BEFORE:
        assert len(rows_of_day(energy, day)) == (25 if day == date(2025, 10, 26) else 24)
        assert day_total(energy, day) == pytest.approx(sim.curve_wh(PRM, day) / 1000, abs=1e-5)
    for day in AFTER:
        assert len(rows_of_day(energy, day)) == 24, day
        assert day_total(energy, day) == pytest.approx(day_total(api, day), abs=1e-5), day
    later = days(date(2025, 11, 4), date(2026, 11, 19))
    assert totals(energy, later) == pytest.approx(totals(api, later), abs=1e-5)
    costs = await rows(hass, COST)
    for day in [*DAILY_DAYS, *HOURLY_DAYS]:
        assert day_total(costs, day) == pytest.approx(PRICE * day_total(energy, day), abs=1e-5)
    assert await hourly_rows(hass, HA_LINKY) == old  # only read

    again = await adopt(hass, entry, HA_LINKY)
    assert again["description_placeholders"]["again"] == figures["days"]
    await confirm_and_run(hass, freezer, coordinator, again)
    assert await rows(hass, CONSUMPTION) == energy


@pytest.mark.usefixtures("recorder_mock", "own_upload_folder")
async def test_adopt_hacs_linky(
    paris: HomeAssistant,
    activated_sim: ConsoApiSimulator,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """hacs-linky's daily rows, whose sum restarts with every batch: each day's own energy
    is adopted (not its sum), one row at local midnight; Conso API's days are skipped."""
    hass, sim = paris, activated_sim
    entry, coordinator = await setup_priced_meter(hass, sim, freezer)
    write_like_hacs_linky(hass, sim, batches=4)
    await async_wait_recording_done(hass)

    preview = await adopt(hass, entry, HACS_LINKY)
    adopted = days(date(2025, 9, 1), ACTIVATION - timedelta(days=1))
    figures = preview["description_placeholders"]
    assert (figures["new"], figures["skipped"]) == (str(len(adopted)), "5")
    await confirm_and_run(hass, freezer, coordinator, preview)
    energy = await rows(hass, CONSUMPTION)
    for day in adopted:
        (row,) = rows_of_day(energy, day)
        assert row["state"] == pytest.approx(sim.daily_wh(PRM, day) / 1000, abs=1e-6), day


def totals(found: list[dict[str, Any]], every: Iterable[date]) -> list[float]:
    return [day_total(found, day) for day in every]


def test_any_statistic_is_read_from_its_sum() -> None:
    """A statistic of another kind (a meter's reading in `state`): each row's energy is the
    difference of its sums; a sum that goes down is left out, never a negative amount."""
    start = datetime(2025, 10, 1, 22, tzinfo=UTC)  # 2025-10-02 00:00 in Paris
    readings = [(0, 100.0, 0.0), (1, 101.5, 1.5), (2, 103.0, 3.0), (3, 1.0, 2.0), (4, 2.0, 4.0)]
    found = [
        {"start": (start + timedelta(hours=h)).timestamp(), "state": state, "sum": total}
        for h, state, total in readings
    ]
    day, dropped = _days(found, "kWh", trust_state=False)  # type: ignore[arg-type]
    (energy,) = day.values()
    assert [v for _, v in energy.hours or ()] == [0.0, 1.5, 1.5, 2.0]
    assert dropped == 1


@pytest.mark.usefixtures("recorder_mock", "own_upload_folder")
async def test_choosing_the_statistic(
    paris: HomeAssistant,
    activated_sim: ConsoApiSimulator,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    """Another statistic through Home Assistant's picker (one without an energy sum is
    refused), a direction that contradicts a known id, a source with nothing Conso API
    does not already have."""
    hass, sim = paris, activated_sim
    entry, coordinator = await setup_priced_meter(hass, sim, freezer)
    write_like_hacs_linky(hass, sim, batches=1)
    recent = StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name="Recent",
        source="other",
        statistic_id="other:recent_consumption",
        unit_class="energy",
        unit_of_measurement="kWh",
    )
    day = date(2026, 11, 10)  # Conso API's
    start = dt_util.as_utc(datetime.combine(day, time.min))
    async_add_external_statistics(hass, recent, [{"start": start, "state": 5.0, "sum": 5.0}])
    await async_wait_recording_done(hass)

    form = await open_step(hass, entry, "history_statistic")
    other = await hass.config_entries.options.async_configure(
        form["flow_id"], {"statistic": "other", "channel": "auto"}
    )
    assert other["step_id"] == "history_other_statistic"
    refused = await hass.config_entries.options.async_configure(
        other["flow_id"],
        {"statistic": CONSUMPTION, "channel": "auto"},  # ours
    )
    assert refused["errors"] == {"statistic": "statistic_not_energy"}
    nothing = await hass.config_entries.options.async_configure(
        other["flow_id"], {"statistic": "other:recent_consumption", "channel": "auto"}
    )
    assert nothing["type"] is FlowResultType.ABORT
    assert nothing["reason"] == "history_nothing_new"
    assert nothing["description_placeholders"] == {"skipped": "1"}

    form = await open_step(hass, entry, "history_statistic")
    wrong = await hass.config_entries.options.async_configure(
        form["flow_id"], {"statistic": HACS_LINKY, "channel": "production"}
    )
    assert (wrong["type"], wrong["reason"]) == (FlowResultType.ABORT, "direction_mismatch")
    assert not coordinator.history.pending
