"""linky/budget.py: the 12-hour call budget's arithmetic (no I/O)."""

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.linky.budget import HARD_CAP, WINDOW, CallBudget, Priority
from tests.simulators.conso_api import PARIS

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
