"""Which brought days are imported (pure): Conso API's figure always wins, brought hours give
a known day its shape, the job's days survive a save and come in chunks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from custom_components.linky_climkit.linky import history
from custom_components.linky_climkit.linky.adopt import guess_channel, known_tool
from custom_components.linky_climkit.linky.history import Brought, batches, plan
from custom_components.linky_climkit.model import Channel, DayEnergy, Interval, Peak
from custom_components.linky_climkit.statistics.ledger import Ledger, Mark
from tests.conftest import PRM

DAY = date(2025, 10, 1)
KEY = Ledger.key(PRM, Channel.CONSUMPTION)
PEAKS = Ledger.key(PRM, Channel.MAX_POWER)


def hours(day: date, value: float = 1.0) -> tuple[tuple[datetime, float], ...]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=2)
    return tuple((start + timedelta(hours=h), value) for h in range(24))


def test_conso_api_wins_and_brought_hours_shape_its_days() -> None:
    days = [DAY + timedelta(days=n) for n in range(6)]
    ledger = Ledger()
    ledger.mark(KEY, [days[0]], Mark.DAILY | Mark.HOURLY)  # Conso API, whole
    ledger.mark(KEY, [days[1]], Mark.DAILY)  # Conso API's total, no hours
    ledger.mark(KEY, [days[2]], Mark.DAILY)
    ledger.mark(KEY, [days[3]], Mark.BROUGHT_DAILY)  # a file's total
    ledger.mark(KEY, [days[4]], Mark.BROUGHT_HOURLY)  # brought before
    ledger.mark(PEAKS, [days[0]], Mark.DAILY)
    brought = Brought(
        "x",
        days={
            Channel.CONSUMPTION: {
                days[0]: DayEnergy(days[0], None, hours(days[0])),
                days[1]: DayEnergy(days[1], None, hours(days[1])),
                days[2]: DayEnergy(days[2], 30.0),
                days[3]: DayEnergy(days[3], None, hours(days[3])),
                days[4]: DayEnergy(days[4], None, hours(days[4])),
                days[5]: DayEnergy(days[5], 12.0),
            }
        },
        peaks=[Peak(d, 3.0, datetime(2025, 10, 1, 19, tzinfo=UTC)) for d in days[:2]],
    )
    plans = plan(ledger, PRM, brought)
    energy = plans[Channel.CONSUMPTION]
    assert energy.skipped == [days[0], days[2]]
    assert energy.shaped == [days[1], days[3]]
    assert energy.new == [days[4], days[5]]
    assert energy.again == 2
    assert energy.kwh == 24.0 + 12.0
    assert (plans[Channel.MAX_POWER].skipped, plans[Channel.MAX_POWER].new) == (
        [days[0]],
        [days[1]],
    )
    as_given, shaped = batches(PRM, brought, plans, set(days))
    assert sorted(as_given.days[(PRM, Channel.CONSUMPTION)]) == [days[4], days[5]]
    fitted = shaped.days[(PRM, Channel.CONSUMPTION)]
    assert sorted(fitted) == [days[1], days[3]]
    assert all(e.total is None and e.hours for e in fitted.values())  # the stored total stays
    assert [p.day for p in as_given.peaks[(PRM, Channel.MAX_POWER)]] == [days[1]]


def test_a_job_survives_its_save_and_comes_in_chunks() -> None:
    start = datetime(2025, 9, 30, 22, tzinfo=UTC)
    brought = Brought(
        "f.csv",
        days={Channel.PRODUCTION: {DAY: DayEnergy(DAY, 2.5, hours(DAY, 0.1))}},
        peaks=[Peak(DAY, 4.2, datetime(2025, 10, 1, 19, 3, tzinfo=UTC))],
        curves={Channel.PRODUCTION: [Interval(start, start + timedelta(minutes=30), 0.05)]},
    )
    assert history.load(history.dump(brought)) == Brought(
        "f.csv", brought.days, brought.peaks, brought.curves
    )
    job = history.HistoryJob.__new__(history.HistoryJob)
    job.brought = Brought(
        "s",
        days={Channel.CONSUMPTION: {DAY + timedelta(days=n): DayEnergy(DAY) for n in range(40)}},
    )
    job.done = None
    first = job.next_days()
    assert len(first) == history.CHUNK_DAYS
    assert min(first) == DAY
    job.done = max(first)
    assert min(job.next_days()) == DAY + timedelta(days=history.CHUNK_DAYS)


def test_the_known_tools_ids() -> None:
    assert known_tool(f"linky:{PRM}", PRM) == ("ha_linky", Channel.CONSUMPTION)
    assert known_tool(f"linky_prod:{PRM}", PRM) == ("ha_linky", Channel.PRODUCTION)
    assert known_tool(f"linky:{PRM}_energy_production", PRM) == ("hacs_linky", Channel.PRODUCTION)
    assert known_tool(f"linky:{PRM}", "11111111111111") is None
    assert guess_channel("sensor.solar_production") is Channel.PRODUCTION
    assert guess_channel("sensor.grid_consumption") is Channel.CONSUMPTION
    assert guess_channel("sensor.meter") is None
