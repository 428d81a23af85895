"""schedule.py: when to sync (no I/O)."""

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.schedule import (
    afternoon_time,
    daily_time,
    new_offset,
    next_sync,
)
from tests.simulators.conso_api import PARIS

OFFSET = 3600 + 17  # 07:00:17
CATCH_UP = timedelta(minutes=5)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=PARIS)


def nxt(
    now: datetime, attempts: Sequence[datetime] = (), have: bool = False, offset: int = OFFSET
) -> datetime:
    return next_sync(
        now,
        offset=offset,
        tz=PARIS,
        have_yesterday=have,
        attempts_today=list(attempts),
        catch_up=CATCH_UP,
    )


class FixedRandom(random.Random):
    def __init__(self, values: list[int]) -> None:
        super().__init__(0)
        self.values = list(values)

    def randrange(self, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
        assert args == (14400,)
        return self.values.pop(0)


def test_new_offset_range_and_never_whole_minutes() -> None:
    for seed in range(300):
        offset = new_offset(random.Random(seed))
        assert 0 <= offset < 14400
        assert offset % 60 != 0
    assert 0 < new_offset() < 14400
    assert new_offset() % 60 != 0


def test_new_offset_redraws_whole_minutes() -> None:
    rng = FixedRandom([0, 60, 14340, 61])
    assert new_offset(rng) == 61
    assert rng.values == []


@pytest.mark.parametrize("day", [date(2026, 11, 20), date(2026, 3, 29), date(2026, 10, 25)])
def test_daily_and_afternoon_times(day: date) -> None:
    assert daily_time(day, OFFSET, PARIS) == at(day, 7, 0, 17)
    assert daily_time(day, 1, PARIS) == at(day, 6, 0, 1)
    assert daily_time(day, 14399, PARIS) == at(day, 9, 59, 59)
    afternoon = afternoon_time(day, OFFSET, PARIS)
    assert afternoon == at(day, 13, 0) + timedelta(seconds=OFFSET / 2)
    for offset in (0, 1, 7200, 14399):
        moment = afternoon_time(day, offset, PARIS)
        assert at(day, 13) <= moment < at(day, 15)
        assert moment.astimezone(PARIS).date() == day


@pytest.mark.parametrize(
    ("offset", "first"),
    [
        (1, time(9, 0, 1)),  # rungs 06:00:01, 07:30:01, 09:00:01
        (600 + 17, time(9, 10, 17)),
        (1800, time(8, 0)),  # 06:30, 08:00
        (1799, time(9, 29, 59)),  # 07:59:59 is one second early
        (1801, time(8, 0, 1)),
        (3600 + 17, time(8, 30, 17)),
        (7200, time(8, 0)),  # exactly at publication
        (7199, time(9, 29, 59)),
        (14399, time(9, 59, 59)),
    ],
)
def test_first_attempt_is_the_first_rung_after_publication(offset: int, first: time) -> None:
    published = time(8)
    for day in (DAY, date(2026, 3, 29), date(2026, 10, 25)):
        assert daily_time(day, offset, PARIS, published) == at(day, *_hms(first))
        # every offset keeps one morning rung, so the 10:00 limit is never passed
        assert published <= first < time(10)
        got = next_sync(
            at(day, 5),
            offset=offset,
            tz=PARIS,
            have_yesterday=False,
            attempts_today=[],
            catch_up=CATCH_UP,
            published=published,
        )
        assert got == at(day, *_hms(first))


def _hms(moment: time) -> tuple[int, int, int]:
    return moment.hour, moment.minute, moment.second


def test_daily_time_on_dst_days_in_utc() -> None:
    assert daily_time(date(2026, 3, 29), OFFSET, PARIS).astimezone(UTC) == datetime(
        2026, 3, 29, 5, 0, 17, tzinfo=UTC
    )
    assert daily_time(date(2026, 10, 25), OFFSET, PARIS).astimezone(UTC) == datetime(
        2026, 10, 25, 6, 0, 17, tzinfo=UTC
    )


DAY = date(2026, 11, 20)
NEXT_DAY = date(2026, 11, 21)


def test_next_sync_before_the_window() -> None:
    assert nxt(at(DAY, 5)) == at(DAY, 7, 0, 17)
    assert nxt(at(DAY, 0, 0, 1)) == at(DAY, 7, 0, 17)
    # attempts of yesterday are ignored
    assert nxt(at(DAY, 5), [at(DAY - timedelta(days=1), 13, 30)]) == at(DAY, 7, 0, 17)


def test_next_sync_yesterday_present_waits_for_tomorrow() -> None:
    for now in (at(DAY, 5), at(DAY, 7, 0, 18), at(DAY, 14), at(DAY, 23, 59)):
        assert nxt(now, [at(DAY, 7, 0, 17)], have=True) == at(NEXT_DAY, 7, 0, 17)
    assert nxt(at(DAY, 9), [], have=True) == at(NEXT_DAY, 7, 0, 17)


def test_next_sync_catch_up_when_the_window_was_missed() -> None:
    now = at(DAY, 8, 12)
    assert nxt(now) == now + CATCH_UP
    assert nxt(now, [at(DAY - timedelta(days=1), 8, 30, 17)]) == now + CATCH_UP
    evening = at(DAY, 21)
    assert nxt(evening) == evening + CATCH_UP
    # ...once: after that attempt (past the afternoon) it waits for tomorrow
    assert nxt(evening + CATCH_UP, [evening + CATCH_UP]) == at(NEXT_DAY, 7, 0, 17)


def test_next_sync_retries_every_90_minutes_until_10() -> None:
    first = at(DAY, 7, 0, 17)
    assert nxt(first + timedelta(seconds=3), [first]) == at(DAY, 8, 30, 17)
    second = at(DAY, 8, 30, 17)
    afternoon = afternoon_time(DAY, OFFSET, PARIS)
    assert afternoon == at(DAY, 13, 30, 8) + timedelta(microseconds=500000)
    # 10:00:17 is past 10:00: the afternoon retry comes next
    assert nxt(second + timedelta(seconds=3), [first, second]) == afternoon
    # attempts may come as UTC datetimes, in any order
    utc_attempts = [second.astimezone(UTC), first.astimezone(UTC)]
    assert nxt(second + timedelta(seconds=3), utc_attempts) == afternoon


def test_next_sync_early_offset_retries_twice() -> None:
    offset = 600 + 7  # 06:10:07
    first = at(DAY, 6, 10, 7)
    chain = [first]
    expected = [at(DAY, 7, 40, 7), at(DAY, 9, 10, 7)]
    for want in expected:
        got = nxt(chain[-1] + timedelta(seconds=1), chain, offset=offset)
        assert got == want
        chain.append(got)
    assert nxt(chain[-1] + timedelta(seconds=1), chain, offset=offset) == afternoon_time(
        DAY, offset, PARIS
    )


def test_next_sync_overdue_retry_runs_now() -> None:
    first = at(DAY, 7, 0, 17)
    late = at(DAY, 9, 45)
    assert nxt(late, [first]) == late


def test_next_sync_afternoon_then_tomorrow() -> None:
    attempts = [at(DAY, 7, 0, 17), at(DAY, 8, 30, 17)]
    afternoon = afternoon_time(DAY, OFFSET, PARIS)
    assert nxt(at(DAY, 11), attempts) == afternoon
    # the afternoon attempt was made: wait for tomorrow
    done = [*attempts, afternoon]
    assert nxt(afternoon + timedelta(seconds=2), done) == at(NEXT_DAY, 7, 0, 17)
    # the afternoon retry was missed (Home Assistant down): once, soon
    late = at(DAY, 16)
    assert nxt(late, attempts) == late + CATCH_UP


@pytest.mark.parametrize(
    ("eve", "dst_day", "utc_sync"),
    [
        (date(2026, 3, 28), date(2026, 3, 29), datetime(2026, 3, 29, 5, 0, 17, tzinfo=UTC)),
        (date(2026, 10, 24), date(2026, 10, 25), datetime(2026, 10, 25, 6, 0, 17, tzinfo=UTC)),
    ],
)
def test_next_sync_across_dst(eve: date, dst_day: date, utc_sync: datetime) -> None:
    tomorrow = nxt(at(eve, 7, 0, 18), [at(eve, 7, 0, 17)], have=True)
    assert tomorrow == utc_sync
    assert tomorrow.astimezone(PARIS).time() == time(7, 0, 17)
    # From UTC "now" values around the change, the same local time is targeted.
    assert nxt(datetime.combine(dst_day, time(0, 30), UTC)) == utc_sync
    assert nxt(datetime.combine(dst_day, time(2, 30), UTC)) == utc_sync
    # retries keep 90 real minutes and the local 10:00 limit
    first = at(dst_day, 7, 0, 17)
    assert nxt(first + timedelta(seconds=1), [first]) == at(dst_day, 8, 30, 17)
    second = at(dst_day, 8, 30, 17)
    assert nxt(second + timedelta(seconds=1), [first, second]) == afternoon_time(
        dst_day, OFFSET, PARIS
    )


def test_next_sync_simulated_week_across_autumn_change() -> None:
    """Drive next_sync for a week; data of D is published at 09:00 on D+1."""
    now = at(date(2026, 10, 22), 0, 0)
    end = at(date(2026, 10, 29), 0, 0)
    attempts: list[datetime] = []
    have: set[date] = set()
    runs: list[datetime] = []
    while True:
        today = now.astimezone(PARIS).date()
        todays = [a for a in attempts if a.astimezone(PARIS).date() == today]
        now = nxt(now, todays, have=(today - timedelta(days=1)) in have)
        if now >= end:
            break
        runs.append(now)
        attempts.append(now)
        local = now.astimezone(PARIS)
        if local.time() >= time(9):
            have.add(local.date() - timedelta(days=1))
    local_runs = [r.astimezone(PARIS) for r in runs]
    days = [date(2026, 10, 22) + timedelta(days=n) for n in range(7)]
    afternoon = (datetime.combine(DAY, time(13)) + timedelta(seconds=OFFSET / 2)).time()
    # 08:30:17 is before the 09:00 publication, 10:00:17 would be past 10:00: the afternoon
    # retry gets the data, then nothing more that day; the 25-hour day changes nothing.
    for day in days:
        times = [r.time() for r in local_runs if r.date() == day]
        assert times == [time(7, 0, 17), time(8, 30, 17), afternoon], day
    assert len(runs) == 3 * len(days)
    assert have == {d - timedelta(days=1) for d in days}
