"""ClimkitState survives a round trip through its JSON form."""

from __future__ import annotations

from datetime import UTC, date, datetime

from custom_components.linky_climkit.climkit.state import ClimkitState
from custom_components.linky_climkit.providers.climkit_model import MeterInfo, SiteInfo


def test_round_trip_with_every_field() -> None:
    """Every field comes back equal, dates and datetimes included."""
    state = ClimkitState(
        site=SiteInfo(
            id="65f0a1b2c3d4e5f607182930",
            name="Résidence du Lac",
            timezone="Europe/Zurich",
            creation=datetime(2022, 1, 13, 6, 45, 24, tzinfo=UTC),
            address="Rue du Lac 12, 1400 Yverdon-les-Bains",
            site_ref="CK-0421",
        ),
        meters=[
            MeterInfo("65f0a1b2c3d4e5f607182931", "electricity", 11, "App 1", None, False, False)
        ],
        history_start=date(2023, 11, 21),
        history_cursor=date(2024, 1, 1),
        last_day=date(2026, 11, 19),
        last_data_end=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        attempts=[datetime(2026, 11, 20, 6, 0, 17, tzinfo=UTC)],
        backoff_until=datetime(2026, 11, 20, 7, 0, tzinfo=UTC),
        storage=True,
        clamped=3,
        missing=2,
        latest={"x:consumption": (date(2026, 11, 19), 12.5)},
        last_error="Climkit failed (500)",
        last_error_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
        last_success=datetime(2026, 11, 19, 6, 0, tzinfo=UTC),
        calls=42,
    )
    assert ClimkitState.from_dict(state.as_dict()) == state
    assert not state.history_done
    assert ClimkitState.from_dict(None) == ClimkitState()
    assert ClimkitState(
        history_start=date(2024, 1, 1), history_cursor=date(2024, 1, 1)
    ).history_done
