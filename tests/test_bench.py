"""The machinery of `scripts/bench`, fast: table, JSON and exit code on fake figures, and the
instruments (rows, recorder floor, loop lag, memory, clocks) on a tiny real import."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import freezegun.api as freezegun_api
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.linky_climkit.model import DayEnergy
from custom_components.linky_climkit.providers import climkit
from custom_components.linky_climkit.statistics import aggregation
from custom_components.linky_climkit.statistics.ids import energy_spec
from custom_components.linky_climkit.statistics.importer import Importer
from tests.bench.floor import recorder_floor
from tests.bench.harness import HybridClock, real_datetime_in_package
from tests.bench.probes import MB, PHASE, Phase, RowCounter, tag_phase
from tests.bench.results import DEFAULT_JSON, JSON_ENV, Results, Status, json_path, load, main
from tests.conftest import NOW
from tests.simulators.conso_api import PARIS


def fake_results() -> Results:
    """One figure of each kind."""
    results = Results()
    results.order = ["second", "first"]
    results.at_most("first", "calls", 9, 10, digits=0)
    results.at_most("first", "loop block", 62.0, 50.0, unit="ms", strict=True)
    results.at_least("second", "gap", 1.1, 1.0, unit="s")
    results.equal("second", "rows", 2877, 2877)
    results.info("second", "cpu", "0.09 s", value=0.09, unit="s")
    results.not_applicable("third", "tariff", "n/a (no tariff support yet)", "≤ 1.2×")
    return results


def test_targets_table_json_and_exit_code(tmp_path: Path) -> None:
    """Statuses, the table with targets side by side, the JSON, the exit code."""
    results = fake_results()
    statuses = [f.status for f in results.figures]
    assert statuses == [
        Status.OK,
        Status.MISSED,
        Status.OK,
        Status.OK,
        Status.INFO,
        Status.NOT_APPLICABLE,
    ]
    assert results.exit_code() == 1
    assert [f.figure for f in results.failures] == ["loop block"]

    results.finish()  # the table's order: "second", "first", then the others
    assert [f.scenario for f in results.figures] == ["second"] * 3 + ["first"] * 2 + ["third"]
    lines = results.table().splitlines()
    assert [c.strip() for c in lines[0].split("|")] == [
        "scenario",
        "figure",
        "measured",
        "target",
        "ok",
    ]
    assert set(lines[1]) <= {"-", "+"}
    assert len({line.index("|") for line in lines if "|" in line}) == 1  # aligned columns
    row = next(line for line in lines if "loop block" in line)
    assert [c.strip() for c in row.split("|")] == [
        "first",
        "loop block",
        "62.00 ms",
        "< 50 ms",
        "MISSED",
    ]
    assert "| tariff | n/a (no tariff support yet) | ≤ 1.2× | n/a |" in results.markdown()
    report = results.report(load=0.5, json_file=tmp_path / "x.json")
    assert "3/4 targets met" in report[-3]
    assert report[-2].startswith("MISSED: first / loop block: 62.00 ms")
    assert report[-1].endswith("x.json")

    path = tmp_path / "out" / "latest.json"
    results.write_json(path, {"commit": "abc"})
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert data["ok"] is False
    assert data["meta"] == {"commit": "abc"}
    assert data["summary"] == "3/4 targets met"
    missed = [f for f in data["figures"] if f["status"] == "MISSED"]
    assert missed == [
        {
            "scenario": "first",
            "figure": "loop block",
            "measured": "62.00 ms",
            "target": "< 50 ms",
            "status": "MISSED",
            "value": 62.0,
            "limit": 50.0,
            "unit": "ms",
            "details": {},
        }
    ]


def test_exit_code_when_all_met_nothing_measured_or_broken() -> None:
    """0 only when something was measured and every target is met."""
    results = Results()
    assert results.exit_code() == 1
    results.at_most("s", "calls", 10, 10)
    results.info("s", "note", "-")
    assert results.exit_code() == 0
    results.error("test_scenario", "call: AssertionError")
    assert results.exit_code() == 1
    assert "1 scenario(s) broke" in results.summary()


def test_finishers_run_once_and_a_broken_one_is_an_error() -> None:
    """Figures over several runs are added at the end, once."""
    results = Results()
    calls: list[int] = []

    def aggregate(r: Results) -> None:
        calls.append(1)
        r.at_most("s", "median", 1.1, 1.3)

    def broken(r: Results) -> None:
        raise ZeroDivisionError

    results.at_finish(aggregate)
    results.at_finish(broken)
    results.finish()
    results.finish()
    assert calls == [1]
    assert [f.status for f in results.figures] == [Status.OK, Status.ERROR]


def test_json_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$BENCH_JSON, relative to the repository or absolute; a default otherwise."""
    monkeypatch.delenv(JSON_ENV, raising=False)
    assert json_path(tmp_path) == tmp_path / DEFAULT_JSON
    monkeypatch.setenv(JSON_ENV, "elsewhere/run.json")
    assert json_path(tmp_path) == tmp_path / "elsewhere" / "run.json"
    monkeypatch.setenv(JSON_ENV, str(tmp_path / "abs.json"))
    assert json_path(Path("/nowhere")) == tmp_path / "abs.json"


@pytest.mark.usefixtures("recorder_mock")
async def test_instruments_on_a_tiny_import(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows counted with their phase, the floor replays them, a blocked loop and an
    allocation are seen."""
    await hass.config.async_set_time_zone("Europe/Paris")
    counter = RowCounter()
    counter.install(hass, monkeypatch.setattr)
    importer = Importer(hass, PARIS)
    spec = energy_spec("12345678901234", "consumption", "bench test")
    days = {d: DayEnergy(d, total=5.0) for d in (date(2026, 1, 1), date(2026, 1, 2))}

    async def first_import() -> None:
        await importer.import_days(spec, days)

    await tag_phase("first_import", first_import)()
    assert PHASE.get() == "other"
    assert [(w.statistic_id, w.rows, w.phase) for w in counter.writes] == [
        ("linky_climkit:12345678901234_consumption", 2, "first_import")
    ]
    assert list(counter.writes[0].days(PARIS)) == list(days)
    floor = await recorder_floor(hass, counter.writes)
    assert floor.rows == floor.sampled == 2
    assert floor.wall > 0

    async with Phase(memory=True) as m:
        time.sleep(0.08)  # noqa: ASYNC251 - blocks the event loop on purpose
        block = bytearray(8 * MB)
        await asyncio.sleep(0)
        del block
    assert m.max_lag >= 0.07
    assert m.memory_peak is not None
    assert m.memory_peak >= 8 * MB
    assert m.cpu >= 0.0
    assert m.wall >= 0.08


async def test_real_datetime_in_package_and_hybrid_clock(freezer: FrozenDateTimeFactory) -> None:
    """Frozen time: the package computes with the real datetime class (not freezegun's
    slower one) except where it reads the clock itself; the hybrid clock advances on sleep."""
    freezer.move_to(NOW)
    real = freezegun_api.real_datetime  # read at run time: freezegun swaps module attributes
    assert vars(aggregation)["datetime"] is not real  # freezegun swapped it
    changed = real_datetime_in_package()
    assert "custom_components.linky_climkit.statistics.aggregation.datetime" in changed
    assert vars(aggregation)["datetime"] is real
    assert vars(climkit)["datetime"] is not real  # it calls datetime.now() itself
    assert dt_util.utcnow() == NOW  # still frozen

    clock = HybridClock(freezer)
    before = dt_util.utcnow()
    await clock.sleep(1.1)
    assert clock.slept == pytest.approx(1.1)
    assert dt_util.utcnow() - before >= timedelta(seconds=1.1)
    assert clock.clock() >= before.timestamp() + 1.1


def test_markdown_and_compare_from_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON reads back: the README table, and two runs compared figure by figure."""
    old, new = fake_results(), fake_results()
    new.figures[1] = Results().at_most("first", "loop block", 40.0, 50.0, unit="ms", strict=True)
    old.write_json(tmp_path / "old.json")
    new.write_json(tmp_path / "new.json")
    assert main(["markdown", str(tmp_path / "new.json")]) == 0
    assert capsys.readouterr().out.strip() == new.markdown()
    assert main(["compare", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "first / loop block: 62.00 ms → 40.00 ms (-35%) [MISSED → ok]" in lines
    assert load(tmp_path / "old.json").exit_code() == 1
