"""Pure modules: token, aggregation, budget, schedule, sync_state (no I/O)."""

import base64
import itertools
import json
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.linky.budget import HARD_CAP, WINDOW, CallBudget, Priority
from custom_components.linky_climkit.linky.state import FetchTask, LinkyState, TypeOutcome
from custom_components.linky_climkit.model import DayEnergy, DayValue, Interval
from custom_components.linky_climkit.providers.errors import AuthError
from custom_components.linky_climkit.providers.token import TokenInfo, decode_token, is_valid_prm
from custom_components.linky_climkit.schedule import (
    afternoon_time,
    daily_time,
    new_offset,
    next_sync,
)
from custom_components.linky_climkit.statistics.aggregation import (
    build_days,
    day_bounds,
    day_start,
    hour_starts,
    local_day,
    shape_to_total,
)
from tests.simulators.conso_api import PARIS, make_token

PRM = "12345678901234"
PRM2 = "98765432109876"
HALF = timedelta(minutes=30)
HOUR = timedelta(hours=1)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(payload: Any, header: Any = None) -> str:
    head = b64(json.dumps(header or {"alg": "HS256"}).encode())
    body = b64(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    return f"{head}.{body}.c2lnbmF0dXJl"


# === token ==================================================================================


def test_decode_current_token() -> None:
    iat = datetime(2026, 1, 5, 10, 20, 30, tzinfo=UTC)
    exp = datetime(2029, 1, 3, 10, 20, 30, tzinfo=UTC)
    info = decode_token(make_token([PRM, PRM2], iat=iat, exp=exp))
    assert info == TokenInfo(prms=(PRM, PRM2), expires_at=exp, issued_at=iat)
    assert info.expires_at is not None
    assert info.expires_at.tzinfo is UTC


def test_decode_legacy_token_and_default_lifetime() -> None:
    iat = datetime(2024, 3, 1, tzinfo=UTC)
    info = decode_token(make_token([PRM], iat=iat, typ=True))
    assert info.prms == (PRM,)
    assert info.issued_at == iat
    assert info.expires_at == iat + timedelta(days=1094)


def test_decode_strips_token_and_prms() -> None:
    token = jwt({"sub": [f" {PRM} ", PRM2]})
    info = decode_token(f"  {token}\n")
    assert info.prms == (PRM, PRM2)
    assert info.expires_at is None
    assert info.issued_at is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"sub": [PRM], "exp": 1893456000}, datetime(2030, 1, 1, tzinfo=UTC)),
        ({"sub": [PRM], "exp": 1893456000.5}, datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ({"sub": [PRM], "exp": True}, None),
        ({"sub": [PRM], "exp": "1893456000"}, None),
        ({"sub": [PRM], "exp": None}, None),
        ({"sub": [PRM], "exp": [1]}, None),
        ({"sub": [PRM], "exp": 10**20}, None),
        ({"sub": [PRM], "exp": -(10**20)}, None),
        ({"sub": [PRM], "exp": 1e300}, None),
        ({"sub": [PRM]}, None),
    ],
)
def test_decode_exp_parsing(payload: dict[str, Any], expected: datetime | None) -> None:
    assert decode_token(jwt(payload)).expires_at == expected


def test_decode_iat_parsing() -> None:
    assert decode_token(jwt({"sub": [PRM], "iat": 0})).issued_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert decode_token(jwt({"sub": [PRM], "iat": False})).issued_at is None
    assert decode_token(jwt({"sub": [PRM], "iat": "yesterday"})).issued_at is None


def test_decode_nan_and_infinite_timestamps() -> None:
    token = jwt(b'{"sub":["12345678901234"],"exp":NaN,"iat":Infinity}')
    info = decode_token(token)
    assert info.expires_at is None
    assert info.issued_at is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b",
        "a.b.c.d",
        "..",
        jwt([PRM]),  # payload not an object
        jwt("sub"),
        jwt({}),  # no sub
        jwt({"sub": PRM}),  # sub not a list
        jwt({"sub": []}),
        jwt({"sub": [14]}),
        jwt({"sub": [PRM, None]}),
        jwt({"sub": {"prm": PRM}}),
        jwt(b"not json"),
        jwt(b"\xff\xfe\x00garbage"),  # not UTF-8
        "eyJhbGciOiJIUzI1NiJ9.e.sig",  # base64 with a length of 1 mod 4
        "eyJhbGciOiJIUzI1NiJ9.!!!!.sig",  # no base64 character at all
        "eyJhbGciOiJIUzI1NiJ9.éàü.sig",  # not ASCII
    ],
)
def test_decode_malformed_tokens(token: str) -> None:
    with pytest.raises(AuthError) as info:
        decode_token(token)
    assert info.value.status is None
    message = str(info.value)
    if len(token) > 12:
        assert token not in message
        assert all(part not in message for part in token.split(".") if len(part) > 3)


@pytest.mark.parametrize(
    ("prm", "valid"),
    [
        (PRM, True),
        ("00000000000000", True),
        ("1234567890123", False),
        ("123456789012345", False),
        ("1234567890123a", False),
        ("1234 567890123", False),
        (" 12345678901234", False),
        ("12345678901234\n", False),
        ("", False),
        ("+2345678901234", False),
    ],
)
def test_is_valid_prm(prm: str, valid: bool) -> None:
    assert is_valid_prm(prm) is valid


@pytest.mark.parametrize("prm", ["１２３４５６７８９０１２３４", "١٢٣٤٥٦٧٨٩٠١٢٣٤"])
def test_regression_is_valid_prm_accepts_only_ascii_digits(prm: str) -> None:
    assert len(prm) == 14
    assert is_valid_prm(prm) is False


# === aggregation ============================================================================


def intervals_for(
    day: date, step: timedelta = HALF, value: Any = 0.25, tz: Any = UTC
) -> list[Interval]:
    """Contiguous intervals covering the Paris day `day`; `value` may be a function of i."""
    start, end = day_bounds(day, PARIS)
    out = []
    cursor, i = start, 0
    while cursor < end:
        amount = value(i) if callable(value) else value
        out.append(Interval(cursor.astimezone(tz), (cursor + step).astimezone(tz), amount))
        cursor += step
        i += 1
    return out


@pytest.mark.parametrize(
    ("day", "hours", "first_utc"),
    [
        (date(2026, 1, 10), 24, datetime(2026, 1, 9, 23, tzinfo=UTC)),
        (date(2026, 7, 10), 24, datetime(2026, 7, 9, 22, tzinfo=UTC)),
        (date(2026, 3, 29), 23, datetime(2026, 3, 28, 23, tzinfo=UTC)),
        (date(2026, 10, 25), 25, datetime(2026, 10, 24, 22, tzinfo=UTC)),
    ],
)
def test_day_helpers(day: date, hours: int, first_utc: datetime) -> None:
    start, end = day_bounds(day, PARIS)
    assert start == day_start(day, PARIS) == first_utc
    assert start.tzinfo is UTC
    assert end - start == hours * HOUR
    starts = hour_starts(day, PARIS)
    assert len(starts) == hours
    assert starts[0] == first_utc
    assert all(b - a == HOUR for a, b in itertools.pairwise(starts))
    assert local_day(start, PARIS) == day
    assert local_day(end - timedelta(microseconds=1), PARIS) == day
    assert local_day(end, PARIS) == day + timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "count", "hours"),
    [
        (date(2026, 1, 10), 48, 24),
        (date(2026, 7, 10), 48, 24),
        (date(2026, 3, 29), 46, 23),
        (date(2026, 10, 25), 50, 25),
    ],
)
def test_build_days_groups_half_hours_into_utc_hours(day: date, count: int, hours: int) -> None:
    intervals = intervals_for(day, value=lambda i: 0.1 + i / 1000)
    assert len(intervals) == count

    days = build_days([], intervals, PARIS)

    assert list(days) == [day]
    energy = days[day]
    assert energy.total is None
    assert energy.hours is not None
    assert [h for h, _ in energy.hours] == hour_starts(day, PARIS)
    assert len(energy.hours) == hours
    for n, (_, value) in enumerate(energy.hours):
        assert value == pytest.approx(0.1 + 2 * n / 1000 + 0.1 + (2 * n + 1) / 1000)
    assert energy.measured == pytest.approx(sum(i.value for i in intervals))


def test_build_days_quarter_hours() -> None:
    day = date(2026, 10, 25)
    intervals = intervals_for(day, step=timedelta(minutes=15), value=0.05)
    days = build_days([DayValue(day, 7.0)], intervals, PARIS)
    energy = days[day]
    assert energy.total == 7.0
    assert energy.hours is not None
    assert len(energy.hours) == 25
    assert all(v == pytest.approx(0.2) for _, v in energy.hours)
    assert energy.measured == 7.0  # the billing total wins


def test_build_days_accepts_local_aware_intervals_on_ordinary_days() -> None:
    day = date(2026, 1, 10)
    energy = build_days([], intervals_for(day, tz=PARIS), PARIS)[day]
    assert energy.hours is not None
    assert [h for h, _ in energy.hours] == hour_starts(day, PARIS)
    assert all(h.tzinfo is UTC for h, _ in energy.hours)


def test_regression_build_days_local_aware_intervals_on_autumn_change() -> None:
    day = date(2026, 10, 25)
    intervals = intervals_for(day, tz=PARIS)
    assert len(intervals) == 50
    energy = build_days([DayValue(day, 5.0)], intervals, PARIS)[day]
    assert energy.hours is not None
    assert len(energy.hours) == 25


def test_build_days_splits_intervals_across_hours_in_proportion() -> None:
    day = date(2026, 1, 10)
    intervals = intervals_for(day, step=timedelta(minutes=90), value=0.9)
    assert len(intervals) == 16
    energy = build_days([], intervals, PARIS)[day]
    assert energy.hours is not None
    values = [v for _, v in energy.hours]
    # 90-min intervals from 23:00 UTC: hours alternate 0.6 (60 min), 0.6 (30+30), 0.6...
    assert values[0] == pytest.approx(0.6)  # 23:00-00:00 is 60 of the first 90 min
    assert values[1] == pytest.approx(0.3 + 0.3)  # 30 min of each of two intervals
    assert sum(values) == pytest.approx(0.9 * 16)


def test_build_days_incomplete_days_have_no_shape() -> None:
    full = date(2026, 1, 10)
    holed = date(2026, 1, 11)
    short = date(2026, 1, 12)
    alone = date(2026, 1, 13)
    holed_intervals = intervals_for(holed)
    del holed_intervals[20]
    intervals = intervals_for(full) + holed_intervals + intervals_for(short)[:-1]
    daily = [DayValue(holed, 11.0), DayValue(short, 12.0), DayValue(alone, 13.0)]

    days = build_days(daily, intervals, PARIS)

    assert list(days) == [full, holed, short, alone]
    assert days[full].total is None
    assert days[full].hours is not None
    assert days[holed] == DayEnergy(holed, total=11.0, hours=None)
    assert days[short] == DayEnergy(short, total=12.0, hours=None)
    assert days[alone] == DayEnergy(alone, total=13.0, hours=None)


def test_build_days_drops_incomplete_day_without_total() -> None:
    day = date(2026, 1, 10)
    assert build_days([], intervals_for(day)[1:], PARIS) == {}
    assert build_days([], [], PARIS) == {}


def test_build_days_overlap_is_not_a_full_day() -> None:
    day = date(2026, 1, 10)
    intervals = intervals_for(day)
    start = intervals[4].start
    intervals.append(Interval(start + timedelta(minutes=15), start + timedelta(minutes=45), 1.0))
    assert build_days([DayValue(day, 5.0)], intervals, PARIS)[day].hours is None


def test_build_days_duplicate_start_keeps_first() -> None:
    day = date(2026, 1, 10)
    intervals = intervals_for(day, value=0.5)
    intervals.append(Interval(intervals[0].start, intervals[0].end, 99.0))
    energy = build_days([], intervals, PARIS)[day]
    assert energy.hours is not None
    assert energy.hours[0][1] == pytest.approx(1.0)
    assert energy.measured == pytest.approx(24.0)


def test_build_days_several_days_unordered() -> None:
    days_in = [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    intervals = [i for d in reversed(days_in) for i in intervals_for(d, value=0.5)]
    days = build_days([DayValue(d, 30.0) for d in days_in], intervals, PARIS)
    assert list(days) == days_in
    assert [len(days[d].hours or ()) for d in days_in] == [24, 23, 24]


def test_day_energy_measured() -> None:
    h = datetime(2026, 1, 9, 23, tzinfo=UTC)
    assert DayEnergy(date(2026, 1, 10)).measured == 0
    assert DayEnergy(date(2026, 1, 10), total=3.0).measured == 3.0
    assert DayEnergy(date(2026, 1, 10), hours=((h, 1.0), (h + HOUR, 2.5))).measured == 3.5
    assert DayEnergy(date(2026, 1, 10), total=0.0, hours=((h, 1.0),)).measured == 0.0


def test_shape_to_total() -> None:
    h = datetime(2026, 1, 9, 23, tzinfo=UTC)
    rows = [(h, 1.0), (h + HOUR, 3.0)]
    assert shape_to_total(rows, 8.0) == [(h, 2.0), (h + HOUR, 6.0)]
    assert shape_to_total(iter(rows), None) == rows
    assert shape_to_total(rows, 0.0) == [(h, 0.0), (h + HOUR, 0.0)]
    scaled = shape_to_total(rows, 4.4)
    assert scaled is not None
    assert sum(v for _, v in scaled) == pytest.approx(4.4)
    assert scaled[1][1] / scaled[0][1] == pytest.approx(3.0)


def test_shape_to_total_zero_shape() -> None:
    h = datetime(2026, 1, 9, 23, tzinfo=UTC)
    zero = [(h, 0.0), (h + HOUR, 0.0)]
    assert shape_to_total(zero, 0.0) == zero
    assert shape_to_total(zero, 0) == zero
    assert shape_to_total(zero, 2.0) is None
    assert shape_to_total([], 0.0) == []
    assert shape_to_total([], 1.0) is None


def test_build_days_then_the_shape_keeps_the_billing_total() -> None:
    day = date(2026, 10, 25)
    intervals = intervals_for(day, value=lambda i: 0.1 * (1 + i % 5))
    energy = build_days([DayValue(day, 20.0)], intervals, PARIS)[day]
    assert energy.hours is not None
    rows = shape_to_total(energy.hours, energy.total)
    assert rows is not None
    assert len(rows) == 25
    assert sum(v for _, v in rows) == pytest.approx(20.0)


# === budget =================================================================================

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def budget_with(*minutes: float) -> CallBudget:
    return CallBudget(calls=[T0 + timedelta(minutes=m) for m in minutes])


def test_budget_defaults() -> None:
    budget = CallBudget()
    assert budget.cap == HARD_CAP == 24
    assert budget.window == WINDOW == timedelta(hours=12)
    assert budget.calls == []
    assert budget.used(T0) == 0
    assert budget.available(T0, Priority.DAILY) == 24
    assert budget.available(T0, Priority.BACKFILL, reserve=6) == 18
    assert budget.next_slot(T0, Priority.DAILY) == T0


def test_budget_limit() -> None:
    budget = CallBudget()
    assert budget.limit(Priority.DAILY, 6) == 24
    assert budget.limit(Priority.BACKFILL, 6) == 18
    assert budget.limit(Priority.BACKFILL, 0) == 24
    assert budget.limit(Priority.BACKFILL, 30) == 0


def test_budget_used_is_a_rolling_window() -> None:
    budget = budget_with(0, 60, 120)
    assert budget.used(T0 + timedelta(minutes=121)) == 3
    # A call exactly one window old no longer counts.
    assert budget.used(T0 + WINDOW) == 2
    assert budget.used(T0 + WINDOW - timedelta(seconds=1)) == 3
    assert budget.used(T0 + WINDOW + timedelta(minutes=120)) == 0
    assert budget.available(T0 + WINDOW, Priority.DAILY) == 22
    assert budget.available(T0 + WINDOW, Priority.BACKFILL, reserve=21) == 1
    assert budget.available(T0 + WINDOW, Priority.BACKFILL, reserve=23) == 0


def test_budget_spend_and_prune() -> None:
    budget = budget_with(0, 30)
    later = T0 + WINDOW + timedelta(minutes=10)
    budget.spend(later)
    assert budget.calls == [T0 + timedelta(minutes=30), later]
    budget.prune(later + WINDOW)
    assert budget.calls == []
    budget = budget_with(50, 10, 30)
    budget.prune(T0 + timedelta(hours=1))
    assert budget.calls == sorted(budget.calls)
    assert len(budget.calls) == 3


def test_budget_next_slot_daily_full() -> None:
    budget = budget_with(*range(0, 240, 10))  # 24 calls, one every 10 minutes
    now = T0 + timedelta(minutes=241)
    assert budget.available(now, Priority.DAILY) == 0
    slot = budget.next_slot(now, Priority.DAILY)
    assert slot == T0 + WINDOW
    assert budget.available(slot, Priority.DAILY) == 1
    assert budget.available(slot - timedelta(seconds=1), Priority.DAILY) == 0


def test_budget_next_slot_backfill_with_reserve() -> None:
    budget = budget_with(*range(0, 200, 10))  # 20 calls
    now = T0 + timedelta(minutes=201)
    assert budget.next_slot(now, Priority.DAILY) == now
    assert budget.available(now, Priority.DAILY) == 4
    # Backfill may use 24 - 6 = 18: three calls must leave the window first.
    slot = budget.next_slot(now, Priority.BACKFILL, reserve=6)
    assert slot == T0 + timedelta(minutes=20) + WINDOW
    assert budget.available(slot, Priority.BACKFILL, reserve=6) == 1
    assert budget.available(slot - timedelta(seconds=1), Priority.BACKFILL, reserve=6) == 0
    assert budget.next_slot(now, Priority.BACKFILL, reserve=2) == now


def test_budget_next_slot_without_backfill_share() -> None:
    assert CallBudget().next_slot(T0, Priority.BACKFILL, reserve=24) == T0 + WINDOW
    budget = budget_with(0, 5)
    now = T0 + timedelta(minutes=6)
    assert (
        budget.next_slot(now, Priority.BACKFILL, reserve=30) == T0 + timedelta(minutes=5) + WINDOW
    )
    assert budget.available(now, Priority.BACKFILL, reserve=30) == 0


def test_budget_next_slot_is_consistent_with_available() -> None:
    rng = random.Random(1234)
    for _ in range(200):
        budget = CallBudget(calls=[T0 + timedelta(minutes=rng.randrange(720)) for _ in range(30)])
        now = T0 + timedelta(minutes=rng.randrange(720, 900))
        reserve = rng.randrange(0, 10)
        for priority in Priority:
            slot = budget.next_slot(now, priority, reserve)
            assert slot >= now
            assert budget.available(slot, priority, reserve) >= 1
            if slot > now:
                assert budget.available(slot - timedelta(seconds=1), priority, reserve) == 0


def test_budget_round_trip() -> None:
    paris_call = datetime(2026, 11, 20, 10, 30, 15, 123456, tzinfo=PARIS)
    budget = CallBudget(calls=[T0, paris_call, T0 + timedelta(hours=2)])
    data = budget.as_dict()
    assert data == {"calls": [c.isoformat() for c in budget.calls]}
    restored = CallBudget.from_dict(json.loads(json.dumps(data)))
    assert restored.calls == sorted(budget.calls)
    assert all(c.tzinfo is not None for c in restored.calls)
    assert restored.used(T0 + timedelta(hours=3)) == 3


@pytest.mark.parametrize(
    "data", [None, [], "calls", 12, {}, {"calls": None}, {"calls": "2026-11-20T08:00:00+00:00"}]
)
def test_budget_from_garbage(data: Any) -> None:
    assert CallBudget.from_dict(data).calls == []


def test_budget_from_dict_skips_unreadable_and_naive_stamps() -> None:
    data = {
        "calls": [
            "2026-11-20T09:00:00+00:00",
            None,
            12,
            ["x"],
            "garbage",
            "2026-11-20T08:00:00",  # naive: ignored
            "2026-11-20T08:30:00+01:00",
        ]
    }
    assert CallBudget.from_dict(data).calls == [
        datetime(2026, 11, 20, 7, 30, tzinfo=UTC),
        datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    ]


# === schedule ===============================================================================

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


# === sync_state =============================================================================


def full_state() -> LinkyState:
    return LinkyState(
        pending=[
            FetchTask("courbe_de_charge_consommation", date(2026, 11, 13), date(2026, 11, 20)),
            FetchTask("consommation_quotidienne", date(2025, 11, 20), date(2026, 11, 20)),
        ],
        initialised=True,
        production=True,
        last_day=date(2026, 11, 19),
        attempts=[
            datetime(2026, 11, 20, 6, 0, 17, tzinfo=UTC),
            datetime(2026, 11, 20, 9, 30, 17, 250000, tzinfo=PARIS),
        ],
        last_success=datetime(2026, 11, 20, 7, 30, 17, tzinfo=UTC),
        backoff_until=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        hourly_missing=True,
        latest_consumption=(date(2026, 11, 19), 12.345),
        latest_production=(date(2026, 11, 19), 0.0),
        latest_peak=(date(2026, 11, 19), 6.51, datetime(2026, 11, 19, 19, 12, 5, tzinfo=PARIS)),
        outcomes={
            "consommation_quotidienne": TypeOutcome(
                last_success=datetime(2026, 11, 20, 7, 30, tzinfo=UTC),
                last_error="QuotaError: Conso API quota exceeded",
                last_error_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
                calls=7,
            ),
            "courbe_de_charge_production": TypeOutcome(),
        },
        last_import={"reason": "daily", "rows": 48, "days": ["2026-11-19"]},
    )


def test_linky_state_round_trip_with_every_field() -> None:
    state = full_state()
    data = state.as_dict()
    # JSON-ready: survives a JSON round trip unchanged.
    assert json.loads(json.dumps(data)) == data
    assert data["last_day"] == "2026-11-19"
    assert data["latest_peak"] == ["2026-11-19", 6.51, "2026-11-19T19:12:05+01:00"]
    assert data["outcomes"]["consommation_quotidienne"]["calls"] == 7

    restored = LinkyState.from_dict(json.loads(json.dumps(data)))

    assert restored == state
    for field_name in LinkyState.__dataclass_fields__:
        assert getattr(restored, field_name) == getattr(state, field_name), field_name
    assert restored.as_dict() == data
    assert restored.latest_peak is not None
    assert restored.latest_peak[2].utcoffset() == timedelta(hours=1)
    assert all(a.tzinfo is not None for a in restored.attempts)


def test_linky_state_defaults() -> None:
    assert LinkyState.from_dict(None) == LinkyState()
    assert LinkyState.from_dict({}) == LinkyState()
    empty = LinkyState()
    assert LinkyState.from_dict(empty.as_dict()) == empty
    assert empty.as_dict()["latest_peak"] is None
    assert empty.as_dict()["pending"] == []


def test_linky_state_partial_dict_falls_back_to_defaults() -> None:
    state = LinkyState.from_dict({"initialised": 1, "last_day": "2026-11-19", "unknown": 3})
    assert state.initialised is True
    assert state.last_day == date(2026, 11, 19)
    assert state.pending == []
    assert state.outcomes == {}
    assert state.production is None


def test_linky_state_outcome_is_created_once() -> None:
    state = LinkyState()
    outcome = state.outcome("consommation_quotidienne")
    outcome.calls += 1
    assert state.outcome("consommation_quotidienne") is outcome
    assert state.outcomes == {"consommation_quotidienne": TypeOutcome(calls=1)}


def test_fetch_task_round_trip() -> None:
    task = FetchTask("puissance_conso_max_quotidienne", date(2026, 1, 1), date(2026, 2, 1))
    assert task.as_dict() == {
        "type": "puissance_conso_max_quotidienne",
        "start": "2026-01-01",
        "end": "2026-02-01",
    }
    assert FetchTask.from_dict(task.as_dict()) == task
