"""The completeness ledger (pure): marks, gaps, persistence, and the history floor found by
probes under either reading of Enedis' ADAM-ERR0123."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from custom_components.linky_climkit.model import Channel, DayEnergy
from custom_components.linky_climkit.statistics.ledger import (
    HistoryFloor,
    Ledger,
    Mark,
    days_between,
    gaps,
)

DAY = date(2026, 3, 1)
KEY = Ledger.key("12345678901234", Channel.CONSUMPTION)


def test_marks_and_summary() -> None:
    ledger = Ledger()
    hours = ((DAY, 1.0),)  # any shape: only its presence counts here
    ledger.imported(KEY, {DAY: DayEnergy(DAY, 5.0, None)}, set())  # type: ignore[arg-type]
    second = DAY + timedelta(1)
    ledger.imported(KEY, {second: DayEnergy(second, None, hours)}, {second})  # type: ignore[arg-type]
    ledger.absent(KEY, DAY, DAY + timedelta(4), Mark.HOURLY)
    assert ledger.has(KEY, DAY, Mark.DAILY | Mark.NO_HOURLY)
    assert ledger.has(KEY, DAY + timedelta(1), Mark.PARTIAL)
    assert ledger.has(KEY, DAY + timedelta(1), Mark.NO_HOURLY)  # asked: not asked again
    assert ledger.summary(KEY, DAY + timedelta(1), DAY + timedelta(2), Mark.HOURLY).partial == 1
    ledger.mark(KEY, [DAY + timedelta(1)], Mark.HOURLY)  # the missing quarters came
    assert not ledger.has(KEY, DAY + timedelta(1), Mark.PARTIAL)
    ledger.mark(KEY, [DAY + timedelta(2)], Mark.HOURLY)  # late data after all
    assert not ledger.has(KEY, DAY + timedelta(2), Mark.NO_HOURLY)

    summary = ledger.summary(KEY, DAY, DAY + timedelta(6), Mark.HOURLY)
    assert summary.as_dict() == {"complete": 2, "partial": 0, "missing": 2, "unavailable": 2}
    assert ledger.missing(KEY, DAY, DAY + timedelta(6), Mark.HOURLY) == [
        DAY + timedelta(4),
        DAY + timedelta(5),
    ]


def test_a_corrected_day_is_pending_a_re_read_of_its_hours() -> None:
    ledger = Ledger()
    hours = ((DAY, 1.0),)
    daily_only = DAY + timedelta(1)
    ledger.imported(KEY, {DAY: DayEnergy(DAY, 5.0, hours)}, set())  # type: ignore[arg-type]
    ledger.imported(KEY, {daily_only: DayEnergy(daily_only, 5.0, None)}, set())  # type: ignore[arg-type]
    ledger.reshaped(KEY, [DAY, daily_only])  # a day without hours has nothing to re-read
    assert ledger.has(KEY, DAY, Mark.RESHAPED)
    assert not ledger.has(KEY, daily_only, Mark.RESHAPED)
    end = DAY + timedelta(1)
    assert ledger.missing(KEY, DAY, end, Mark.HOURLY) == [DAY]
    assert ledger.missing(KEY, DAY, end, Mark.DAILY) == []
    assert ledger.summary(KEY, DAY, end, Mark.HOURLY).partial == 1
    assert ledger.summary(KEY, DAY, end, Mark.DAILY).complete == 1
    assert Ledger.from_dict(ledger.as_dict()).days == ledger.days  # persisted
    # A partial read of its hours leaves it pending; its whole load curve settles it.
    ledger.imported(KEY, {DAY: DayEnergy(DAY, None, hours)}, {DAY})  # type: ignore[arg-type]
    assert ledger.has(KEY, DAY, Mark.RESHAPED)
    ledger.imported(KEY, {DAY: DayEnergy(DAY, None, hours)}, set())  # type: ignore[arg-type]
    assert not ledger.has(KEY, DAY, Mark.RESHAPED)
    assert ledger.missing(KEY, DAY, end, Mark.HOURLY) == []


def test_gaps_are_batched_oldest_first() -> None:
    missing = [DAY, DAY + timedelta(3), DAY + timedelta(7), DAY + timedelta(20)]
    assert gaps(missing, 7) == [
        (DAY, DAY + timedelta(4)),
        (DAY + timedelta(7), DAY + timedelta(8)),
        (DAY + timedelta(20), DAY + timedelta(21)),
    ]
    assert gaps(missing, 365) == [(DAY, DAY + timedelta(21))]
    assert gaps([], 7) == []


def test_persisted_as_runs() -> None:
    ledger = Ledger()
    ledger.mark(KEY, days_between(DAY, DAY + timedelta(300)), Mark.DAILY)
    ledger.mark(KEY, days_between(DAY + timedelta(200), DAY + timedelta(300)), Mark.HOURLY)
    ledger.history.refused(DAY - timedelta(30), DAY)
    data = ledger.as_dict()
    assert len(data["series"][KEY]) == 2
    again = Ledger.from_dict(data)
    assert again.days == ledger.days
    assert again.history == ledger.history
    assert Ledger.from_dict(None).days == {}


def _find_floor(
    activation: date, refused: date, end: date, *, refuses_start: bool
) -> tuple[date, int]:
    """Probe like the coordinator does until the floor is known; (floor, probes)."""
    history = HistoryFloor()
    history.refused(refused, end)
    probes = 0
    while probe := history.probe(365):
        probes += 1
        start, stop = probe
        if stop <= activation or (refuses_start and start < activation):
            history.refused(start, stop)
        else:
            history.answered(start)
        assert probes < 20
    assert history.floor is not None
    return history.floor, probes


@pytest.mark.parametrize("back", [1, 2, 35, 170, 364])
def test_the_floor_is_found_in_a_few_probes_when_the_start_is_judged(back: int) -> None:
    """A window [end - 365, end) refused because it starts before the activation, `back`
    days before its end: nothing since the activation is left out."""
    end = DAY
    activation = end - timedelta(days=back)
    floor, probes = _find_floor(activation, end - timedelta(365), end, refuses_start=True)
    assert floor == activation
    assert probes <= 10


@pytest.mark.parametrize("after", [0, 1, 200])
def test_one_probe_when_the_whole_window_is_judged(after: int) -> None:
    """Refused as a whole: the window holds nothing; one probe of its newest day says so."""
    end = DAY
    activation = end + timedelta(days=after)
    floor, probes = _find_floor(activation, end - timedelta(365), end, refuses_start=False)
    assert floor == end
    assert probes == 1


def test_forget_makes_days_missing_again() -> None:
    """A hard stop's repair queues days to read again: their marks go, on every series."""
    ledger = Ledger()
    other = Ledger.key("12345678901234", Channel.MAX_POWER)
    ledger.mark(KEY, days_between(DAY, DAY + timedelta(10)), Mark.DAILY | Mark.HOURLY)
    ledger.mark(other, days_between(DAY, DAY + timedelta(10)), Mark.DAILY)
    ledger.forget(DAY + timedelta(3), DAY + timedelta(5))
    gone = [DAY + timedelta(3), DAY + timedelta(4)]
    assert ledger.missing(KEY, DAY, DAY + timedelta(10), Mark.HOURLY) == gone
    assert ledger.missing(other, DAY, DAY + timedelta(10), Mark.DAILY) == gone
