"""Enedis history files written from the Conso API simulator's ground truth, in each layout
the import accepts (layouts: custom_components/linky_climkit/providers/enedis_csv.py).

`python -m tests.helpers.enedis_files` writes the fixtures of tests/fixtures/enedis_csv/;
tests read those files and compare what is imported with the simulator, day by day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile, _stamp

FIXTURES = Path(__file__).parent.parent / "fixtures" / "enedis_csv"
PRM = "12345678901234"  # tests.conftest.PRM
SEED = 11
# A fortnight with the autumn change (2025-10-26: 25 hours), the week of the spring one.
AUTUMN = (date(2025, 10, 20), date(2025, 11, 2))
SPRING = (date(2025, 3, 27), date(2025, 4, 2))
INDEX_DAYS = (date(2025, 10, 1), date(2025, 11, 2))
BOM = "\ufeff"


def simulator() -> ConsoApiSimulator:
    """The meter every fixture was written from (a producer too)."""
    return ConsoApiSimulator([MeterProfile(PRM, seed=SEED, has_production=True)])


def days(first: date, last: date) -> list[date]:
    """Every day of [first, last]."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def half_hours(
    sim: ConsoApiSimulator, day: date, production: bool = False, prm: str = PRM
) -> list[tuple[datetime, int]]:
    """(interval start, UTC; mean watts) of the day's 30-minute curve."""
    return sim._raw_curve(sim._meter(prm), day, production, 30)


def _meta(kind: str, metier: str, unit: str, first: date, last: date, step: str) -> str:
    header = (
        "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
        "Grandeur metier;Etape metier;Unite;Pas en minutes"
    )
    span = f"{first:%d/%m/%Y};{(last + timedelta(days=1)):%d/%m/%Y}"
    return f"{header}\n{PRM};{kind};{span};Energie active;{metier};Comptage Brut;{unit};{step}\n"


def measures_curve(sim: ConsoApiSimulator, first: date, last: date) -> str:
    """The customer area's hourly export: end stamps with their offset, W, one empty value."""
    lines = [BOM + _meta("Courbe de charge", "Consommation", "W", first, last, "30"), ""]
    lines.append("Horodate;Valeur")
    for day in days(first, last):
        for start, watts in half_hours(sim, day):
            end = (start + timedelta(minutes=30)).astimezone(PARIS)
            lines.append(f"{end.isoformat()};{watts}")
    lines.insert(3, f"{(datetime.combine(first, datetime.min.time(), PARIS)).isoformat()};")
    return "\n".join(lines) + "\n"


def index_reading(sim: ConsoApiSimulator, day: date, base: int = 10_000_000) -> int:
    """The total register at the day's start (Wh): base + every daily figure before it."""
    return base + sum(sim.daily_wh(PRM, d) for d in days(INDEX_DAYS[0], day)[:-1])


def measures_index_and_peaks(sim: ConsoApiSimulator, first: date, last: date) -> str:
    """The customer area's daily export: register readings (a day's energy is the next
    reading minus its own), the daily max power block, the supplier's calendar."""
    out = [_meta("Index", "Consommation", "Wh", first, last, "")]
    registers = [f"EAS F{n}" for n in range(1, 11)] + [f"EAS D{n}" for n in range(1, 5)]
    out.append(f"Horodate;Type de releve;{';'.join(registers)};EAS T")
    for day in days(first, last + timedelta(days=1)):
        total = index_reading(sim, day)
        hc = total * 4 // 10
        cells = [str(hc), str(total - hc)] + [""] * 8 + [str(hc), str(total - hc), "", ""]
        stamp = datetime.combine(day, datetime.min.time(), PARIS).isoformat()
        out.append(f"{stamp};Arrêté quotidien;{';'.join(cells)};{total}")
    out.append("")
    out.append(
        _meta("Puissance maximale quotidienne", "Consommation", "VA", first, last, "").replace(
            "Energie active", "Puissance maximale atteinte"
        )
    )
    out.append("Horodate;Valeur")
    for day in days(first, last):
        va, stamp = sim.max_power(PRM, day)
        at = datetime.fromisoformat(stamp).replace(tzinfo=PARIS)
        out.append(f"{at.isoformat()};{va}")
    out.append("")
    out.append("Periode;Identifiant calendrier fournisseur;Libelle calendrier fournisseur")
    out.append(f"Du {first}T00:00:00+02:00 au {last}T00:00:00+01:00;FC011827;HC Semaine")
    return "\n".join(out) + "\n"


def measures_daily_production(sim: ConsoApiSimulator, first: date, last: date) -> str:
    """Daily production energy (Wh per day, stamped at the day's start)."""
    out = [_meta("Injection quotidienne", "Production", "Wh", first, last, ""), "Horodate;Valeur"]
    for day in days(first, last):
        stamp = datetime.combine(day, datetime.min.time(), PARIS).isoformat()
        out.append(f"{stamp};{sim.daily_wh(PRM, day, production=True)}")
    return "\n".join(out) + "\n"


def r63(sim: ConsoApiSimulator, first: date, last: date) -> str:
    """The SGE R63 file: one row per measure, naive Paris end stamps, PT30M."""
    header = (
        "Identifiant PRM;Date de début;Date de fin;Grandeur physique;Grandeur métier;"
        "Etape métier;Unité;Horodate;Valeur;Nature;Pas;Indice de vraisemblance;"
        "Etat complémentaire"
    )
    out = [header]
    span = f"{first} 00:00:00;{last + timedelta(days=1)} 00:00:00"
    for day in days(first, last):
        for start, watts in half_hours(sim, day):
            end = start + timedelta(minutes=30)
            wall = _stamp(end)
            out.append(f"{PRM};{span};PA;CONS;BRUT;W;{wall};{watts};B;PT30M;0;0")
    return "\n".join(out) + "\n"


def conso_downloader(
    sim: ConsoApiSimulator, first: date, last: date, production: bool, prm: str = PRM
) -> str:
    """Conso Downloader: naive Paris interval starts and ends, kW with a decimal comma."""
    out = ["debut;fin;kW"]
    for day in days(first, last):
        for start, watts in half_hours(sim, day, production, prm):
            begin = start.astimezone(PARIS).replace(tzinfo=None)
            end = (start + timedelta(minutes=30)).astimezone(PARIS).replace(tzinfo=None)
            kw = f"{watts / 1000:.3f}".replace(".", ",")
            out.append(f'{begin:%Y-%m-%dT%H:%M};{end:%Y-%m-%dT%H:%M};"{kw}"')
    return "\n".join(out) + "\n"


FILES = {
    f"Enedis_Conso_Heure_20251020-20251102_{PRM}.csv": lambda s: measures_curve(s, *AUTUMN),
    f"Enedis_Conso_Jour_20251001-20251102_{PRM}.csv": lambda s: measures_index_and_peaks(
        s, *INDEX_DAYS
    ),
    f"Enedis_Prod_Jour_20251020-20251102_{PRM}.csv": lambda s: measures_daily_production(
        s, *AUTUMN
    ),
    f"ENEDIS_R63_P_CdC_{PRM}_20250327.csv": lambda s: r63(s, *SPRING),
    f"historique_conso_{PRM}_2025-11-05.csv": lambda s: conso_downloader(s, *AUTUMN, False),
    f"historique_prod_{PRM}_2025-11-05.csv": lambda s: conso_downloader(s, *AUTUMN, True),
}


def write_fixtures() -> None:
    """(Re)write every fixture file."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    sim = simulator()
    for name, build in FILES.items():
        (FIXTURES / name).write_text(build(sim), encoding="utf-8", newline="\n")


def utc(day: date) -> datetime:
    """Paris midnight of `day` in UTC."""
    return datetime.combine(day, datetime.min.time(), PARIS).astimezone(UTC)


if __name__ == "__main__":
    write_fixtures()
