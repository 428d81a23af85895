"""linky/budget.py: the 12-hour call budget's arithmetic (no I/O), shared fairly between the
entries and the config flow."""

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.linky.budget import (
    FLOW,
    FLOW_RESERVE,
    HARD_CAP,
    RESERVE_MAX,
    WINDOW,
    Call,
    CallBudget,
    Priority,
)
from tests.simulators.conso_api import PARIS

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def budget_with(*minutes: float, owner: str = FLOW, **shares: int) -> CallBudget:
    return CallBudget(
        calls=[Call(T0 + timedelta(minutes=m), owner) for m in minutes], shares=shares
    )


def test_budget_defaults() -> None:
    budget = CallBudget()
    assert budget.cap == HARD_CAP == 24
    assert budget.window == WINDOW == timedelta(hours=12)
    assert budget.calls == []
    assert budget.used(T0) == 0
    assert budget.available(T0, Priority.FLOW) == 24
    assert budget.available(T0, Priority.DAILY, "a") == 24 - FLOW_RESERVE
    assert budget.available(T0, Priority.BACKFILL, "a") == 24 - 6
    assert budget.next_slot(T0, Priority.DAILY, "a") == T0


def test_each_entry_keeps_its_unspent_share() -> None:
    budget = CallBudget(shares={"a": 4, "b": 6})
    # a's daily sync may not take b's share nor the flow's reserve.
    assert budget.available(T0, Priority.DAILY, "a") == 24 - FLOW_RESERVE - 6
    assert budget.available(T0, Priority.DAILY, "b") == 24 - FLOW_RESERVE - 4
    # Backfill leaves every share (its own too) and the flow reserve, at least the old margin.
    assert budget.available(T0, Priority.BACKFILL, "a") == 24 - RESERVE_MAX
    # b makes its daily sync: its share is spent, a may take more.
    for minute in range(5):
        budget.spend(T0 + timedelta(minutes=minute), "b", Priority.DAILY)
    now = T0 + timedelta(minutes=5)
    assert budget.unspent(now, "b") == 1
    assert budget.available(now, Priority.DAILY, "a") == 24 - 5 - FLOW_RESERVE - 1
    # The config flow may take the whole cap.
    assert budget.available(now, Priority.FLOW) == 24 - 5


def test_filling_gaps_does_not_use_up_a_share() -> None:
    budget = CallBudget(shares={"a": 4})
    for minute in range(6):
        budget.spend(T0 + timedelta(minutes=minute), "a", Priority.BACKFILL)
    now = T0 + timedelta(minutes=6)
    assert budget.unspent(now, "a") == 4
    # Backfill stops where the entry's own share and the flow's reserve begin.
    assert budget.available(now, Priority.BACKFILL, "a") == 24 - 6 - 6
    budget.spend(now, "a", Priority.DAILY)
    assert budget.unspent(now, "a") == 3


def test_a_draining_entry_never_takes_another_entrys_share_nor_the_flows() -> None:
    budget = CallBudget(shares={"failing": 4, "healthy": 4})
    now = T0
    while budget.available(now, Priority.DAILY, "failing"):
        budget.spend(now, "failing", Priority.DAILY)
        now += timedelta(minutes=1)
    assert budget.used(now, "failing") == 24 - FLOW_RESERVE - 4
    assert budget.available(now, Priority.DAILY, "healthy") == 4
    assert budget.available(now, Priority.BACKFILL, "healthy") == 0
    for _ in range(4):
        budget.spend(now, "healthy", Priority.DAILY)
    assert budget.available(now, Priority.DAILY, "healthy") == 0
    assert budget.available(now, Priority.FLOW) == FLOW_RESERVE


def test_shares_that_exceed_the_cap_leave_nothing_and_ask_again_later() -> None:
    budget = CallBudget(shares={str(i): 6 for i in range(5)})
    assert budget.available(T0, Priority.DAILY, "0") == 0
    assert budget.next_slot(T0, Priority.DAILY, "0") == T0 + WINDOW


def test_budget_used_is_a_rolling_window() -> None:
    budget = budget_with(0, 60, 120)
    assert budget.used(T0 + timedelta(minutes=121)) == 3
    # A call exactly one window old no longer counts.
    assert budget.used(T0 + WINDOW) == 2
    assert budget.used(T0 + WINDOW - timedelta(seconds=1)) == 3
    assert budget.used(T0 + WINDOW + timedelta(minutes=120)) == 0
    assert budget.available(T0 + WINDOW, Priority.FLOW) == 22


def test_budget_spend_and_prune() -> None:
    budget = budget_with(0, 30)
    later = T0 + WINDOW + timedelta(minutes=10)
    budget.spend(later, "a")
    assert budget.calls == [Call(T0 + timedelta(minutes=30)), Call(later, "a")]
    budget.spend(later, "a", Priority.BACKFILL)
    assert budget.calls[-1] == Call(later, "a", Priority.BACKFILL)
    budget.prune(later + WINDOW)
    assert budget.calls == []
    budget = budget_with(50, 10, 30)
    budget.prune(T0 + timedelta(hours=1))
    assert [c.at for c in budget.calls] == sorted(c.at for c in budget.calls)
    assert len(budget.calls) == 3


def test_budget_next_slot_full() -> None:
    budget = budget_with(*range(0, 240, 10))  # 24 calls, one every 10 minutes
    now = T0 + timedelta(minutes=241)
    assert budget.available(now, Priority.FLOW) == 0
    slot = budget.next_slot(now, Priority.FLOW)
    assert slot == T0 + WINDOW
    assert budget.available(slot, Priority.FLOW) == 1
    assert budget.available(slot - timedelta(seconds=1), Priority.FLOW) == 0
    # An entry's daily sync must wait for the flow reserve to be free again too.
    assert budget.next_slot(now, Priority.DAILY, "a") == T0 + timedelta(minutes=20) + WINDOW


def test_a_share_call_leaving_the_window_reserves_it_again() -> None:
    """The other entry's calls leave the window first: each frees one call and reserves it
    again for that entry, so the slot is when one of this entry's own calls leaves."""
    budget = CallBudget(shares={"a": 4, "b": 4})
    for minute in range(4):
        budget.spend(T0 + timedelta(minutes=minute), "b", Priority.DAILY)
    for minute in range(4, 22):
        budget.spend(T0 + timedelta(minutes=minute), "a", Priority.DAILY)
    now = T0 + timedelta(minutes=30)
    assert budget.available(now, Priority.DAILY, "a") == 0
    slot = budget.next_slot(now, Priority.DAILY, "a")
    assert slot == T0 + timedelta(minutes=4) + WINDOW
    assert budget.available(slot, Priority.DAILY, "a") == 1


def test_budget_next_slot_is_consistent_with_available() -> None:
    rng = random.Random(1234)
    owners = ["a", "b", "c", FLOW]
    for _ in range(200):
        budget = CallBudget(
            calls=sorted(
                (
                    Call(T0 + timedelta(minutes=rng.randrange(720)), rng.choice(owners))
                    for _ in range(rng.randrange(10, 30))
                ),
                key=lambda c: c.at,
            ),
            shares={o: rng.randrange(3, 7) for o in owners[: rng.randrange(1, 4)]},
        )
        now = T0 + timedelta(minutes=rng.randrange(720, 900))
        for priority in Priority:
            owner = rng.choice(owners)
            slot = budget.next_slot(now, priority, owner)
            assert slot >= now
            assert budget.available(slot, priority, owner) >= 1
            if slot > now:
                assert budget.available(slot - timedelta(seconds=1), priority, owner) == 0


def test_budget_round_trip() -> None:
    paris_call = datetime(2026, 11, 20, 10, 30, 15, 123456, tzinfo=PARIS)
    budget = CallBudget(
        calls=[
            Call(T0, "a", Priority.DAILY),
            Call(paris_call),
            Call(T0 + timedelta(hours=2), "b", Priority.BACKFILL),
        ]
    )
    data = budget.as_dict()
    assert data == {"calls": [[c.at.isoformat(), c.owner, int(c.priority)] for c in budget.calls]}
    restored = CallBudget.from_dict(json.loads(json.dumps(data)))
    assert restored.calls == sorted(budget.calls, key=lambda c: c.at)
    assert all(c.at.tzinfo is not None for c in restored.calls)
    assert restored.used(T0 + timedelta(hours=3)) == 3
    assert restored.used(T0 + timedelta(hours=3), "a") == 1


def test_a_store_of_an_older_version_counts_for_nobodys_share() -> None:
    restored = CallBudget.from_dict({"calls": ["2026-11-20T08:00:00+00:00"]})
    assert restored.calls == [Call(T0, FLOW)]


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
            ["2026-11-20T10:00:00+00:00", 5, 9],  # an owner that is no text: nobody's
            ["2026-11-20T11:00:00+00:00", "a", 2],
            ["2026-11-20T11:30:00+00:00", "a"],  # not three items: unreadable
            "garbage",
            "2026-11-20T08:00:00",  # naive: ignored
            "2026-11-20T08:30:00+01:00",
        ]
    }
    assert CallBudget.from_dict(data).calls == [
        Call(datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        Call(datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        Call(datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        Call(datetime(2026, 11, 20, 11, 0, tzinfo=UTC), "a", Priority.BACKFILL),
    ]
