"""Importing Enedis files into a meter's statistics (options → Import history → file), read
back from the recorder and compared with the simulator's ground truth day by day.

The meter was activated on 2025-11-01: Conso API has nothing before, so the fixtures' days
before it are new, and its days from then on are Conso API's (the service's daily figure
wins; it has no load curve for them, so a file's hours give their shape).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.linky_climkit.linky import history
from tests.helpers.enedis_files import AUTUMN, FIXTURES, INDEX_DAYS, PRM, days
from tests.helpers.statistics_reader import day_total, hourly_rows, rows_of_day
from tests.linky.history_helpers import (
    ACTIVATION,
    CONSUMPTION,
    COST,
    MAX_POWER,
    PRICE,
    PRODUCTION,
    activated_sim,  # noqa: F401 - fixture
    confirm_and_run,
    own_upload_folder,  # noqa: F401 - fixture
    rows,
    setup_priced_meter,
    submit_file,
)
from tests.simulators.conso_api import PARIS, ConsoApiSimulator

CURVE = FIXTURES / f"Enedis_Conso_Heure_20251020-20251102_{PRM}.csv"
INDEX = FIXTURES / f"Enedis_Conso_Jour_20251001-20251102_{PRM}.csv"
DOWNLOADER_PROD = FIXTURES / f"historique_prod_{PRM}_2025-11-05.csv"
DAILY_PROD = FIXTURES / f"Enedis_Prod_Jour_20251020-20251102_{PRM}.csv"
R63 = FIXTURES / f"ENEDIS_R63_P_CdC_{PRM}_20250327.csv"
BEFORE = days(AUTUMN[0], ACTIVATION - timedelta(days=1))  # 2025-10-20 … 10-31
AFTER = days(ACTIVATION, AUTUMN[1])  # 2025-11-01, 11-02: Conso API's
OTHER_PRM = CURVE.read_bytes().replace(PRM.encode(), b"11111111111111")
BAD_DATE = b"debut;fin;kW\n2025-13-45T00:00;2025-01-01T00:30;1\n"
CORRECTED = 1.07  # Conso API's figure for AFTER differs from the files': it wins


def hours_of(day: date) -> int:
    return 25 if day == date(2025, 10, 26) else 23 if day == date(2025, 3, 30) else 24


@pytest.mark.usefixtures("recorder_mock", "own_upload_folder")
async def test_enedis_files_import_exactly_and_once(
    paris: HomeAssistant,
    activated_sim: ConsoApiSimulator,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    hass_client: Any,
) -> None:
    """The load curve, then the daily indexes and max power: days before the activation as
    the files say, Conso API's days keep its figure, sums continuous, costs priced,
    a second import of the same file changes nothing."""
    hass, sim = paris, activated_sim
    for day in AFTER:
        sim.corrections[day] = CORRECTED
    entry, coordinator = await setup_priced_meter(hass, sim, freezer)
    api_before = {day: day_total(await hourly_rows(hass, CONSUMPTION), day) for day in AFTER}
    assert api_before == pytest.approx({d: sim.daily_wh(PRM, d) / 1000 for d in AFTER})

    preview = await submit_file(hass, entry, hass_client, CURVE)
    figures = preview["description_placeholders"]
    assert figures["target"] == CONSUMPTION
    assert (figures["days"], figures["new"], figures["shaped"]) == ("14", "12", "2")
    assert (figures["first"], figures["last"]) == ("2025-10-20", "2025-11-02")
    assert figures["skipped"] == figures["again"] == "0"
    expected_kwh = sum(sim.curve_wh(PRM, d) for d in BEFORE) / 1000
    assert float(figures["kwh"]) == pytest.approx(expected_kwh, abs=1e-3)
    assert figures["dropped"] == "1"  # the empty value of the file's first line
    await confirm_and_run(hass, freezer, coordinator, preview)

    energy = await rows(hass, CONSUMPTION)
    for day in BEFORE:
        assert len(rows_of_day(energy, day)) == hours_of(day), day
        assert day_total(energy, day) == pytest.approx(sim.curve_wh(PRM, day) / 1000, abs=1e-5)
    for day in AFTER:  # the file's hours, scaled to Conso API's figure
        assert len(rows_of_day(energy, day)) == 24, day
        assert day_total(energy, day) == pytest.approx(api_before[day], abs=1e-5), day
    costs = await rows(hass, COST)
    for day in [*BEFORE, *AFTER]:
        assert day_total(costs, day) == pytest.approx(PRICE * day_total(energy, day), abs=1e-5)

    # The same file again: previewed as brought before, and nothing changes.
    again = await submit_file(hass, entry, hass_client, CURVE)
    assert again["description_placeholders"]["again"] == "14"
    await confirm_and_run(hass, freezer, coordinator, again)
    assert await rows(hass, CONSUMPTION) == energy

    # The daily indexes: each day before the activation takes the index's figure (the curve's
    # hours scaled to it; days without a curve as one midnight row), Conso API's days skipped.
    preview = await submit_file(hass, entry, hass_client, INDEX)
    figures = preview["description_placeholders"]
    assert figures["skipped"] == str(len(AFTER))
    # Conso API's max power is only read for the last days yet: every peak is new.
    assert (figures["peaks"], figures["peaks_skipped"]) == ("33", "0")
    await confirm_and_run(hass, freezer, coordinator, preview)
    energy = await rows(hass, CONSUMPTION)
    for day in days(INDEX_DAYS[0], ACTIVATION - timedelta(days=1)):
        expected_rows = hours_of(day) if day in BEFORE else 1
        assert len(rows_of_day(energy, day)) == expected_rows, day
        assert day_total(energy, day) == pytest.approx(sim.daily_wh(PRM, day) / 1000, abs=1e-5)
    for day in AFTER:
        assert day_total(energy, day) == pytest.approx(api_before[day], abs=1e-5), day
    peaks = {row["start"]: row["max"] for row in await hourly_rows(hass, MAX_POWER)}
    for day in days(*INDEX_DAYS):
        (row,) = [v for start, v in peaks.items() if start.astimezone(PARIS).date() == day]
        assert row == pytest.approx(sim.max_power(PRM, day)[0] / 1000), day


@pytest.mark.usefixtures("recorder_mock", "own_upload_folder")
async def test_production_files(
    paris: HomeAssistant,
    activated_sim: ConsoApiSimulator,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    hass_client: Any,
) -> None:
    """Conso Downloader's production curve (named historique_prod_…), then the customer
    area's daily production: each into the production statistic, exactly."""
    hass, sim = paris, activated_sim
    entry, coordinator = await setup_priced_meter(hass, sim, freezer)
    preview = await submit_file(hass, entry, hass_client, DOWNLOADER_PROD)
    assert preview["description_placeholders"]["target"] == PRODUCTION
    await confirm_and_run(hass, freezer, coordinator, preview)
    energy = await rows(hass, PRODUCTION)
    for day in BEFORE:
        assert len(rows_of_day(energy, day)) == hours_of(day), day
        expected = sim.curve_wh(PRM, day, production=True) / 1000
        assert day_total(energy, day) == pytest.approx(expected, abs=1e-5), day

    preview = await submit_file(hass, entry, hass_client, DAILY_PROD)
    await confirm_and_run(hass, freezer, coordinator, preview)
    energy = await rows(hass, PRODUCTION)
    for day in BEFORE:
        expected = sim.daily_wh(PRM, day, production=True) / 1000
        assert day_total(energy, day) == pytest.approx(expected, abs=1e-5), day


@pytest.mark.usefixtures("recorder_mock", "own_upload_folder")
async def test_the_r63_file_and_a_job_resumed_after_a_stop(
    paris: HomeAssistant,
    activated_sim: ConsoApiSimulator,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    hass_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An R63 file over the spring change, imported in chunks of 3 days: Home Assistant
    stops after the first chunk; once set up again, the job goes on from the saved cursor
    and every day is exact (23 hours on 2025-03-30)."""
    hass, sim = paris, activated_sim
    monkeypatch.setattr(history, "CHUNK_DAYS", 3)
    entry, coordinator = await setup_priced_meter(hass, sim, freezer)
    preview = await submit_file(hass, entry, hass_client, R63)
    advanced: list[date | None] = []
    real_advance = history.HistoryJob.async_advance

    async def stop_after_first(job: history.HistoryJob, chunk: set[date]) -> None:
        await real_advance(job, chunk)
        advanced.append(job.done)
        if len(advanced) == 1:
            raise RuntimeError("Home Assistant stops")

    monkeypatch.setattr(history.HistoryJob, "async_advance", stop_after_first)
    done = await hass.config_entries.options.async_configure(preview["flow_id"], {})
    assert done["reason"] == "history_started"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.next_run is not None
    freezer.move_to(coordinator.next_run)
    async_fire_time_changed(hass, coordinator.next_run)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert advanced == [date(2025, 3, 29)]
    assert coordinator.history.diagnostics() == {
        "pending": True,
        "source": R63.name,
        "reason": "history_file",
        "imported_up_to": "2025-03-29",
    }
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)  # the job is read back
    await hass.async_block_till_done(wait_background_tasks=True)
    resumed = entry.runtime_data
    assert not resumed.history.pending
    assert advanced == [date(2025, 3, 29), date(2025, 4, 1), date(2025, 4, 2)]
    energy = await rows(hass, CONSUMPTION)
    for day in days(date(2025, 3, 27), date(2025, 4, 2)):
        assert len(rows_of_day(energy, day)) == hours_of(day), day
        assert day_total(energy, day) == pytest.approx(sim.curve_wh(PRM, day) / 1000, abs=1e-5)


WRONG_FILES = [
    (b"PK\x03\x04rest", "export.xlsx", "auto", "file_spreadsheet"),
    (b"Date;Conso\n2025-01-01;3\n", "x.csv", "auto", "file_unknown"),
    (OTHER_PRM, "c.csv", "auto", "file_other_prm"),
    (CURVE.read_bytes(), "c.csv", "production", "file_direction_mismatch"),
    (DOWNLOADER_PROD.read_bytes(), "renamed.csv", "auto", "file_direction_unknown"),
    (BAD_DATE, "historique_conso_x.csv", "auto", "file_bad_date"),
]


@pytest.mark.usefixtures("recorder_mock", "own_upload_folder")
async def test_a_wrong_file_is_refused_with_a_reason(
    paris: HomeAssistant,
    activated_sim: ConsoApiSimulator,  # noqa: F811
    freezer: FrozenDateTimeFactory,
    hass_client: Any,
    tmp_path: Any,
) -> None:
    """A spreadsheet, another layout, another meter's file, the other direction, a file
    that does not say its direction, an unreadable date: the form says why, nothing is
    written."""
    hass, sim = paris, activated_sim
    entry, coordinator = await setup_priced_meter(hass, sim, freezer)
    before = await hourly_rows(hass, CONSUMPTION)
    for content, name, channel, error in WRONG_FILES:
        path = tmp_path / name
        path.write_bytes(content)
        result = await submit_file(hass, entry, hass_client, path, channel=channel)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": error}, name
        assert not coordinator.history.pending
    assert await hourly_rows(hass, CONSUMPTION) == before
