"""backoff.py: the one back-off of both coordinators (pure: no Home Assistant instance)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.linky_climkit.backoff import (
    CAP,
    DEFAULT_BASE,
    Backoff,
    back_off,
    gate_open,
    seconds,
    succeeded,
)
from custom_components.linky_climkit.providers.errors import (
    BlockedError,
    QuotaError,
    UpstreamError,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py's autouse fixture: no Home Assistant instance is needed."""


NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
BASES = ((BlockedError, timedelta(hours=24)), (QuotaError, timedelta(hours=3)))


def failures(errors: list[Exception]) -> list[timedelta]:
    """The waits after failed runs in a row, each run starting when the gate opens."""
    state, now, waits = Backoff(), NOW, []
    for err in errors:
        assert gate_open(state, now)
        until = back_off(state, err, now, BASES)
        assert not gate_open(state, now)
        waits.append(until - now)
        now = until
    return waits


@pytest.mark.parametrize(
    "err",
    [UpstreamError("500"), RuntimeError("a bug"), OverflowError("far"), QuotaError("429")],
)
def test_waits_double_from_the_base_up_to_a_day(err: Exception) -> None:
    """Every kind of failure, typed or not: base, then doubling, never beyond `CAP`."""
    waits = failures([err] * 12)
    base = timedelta(hours=3) if isinstance(err, QuotaError) else DEFAULT_BASE
    assert waits[0] == base
    assert all(b == min(2 * a, CAP) for a, b in itertools.pairwise(waits))
    assert waits[-1] == CAP
    assert max(waits) == CAP


def test_mixed_failures_never_wait_less_than_before() -> None:
    """A long wait (blocked) followed by short-base failures keeps the longest wait."""
    waits = failures([UpstreamError("x"), BlockedError("cf"), UpstreamError("x"), KeyError("k")])
    assert waits == [DEFAULT_BASE, CAP, CAP, CAP]


@pytest.mark.parametrize(
    ("retry_at", "expected"),
    [
        (NOW + timedelta(hours=5), timedelta(hours=5)),  # longer than the base: honoured
        (NOW + timedelta(minutes=1), timedelta(hours=3)),  # shorter: the base wins
        (NOW - timedelta(days=3), timedelta(hours=3)),  # in the past
        (datetime(2126, 1, 1, tzinfo=UTC), CAP),  # a century ahead: a day, then ask again
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), CAP),  # the end of the calendar
    ],
)
def test_provider_retry_at_is_honoured_within_the_cap(
    retry_at: datetime, expected: timedelta
) -> None:
    state = Backoff()
    until = back_off(state, QuotaError("429", retry_at=retry_at), NOW, BASES)
    assert until - NOW == expected
    assert state.backoff_seconds == expected.total_seconds()


def test_a_success_starts_from_the_base_again() -> None:
    state = Backoff()
    for _ in range(5):
        now = state.backoff_until or NOW
        assert gate_open(state, now)
        back_off(state, UpstreamError("500"), now)
    assert state.backoff_seconds == 16 * DEFAULT_BASE.total_seconds()
    assert state.backoff_until is not None
    assert gate_open(state, state.backoff_until)
    assert state.backoff_seconds > 0  # an open gate keeps the wait: a new failure doubles it
    succeeded(state)
    assert (state.backoff_until, state.backoff_seconds) == (None, 0.0)
    assert back_off(state, UpstreamError("500"), NOW) - NOW == DEFAULT_BASE


@pytest.mark.parametrize(
    "stored", [datetime(2126, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 0, tzinfo=UTC)]
)
def test_a_far_stored_wait_is_brought_back_under_the_cap(stored: datetime) -> None:
    """An older version saved any "retry at": read, it waits a day at most from now."""
    state = Backoff(backoff_until=stored)
    assert not gate_open(state, NOW)
    assert state.backoff_until == NOW + CAP
    assert not gate_open(state, NOW + CAP - timedelta(seconds=1))
    assert gate_open(state, NOW + CAP)
    assert state.backoff_until is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 0.0),
        ("x", 0.0),
        (-5, 0.0),
        (float("nan"), 0.0),
        (float("inf"), CAP.total_seconds()),
        (1e300, CAP.total_seconds()),
        (1800, 1800.0),
    ],
)
def test_stored_waits_are_read_defensively(raw: object, expected: float) -> None:
    assert seconds(raw) == expected
    assert Backoff.from_dict({"backoff_seconds": raw}).backoff_seconds == expected


def test_backoff_round_trip() -> None:
    state = Backoff()
    back_off(state, UpstreamError("500"), NOW)
    assert Backoff.from_dict(state.as_dict()) == state
    assert Backoff.from_dict(None) == Backoff()
    assert Backoff.from_dict({"backoff_until": 3}) == Backoff()
