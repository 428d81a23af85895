"""Enedis history files: every accepted layout read exactly (against the simulator that
wrote the fixtures), the variants met in the wild, and a reason for anything else."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from custom_components.linky_climkit.linky.history import from_file
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers import enedis_csv
from custom_components.linky_climkit.providers.enedis_csv import (
    CsvFormat,
    FileProblem,
    read_history_file,
)
from tests.helpers.enedis_files import FILES, FIXTURES, PRM, simulator

LAYOUTS = {
    "Enedis_Conso_Heure": (CsvFormat.ENEDIS_MEASURES, Channel.CONSUMPTION),
    "Enedis_Conso_Jour": (CsvFormat.ENEDIS_MEASURES, Channel.CONSUMPTION),
    "Enedis_Prod_Jour": (CsvFormat.ENEDIS_MEASURES, Channel.PRODUCTION),
    "ENEDIS_R63": (CsvFormat.ENEDIS_R63, Channel.CONSUMPTION),
    "historique_conso": (CsvFormat.CONSO_DOWNLOADER, Channel.CONSUMPTION),
    "historique_prod": (CsvFormat.CONSO_DOWNLOADER, Channel.PRODUCTION),
}
DST = {date(2025, 10, 26): 25, date(2025, 3, 30): 23}


def test_the_fixtures_are_the_simulators_files() -> None:
    """The checked-in fixtures are what tests/helpers/enedis_files.py writes."""
    sim = simulator()
    for name, build in FILES.items():
        assert (FIXTURES / name).read_text(encoding="utf-8") == build(sim), name


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_layout_is_read_exactly(name: str) -> None:
    """Days, hours (DST days 23 and 25), daily figures and peaks equal the ground truth."""
    sim = simulator()
    found = read_history_file((FIXTURES / name).read_bytes(), name)
    layout, channel = next(v for k, v in LAYOUTS.items() if name.startswith(k))
    assert (found.format, found.prm, found.channel) == (layout, PRM, channel)
    production = channel is Channel.PRODUCTION
    brought = from_file(found, channel, name)
    assert brought.incomplete == 0
    assert brought.days[channel]
    for day, energy in brought.days[channel].items():
        if energy.hours is not None:
            assert len(energy.hours) == DST.get(day, 24), day
            expected = sim.curve_wh(PRM, day, production) / 1000
            assert sum(v for _, v in energy.hours) == pytest.approx(expected, abs=1e-9), day
        if energy.total is not None:
            expected = sim.daily_wh(PRM, day, production) / 1000
            assert energy.total == pytest.approx(expected, abs=1e-9), day
    for peak in found.peaks:
        va, stamp = sim.max_power(PRM, peak.day)
        assert peak.value == pytest.approx(va / 1000)
        assert peak.at.strftime("%Y-%m-%d %H:%M:%S") == stamp


def test_a_windows_encoded_export_reads_the_same() -> None:
    name = f"Enedis_Conso_Jour_20251001-20251102_{PRM}.csv"
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert read_history_file(text.encode("cp1252"), name) == read_history_file(
        text.encode("utf-8"), name
    )


MEASURES_HEADER = (
    "Identifiant PRM;Type de données;Date de début;Date de fin;Grandeur physique;"
    "Grandeur métier;Etape métier;Unité;Pas en minutes\n"
)


def test_a_curve_without_its_step_takes_the_usual_gap() -> None:
    """`Pas en minutes` left empty (10-minute points here): the step is the usual gap."""
    rows = "".join(f"2025-01-02T{h:02d}:{m:02d}:00+01:00;600\n" for h in (1, 2) for m in (10, 20))
    text = f"{MEASURES_HEADER}{PRM};Courbe de charge;02/01/2025;03/01/2025;EA;Consommation;B;W;\n"
    found = read_history_file(f"{text}Horodate;Valeur\n{rows}".encode(), "x.csv")
    assert {i.end - i.start for i in found.intervals} == {timedelta(minutes=10)}
    assert sum(i.value for i in found.intervals) == pytest.approx(4 * 0.6 / 6)


def test_daily_energy_with_its_unit_in_the_column() -> None:
    text = (
        f"{MEASURES_HEADER}{PRM};Consommation quotidienne;01/06/2026;03/06/2026;EA;"
        "Consommation;B;;\nDate;Valeur (en Wh)\n2026-06-01;12571\n2026-06-02;null\n"
    )
    found = read_history_file(text.encode(), "x.csv")
    assert [(d.day, d.value) for d in found.daily] == [(date(2026, 6, 1), 12.571)]
    assert found.skipped == 1


def test_r63_energy_rows() -> None:
    """An R63 file of energy per step (EA, Wh): the step's energy as it is."""
    header = "Identifiant PRM;Grandeur physique;Grandeur métier;Unité;Horodate;Valeur;Pas\n"
    rows = f"{PRM};EA;PROD;Wh;2025-06-01 00:30:00;250;PT30M\n"
    found = read_history_file((header + rows).encode(), "r63.csv")
    assert found.channel is Channel.PRODUCTION
    (interval,) = found.intervals
    assert interval.value == pytest.approx(0.25)


def test_conso_downloader_variants() -> None:
    """Unquoted values, a `null`, a name without the PRM: no PRM, no direction said."""
    text = (
        "debut;fin;kW\n2025-01-02T00:00;2025-01-02T00:30;1.5\n"
        "2025-01-02T00:30;2025-01-02T01:00;null\n"
    )
    found = read_history_file(text.encode(), "mes_donnees.csv")
    assert (found.prm, found.channel, found.skipped) == (None, None, 1)
    assert [i.value for i in found.intervals] == [0.75]


def _problem(raw: bytes, name: str = "x.csv") -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        read_history_file(raw, name)
    return caught.value


def test_the_reasons_a_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    curve = f"{MEASURES_HEADER}{PRM};Courbe de charge;02/01/2025;03/01/2025;EA;Consommation;B;"
    assert _problem(b"").key == "file_empty"
    assert _problem(b"PK\x03\x04").key == "file_spreadsheet"
    assert _problem(b"hello;world\n1;2\n").key == "file_unknown"
    assert _problem(f"{curve}W;30\nHorodate;Valeur\n".encode()).key == "file_empty"
    bad_unit = _problem(f"{curve}bar;30\nHorodate;Valeur\n2025-01-02T00:30:00+01:00;1\n".encode())
    assert (bad_unit.key, bad_unit.placeholders) == ("file_bad_unit", {"unit": "bar"})
    bad_date = _problem(f"{curve}W;30\nHorodate;Valeur\nlundi;1\n".encode())
    assert (bad_date.key, bad_date.placeholders) == ("file_bad_date", {"line": "4"})
    assert _problem(
        f"{curve}W;30\nHorodate;Valeur\n2025-01-02T00:30:00+01:00;x\n".encode()
    ).key == ("file_bad_row")
    other = curve.replace("Courbe de charge", "Mystere")
    assert _problem(f"{other}W;30\nHorodate;Valeur\n".encode()).key == "file_unknown_data"
    second = curve.replace(PRM, "11111111111111")
    two = f"{curve}W;30\nHorodate;Valeur\n{second}W;30\nHorodate;Valeur\n"
    assert _problem(two.encode()).key == "file_several_prms"
    prod = curve.replace(";Consommation;", ";Production;")
    both = f"{curve}W;30\nHorodate;Valeur\n{prod}W;30\nHorodate;Valeur\n"
    assert _problem(both.encode()).key == "file_both_directions"
    monkeypatch.setattr(enedis_csv, "MAX_FILE_BYTES", 10)
    assert _problem(b"debut;fin;kW\n2025").key == "file_too_large"
