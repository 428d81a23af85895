"""The request window under every reading Climkit may have of `t_s`/`t_e` (docs/climkit.md
§9 Q1, Q2): as UTC or as the site's local time, the end inclusive or exclusive. The history
(two 30-day windows) and a daily sync import exactly the simulator's ground truth, day by day,
read back from the recorder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from tests.climkit.test_import import setup_site, zurich
from tests.climkit.test_partial import assert_matches_simulator, next_daily_sync, small_site
from tests.conftest import CH_NOW, ZURICH
from tests.simulators.climkit import ClimkitSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")


@pytest.mark.parametrize(
    ("naive_as_local", "end_inclusive"),
    [(False, True), (False, False), (True, True), (True, False)],
    ids=["utc-inclusive", "utc-exclusive", "local-inclusive", "local-exclusive"],
)
async def test_every_reading_imports_the_ground_truth(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    naive_as_local: bool,
    end_inclusive: bool,
) -> None:
    await zurich(hass)
    freezer.move_to(CH_NOW)
    site = small_site(CH_NOW - timedelta(days=35))
    sim = ClimkitSimulator([site], naive_as_local=naive_as_local, end_inclusive=end_inclusive)
    await sim.start()
    try:
        coordinator = await setup_site(hass, sim)
        first = site.creation.astimezone(ZURICH).date()
        await assert_matches_simulator(hass, sim, first, CH_NOW.date())
        assert coordinator.have_yesterday()
        await next_daily_sync(hass, coordinator, freezer)
        await assert_matches_simulator(hass, sim, first, CH_NOW.date() + timedelta(days=1))
        assert coordinator.have_yesterday()
    finally:
        await sim.stop()
