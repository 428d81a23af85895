"""The registers as buckets: which period a register counts (by code or label, in French or
English), a day's bucket totals, the Tempo colour the registers say, and the fit of a day's
hours to its totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from custom_components.linky_climkit.tariffs.engine import HourCost, TariffKind, TempoColour
from custom_components.linky_climkit.tariffs.registers import (
    RegisterClass,
    bucket_totals,
    classify,
    fit_day,
    register_colours,
)

BLUE, WHITE, RED = TempoColour.BLUE, TempoColour.WHITE, TempoColour.RED


@pytest.mark.parametrize(
    ("code", "label", "expected"),
    [
        ("HC", "Heures Creuses", RegisterClass(True)),
        ("HP", "Heures Pleines", RegisterClass(False)),
        ("HCJB", "Heures Creuses Jours Bleus", RegisterClass(True, BLUE)),
        ("BBRHPJR", "", RegisterClass(False, RED)),
        ("C2", "Heures Creuses Jours Blancs", RegisterClass(True, WHITE)),
        ("P3", "Heures Pleines Jours Rouges", RegisterClass(False, RED)),
        ("X", "Off-peak? no: heures pleines jour blanc", RegisterClass(False, WHITE)),
        ("BASE", "Base", None),
        ("X", "Heures Pleines et Creuses", None),
    ],
)
def test_classify(code: str, label: str, expected: RegisterClass | None) -> None:
    assert classify(code, label) == expected


def test_bucket_totals() -> None:
    hphc = {"HC": 3.25, "HP": 7.5}
    assert bucket_totals(TariffKind.HP_HC, hphc, {}) == {"hc": 3.25, "hp": 7.5}
    assert bucket_totals(TariffKind.TEMPO, hphc, {}) is None  # no colour
    assert bucket_totals(TariffKind.HP_HC, {"BASE": 9.0}, {}) is None
    tempo = {"HCJB": 1.0, "HPJB": 0.0, "HCJW": 2.0, "HPJW": 6.0, "HCJR": 0.0, "HPJR": 0.0}
    assert bucket_totals(TariffKind.TEMPO, tempo, {}) == {
        "tempo_blue_hc": 1.0,
        "tempo_blue_hp": 0.0,
        "tempo_white_hc": 2.0,
        "tempo_white_hp": 6.0,
        "tempo_red_hc": 0.0,
        "tempo_red_hp": 0.0,
    }
    assert bucket_totals(TariffKind.HP_HC, tempo, {}) == {"hc": 3.0, "hp": 6.0}


def test_colours_from_the_registers() -> None:
    first = date(2026, 11, 2)
    days = {
        first: {"HCJB": 1.0, "HPJB": 5.0, "HCJR": 0.0, "HPJR": 0.0},
        first + timedelta(days=1): {"HCJB": 1.0, "HPJB": 0.0, "HCJR": 1.5, "HPJR": 7.0},
        # nothing used 06:00-22:00: the off-peak colour that is not the day before's
        first + timedelta(days=2): {"HCJB": 0.5, "HPJB": 0.0, "HCJR": 0.8, "HPJR": 0.0},
        # nothing to tell
        first + timedelta(days=4): {"HCJB": 0.0, "HPJB": 0.0, "HCJR": 0.0, "HPJR": 0.0},
    }
    assert register_colours(days, {}) == {
        first: BLUE,
        first + timedelta(days=1): RED,
        first + timedelta(days=2): BLUE,
    }


def test_fit_day_keeps_hours_and_meets_the_totals() -> None:
    """An hour wrongly all off-peak gives some of it to peak; each hour keeps its energy
    (scaled to the registers' total); a bucket with no hour gets its share of each hour."""
    start = datetime(2026, 11, 2, tzinfo=UTC)
    hours = {
        start: HourCost({"hc": 2.0}, {}, fee=0.5),
        start + timedelta(hours=1): HourCost({"hc": 1.0, "hp": 1.0}, {}),
        start + timedelta(hours=2): HourCost({"hp": 4.0}, {}),
    }
    prices = {"hp": 0.27, "hc": 0.2, "x": 1.0}
    fitted = fit_day(hours, {"hc": 2.5, "hp": 5.5}, prices.__getitem__)
    assert sum(h.energy["hc"] for h in fitted.values()) == pytest.approx(2.5)
    assert sum(h.energy["hp"] for h in fitted.values()) == pytest.approx(5.5)
    for moment, hour in hours.items():
        assert fitted[moment].total_energy == pytest.approx(hour.total_energy)
        assert fitted[moment].cost["hp"] == pytest.approx(fitted[moment].energy["hp"] * 0.27)
    assert fitted[start].fee == 0.5
    scaled = fit_day(hours, {"hc": 3.0, "hp": 5.0, "x": 1.0}, prices.__getitem__)
    assert [h.total_energy for h in scaled.values()] == pytest.approx([2.25, 2.25, 4.5])
    assert sum(h.energy["x"] for h in scaled.values()) == pytest.approx(1.0)
    assert fit_day({}, {"hc": 1.0}, prices.__getitem__) == {}
    empty = {start: HourCost({}, {}), start + timedelta(hours=1): HourCost({}, {})}
    spread = fit_day(empty, {"hc": 1.0}, prices.__getitem__)
    assert [h.energy["hc"] for h in spread.values()] == [0.5, 0.5]
