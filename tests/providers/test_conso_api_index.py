"""The index types (the meter's registers): the simulator serves them consistently with its
load curve and daily figures, and the parser reads them tolerantly ([I]: no recorded answer
exists; the structure is the swagger's)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers.conso_api_index import (
    parse_index,
    register_deltas,
)
from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile
from tests.simulators.conso_api_index import RegisterPlan, tempo_colour

PRM = "12345678901234"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=PARIS)
FIRST, END = date(2026, 10, 1), date(2026, 11, 15)  # the autumn change inside
HC = RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),))


def simulator(plan: RegisterPlan, **meter: Any) -> ConsoApiSimulator:
    return ConsoApiSimulator(
        [MeterProfile(PRM, seed=5, has_production=True, registers=plan, **meter)],
        clock=lambda: NOW,
    )


def answer(sim: ConsoApiSimulator, type_: str, start: date, end: date) -> Any:
    params = {"pointId": PRM, "dateDebut": start.isoformat(), "dateFin": end.isoformat()}
    response = sim._enedis(type_, {**params, "mesuresPas": None, "grandeurPhysique": None})
    assert response.status == 200, response.body
    return json.loads(response.body)


def consumption_index(sim: ConsoApiSimulator) -> Any:
    body = answer(sim, "index_consommation", FIRST, END)
    return parse_index(body, Channel.CONSUMPTION, FIRST, END)


def days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((end - first).days)]


def off_peak_share(start: time) -> float:
    """The share of the half-hour starting at `start` inside 22:08-06:08."""
    if start == time(22):
        return 22 / 30
    if start == time(6):
        return 8 / 30
    return 1.0 if start >= time(22, 30) or start < time(6) else 0.0


def test_register_deltas_add_up_to_the_daily_figure_to_the_wh() -> None:
    sim = simulator(HC)
    series = parse_index(
        answer(sim, "index_consommation", FIRST, END), Channel.CONSUMPTION, FIRST, END
    )
    assert [i.day for i in series.indexes] == days(FIRST, END)
    assert {i.calendar for i in series.indexes} == {"DI000002"}
    deltas = register_deltas(series.indexes)
    assert sorted(deltas) == days(FIRST, END - timedelta(days=1))
    for day, registers in deltas.items():
        assert set(registers) == {"HC", "HP"}
        assert sum(registers.values()) == pytest.approx(sim.daily_wh(PRM, day) / 1000, abs=1e-9)
        totals = [i.total for i in series.indexes if i.day in (day, day + timedelta(days=1))]
        assert totals[1] - totals[0] == pytest.approx(sim.daily_wh(PRM, day) / 1000, abs=1e-9)
        # the off-peak register holds 22:08-06:08 to the minute: the half-hours from 22:30 to
        # 06:00, 22 minutes of the one at 22:00 and 8 of the one at 06:00
        curve = sim._raw_curve(sim._meter(PRM), day, False, 30)
        off = sum(w / 2 * off_peak_share(s.astimezone(PARIS).time()) for s, w in curve)
        expected = off / sum(w / 2 for _, w in curve) * sim.daily_wh(PRM, day) / 1000
        assert registers["HC"] == pytest.approx(expected, abs=0.001), day


def test_tempo_registers_say_the_colour() -> None:
    sim = simulator(RegisterPlan("tempo"))
    series = parse_index(
        answer(sim, "index_consommation", FIRST, END), Channel.CONSUMPTION, FIRST, END
    )
    for day, registers in register_deltas(series.indexes).items():
        advanced = {code for code, value in registers.items() if value > 0}
        colour = {"blue": "B", "white": "W", "red": "R"}
        assert advanced <= {
            f"HCJ{colour[tempo_colour(day - timedelta(days=1))]}",
            f"HPJ{colour[tempo_colour(day)]}",
            f"HCJ{colour[tempo_colour(day)]}",
        }, day
        assert f"HPJ{colour[tempo_colour(day)]}" in advanced


def test_a_contract_change_and_a_new_meter_leave_their_day_out() -> None:
    change, replaced = date(2026, 10, 10), date(2026, 10, 20)
    plan = RegisterPlan("base", changes=((change, "hphc"),), replaced_on=replaced)
    sim = simulator(plan)
    series = parse_index(
        answer(sim, "index_consommation", FIRST, END), Channel.CONSUMPTION, FIRST, END
    )
    calendars = {i.day: i.calendar for i in series.indexes}
    assert calendars[change - timedelta(days=1)] == "DI000001"
    assert calendars[change] == "DI000002"
    deltas = register_deltas(series.indexes)
    assert change - timedelta(days=1) not in deltas  # the calendar changed overnight
    assert replaced - timedelta(days=1) not in deltas  # the registers went back to 0
    assert {i.total for i in series.indexes if i.day == replaced} == {0.0}
    for day in (FIRST, change, replaced, END - timedelta(days=2)):
        assert sum(deltas[day].values()) == pytest.approx(sim.daily_wh(PRM, day) / 1000, abs=1e-9)


def test_production_has_its_own_registers() -> None:
    sim = simulator(HC)
    body = answer(sim, "index_production", FIRST, END)
    series = parse_index(body, Channel.PRODUCTION, FIRST, END)
    deltas = register_deltas(series.indexes)
    day = FIRST + timedelta(days=3)
    assert deltas[day] == {"BASE": pytest.approx(sim.daily_wh(PRM, day, True) / 1000, abs=1e-9)}
    assert parse_index(body, Channel.CONSUMPTION, FIRST, END).indexes == ()


def test_the_parser_is_tolerant() -> None:
    """String values, naive and date-only stamps, a unit in kWh, the quantity at the top
    level, nonsense left out; days outside the asked range counted, not kept."""
    body = {
        "grandeur": [
            {
                "grandeurMetier": "CONS",
                "unite": "kWh",
                "calendrier": [
                    {
                        "idCalendrier": "X1",
                        "classeTemporelle": [
                            {
                                "codeCadran": "HP",
                                "valeur": [
                                    {"d": "2026-10-01 00:00:00", "v": "100.5"},
                                    {"d": "2026-10-02", "v": 110},
                                    {"d": "2026-10-03", "v": "abc"},
                                    {"d": "yesterday", "v": 1},
                                    {"d": "2026-12-01", "v": 1},
                                ],
                            },
                            {"libelleClasseTemporelle": "no code", "valeur": []},
                            "not a dict",
                        ],
                    }
                ],
                "cadranTotalisateur": {"valeur": [{"d": "2026-10-01T00:00:00+02:00", "v": -5}]},
            },
            {"grandeurMetier": "PROD", "calendrier": []},
        ]
    }
    series = parse_index(body, Channel.CONSUMPTION, FIRST, END)
    assert [(i.day, i.total, i.calendar) for i in series.indexes] == [
        (date(2026, 10, 1), None, "X1"),
        (date(2026, 10, 2), None, "X1"),
    ]
    assert series.indexes[0].registers[0].label == "HP"
    assert register_deltas(series.indexes) == {date(2026, 10, 1): {"HP": pytest.approx(9.5)}}
    assert series.outside == 1
    assert parse_index(None, Channel.CONSUMPTION, FIRST, END).indexes == ()


def test_the_supplier_calendar_is_read_when_the_distributor_one_comes_first() -> None:
    """[I] switch: the answer also carries the distributor's seasonal calendar, listed first."""
    plan = RegisterPlan("hphc", off_peak=HC.off_peak, distributor_calendar=True)
    body = answer(simulator(plan), "index_consommation", FIRST, END)
    calendars = body["contexte"][0]["grandeur"][0]["calendrier"]
    assert [c["idCalendrier"] for c in calendars] == ["DI000003", "DI000002"]
    series = parse_index(body, Channel.CONSUMPTION, FIRST, END)
    assert {i.calendar for i in series.indexes} == {"DI000002"}
    plain = parse_index(answer(simulator(HC), "index_consommation", FIRST, END), *ARGS)
    assert register_deltas(series.indexes) == register_deltas(plain.indexes)


ARGS = (Channel.CONSUMPTION, FIRST, END)
