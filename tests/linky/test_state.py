"""linky/state.py: what a Linky entry persists (no I/O)."""

import json
from datetime import UTC, date, datetime, timedelta

from custom_components.linky_climkit.linky.state import FetchTask, LinkyState, TypeOutcome
from tests.simulators.conso_api import PARIS


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
