"""Hostile Conso API answers through the whole Linky pipeline: a stray future point, a curve
served backwards, a body with both directions, an absurd value. What is imported is the
meter's own data for the asked days, the sensors show yesterday, the diagnostics count the
rest."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.conftest import NOW, PRM
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.helpers.time_travel import setup_linky
from tests.simulators.conso_api import ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock")
CONSUMPTION = statistic_id(PRM, "consumption")
YESTERDAY = NOW.date() - timedelta(days=1)


def hostile(type_: str, body: dict[str, Any]) -> None:
    """Every class of the issue at once, in every answer."""
    grandeur = body["grandeur"][0]
    points = grandeur["points"]
    if type_ == "consommation_quotidienne":
        points.append({"v": "1", "d": points[-1]["d"]})  # a duplicate: the first value wins
        points.append({"v": "5000", "d": "2099-01-01"})  # the stray day of the issue
        points.insert(0, {"v": "1e308", "d": points[0]["d"]})  # absurd: the next one counts
        production = copy.deepcopy(grandeur)
        production["grandeurMetier"] = "PROD"
        for point in production["points"]:
            point["v"] = "999999"
        body["grandeur"].insert(0, production)  # both directions, production first
    elif type_ == "courbe_de_charge_consommation":
        points.reverse()  # newest first
        points.append({**points[0], "d": "2099-01-01 00:30:00"})
    elif type_ == "puissance_conso_max_quotidienne":
        points.append({"v": "9000", "d": "2099-01-01 10:00:00"})


async def test_hostile_answers_import_only_the_asked_days(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    conso_sim.body_hook = hostile
    _, coordinator = await setup_linky(paris, conso_sim, PRM)

    rows = await hourly_rows(paris, CONSUMPTION)
    assert rows
    assert max(r["start"] for r in rows) < NOW  # nothing in 2099
    assert_continuous(rows)
    yesterday = rows_of_day(rows, YESTERDAY)
    assert len(yesterday) == 24  # the reversed curve is read whole
    assert day_total(rows, YESTERDAY) == pytest.approx(conso_sim.daily_wh(PRM, YESTERDAY) / 1000)

    registry = er.async_get(paris)
    entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{PRM}_daily_consumption")
    assert entity_id is not None
    state = paris.states.get(entity_id)
    assert state is not None
    assert state.attributes["day"] == YESTERDAY
    assert float(state.state) == pytest.approx(conso_sim.daily_wh(PRM, YESTERDAY) / 1000)

    dropped = coordinator.state.dropped_points
    assert dropped["outside_requested_dates"] >= 3
    assert dropped["other_direction"] > 0
    assert dropped["duplicates"] >= 1
    assert dropped["refused_values"] >= 1
    assert coordinator.state.latest_peak is not None
    assert coordinator.state.latest_peak[0] == YESTERDAY
