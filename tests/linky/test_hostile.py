"""A hostile or broken Conso API: sustained failures of every kind, unexpected errors, far
dates (`nextAccessTime`, a token's `exp`, a back-off stored by an older version) and
redirects. Every retry is bounded and growing (backoff.py) and never later than a day, then
Conso API is asked again; the token never leaves for another address.

Call counts are what the simulator received over simulated days (frozen clock, moved)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from custom_components.linky_climkit.backoff import CAP
from custom_components.linky_climkit.const import CONF_API_URL, CONF_PRM, CONF_TOKEN, DOMAIN
from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.repair_issues import Problem
from tests.conftest import NOW, PRM, PROD_PRM, linky_entry, token_for
from tests.helpers.time_travel import bursts, gaps, most_in_window, setup_linky, step_runs
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile

pytestmark = pytest.mark.usefixtures("recorder_mock")

THREE_DAYS = timedelta(days=3)
HOUR = timedelta(hours=1)


def steps(base: timedelta, count: int = 12) -> list[timedelta]:
    """The back-off's waits from `base`: doubling, capped at a day."""
    return [min(base * 2**i, CAP) for i in range(count)]


def assert_gaps(starts: list[datetime], expected: list[timedelta]) -> None:
    """Each gap is the back-off's next step (within a minute), never shorter than before."""
    found = gaps(starts)
    assert len(found) >= 2, found
    for gap, step in zip(found, expected, strict=False):
        assert step <= gap <= step + timedelta(minutes=1), (found, expected)
    assert all(b >= a for a, b in itertools.pairwise(found))


def failure(coordinator: LinkyCoordinator) -> UpdateFailed:
    err = coordinator.last_exception
    assert isinstance(err, UpdateFailed), repr(err)
    return err


@pytest.fixture
async def elsewhere(socket_enabled: None) -> AsyncIterator[ConsoApiSimulator]:
    """Another origin (another port) answering like Conso API for the same token."""
    sim = ConsoApiSimulator([MeterProfile(PRM, seed=3), MeterProfile(PROD_PRM, seed=5)])
    sim.url = await sim.start()  # type: ignore[attr-defined]
    yield sim
    await sim.stop()


@pytest.mark.parametrize(
    ("fault", "base", "key"),
    [
        ("technical_error", timedelta(minutes=30), "service_error"),  # Enedis 500
        ("cloudflare_502_html", timedelta(minutes=30), "service_error"),
        ("quota_900807", timedelta(hours=3), "quota"),
        ("cloudflare_403", timedelta(hours=24), "blocked"),
    ],
)
async def test_sustained_failure_during_the_first_import_backs_off_growing(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    fault: str,
    base: timedelta,
    key: str,
) -> None:
    """Conso API fails every call for 3 days from the first import on: one call a run, the
    runs ever further apart up to a day; the first answer afterwards resets the back-off."""
    freezer.move_to(NOW)
    conso_sim.add_fault(fault)
    _entry, coordinator = await setup_linky(paris, conso_sim, PRM)
    start = dt_util.utcnow()
    await step_runs(paris, freezer, coordinator, start + THREE_DAYS)

    stamps = [c.at for c in conso_sim.calls]
    assert len(bursts(stamps)) == len(stamps)  # one call a run
    assert_gaps(stamps, steps(base))
    assert len(stamps) <= 8
    assert most_in_window(stamps) <= 5  # in any 12 hours (the ban is at 100)
    assert most_in_window([s for s in stamps if s >= start + timedelta(days=1)]) <= 1
    assert failure(coordinator).translation_key == key
    assert coordinator.state.backoff_seconds == CAP.total_seconds()

    conso_sim.clear_faults()
    await step_runs(paris, freezer, coordinator, start + THREE_DAYS + CAP + HOUR)
    assert coordinator.last_update_success
    assert coordinator.state.backoff_seconds == 0
    assert coordinator.state.initialised


async def test_unexpected_error_backs_off_the_same_way(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A bug after a call (here: parsing its answer) is not retried every minute: 30 min
    doubling to a day, a translated error naming only the exception's type."""
    freezer.move_to(NOW)
    with patch(
        "custom_components.linky_climkit.linky.reader.parse",
        side_effect=KeyError("s3cret detail"),
    ):
        _entry, coordinator = await setup_linky(paris, conso_sim, PRM)
        start = dt_util.utcnow()
        await step_runs(paris, freezer, coordinator, start + THREE_DAYS)
        stamps = [c.at for c in conso_sim.calls]
        assert_gaps(stamps, steps(timedelta(minutes=30)))
        assert len(stamps) <= 8
        err = failure(coordinator)
        assert err.translation_key == "unexpected_error"
        assert err.translation_placeholders is not None
        assert err.translation_placeholders["error"] == "KeyError"
    await step_runs(paris, freezer, coordinator, start + THREE_DAYS + CAP + HOUR)
    assert coordinator.last_update_success
    assert coordinator.state.backoff_seconds == 0


@pytest.mark.parametrize(
    ("next_access", "base"),
    [
        ("9999-Dec-31 23:59:59+0000 UTC", CAP),  # the end of the calendar
        ("2126-Jan-01 00:00:00+0000 UTC", CAP),  # a century ahead
        ("9999-Dec-31 23:00:00-1400 UTC", timedelta(hours=3)),  # past it in UTC: no date
    ],
)
async def test_far_next_access_time_waits_a_day_then_asks_again(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    next_access: str,
    base: timedelta,
) -> None:
    """A 429 whose nextAccessTime is far (or beyond the calendar: a plain quota back-off)
    for 3 days: no crash, the quota issue shows a date at most a day away, and Conso API is
    asked again at least each day."""
    freezer.move_to(NOW)
    conso_sim.next_access_time = next_access
    conso_sim.add_fault("quota_900804")
    entry, coordinator = await setup_linky(paris, conso_sim, PRM)
    start = dt_util.utcnow()
    await step_runs(paris, freezer, coordinator, start + THREE_DAYS)

    stamps = [c.at for c in conso_sim.calls]
    assert_gaps(stamps, steps(base))
    assert len(stamps) == (4 if base == CAP else 6)  # 0, 1, 2, 3 days; 0, 3, 9, 21, 45, 69 h
    assert failure(coordinator).translation_key == "quota"
    assert coordinator.state.backoff_until is not None
    assert coordinator.state.backoff_until - dt_util.utcnow() <= CAP
    issue = ir.async_get(paris).async_get_issue(DOMAIN, f"{Problem.QUOTA}_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    until = datetime.fromisoformat(issue.translation_placeholders["until"])
    assert until.year == dt_util.now().year


async def test_far_back_off_stored_by_an_older_version_ends_within_a_day(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """An entry whose store says "nothing before 2126" (saved before the cap) calls again a
    day after the start."""
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim, PRM)
    hass_storage[f"{DOMAIN}.linky.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.linky.{entry.entry_id}",
        "data": {"backoff_until": "2126-01-01T00:00:00+00:00"},
    }
    entry.add_to_hass(paris)
    assert await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    coordinator: LinkyCoordinator = entry.runtime_data
    start = dt_util.utcnow()
    assert coordinator.state.backoff_until == start + CAP
    await step_runs(paris, freezer, coordinator, start + CAP - timedelta(seconds=1))
    assert conso_sim.calls == []
    await step_runs(paris, freezer, coordinator, start + CAP + HOUR)
    assert conso_sim.calls
    assert coordinator.last_update_success


async def test_token_expiring_in_year_9999(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A token whose `exp` is the last second of year 9999: the runs go on, no expiry issue,
    the sensor shows the date."""
    freezer.move_to(NOW)
    token = token_for(PRM, PROD_PRM, exp=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    entry = linky_entry(conso_sim, PRM, token=token)
    entry.add_to_hass(paris)
    assert await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    coordinator: LinkyCoordinator = entry.runtime_data
    assert coordinator.last_update_success, coordinator.last_exception
    assert coordinator.state.initialised
    issues = ir.async_get(paris)
    assert issues.async_get_issue(DOMAIN, f"{Problem.TOKEN_EXPIRING}_{entry.entry_id}") is None
    entity_id = er.async_get(paris).async_get_entity_id("sensor", DOMAIN, f"{PRM}_token_expiry")
    assert entity_id is not None
    state = paris.states.get(entity_id)
    assert state is not None
    assert state.state == "9999-12-31T23:59:59+00:00"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirect_never_carries_the_token_elsewhere(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    elsewhere: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    status: int,
) -> None:
    """Conso API answers with a redirect to another origin: nothing reaches it, the run
    fails with a translated "redirected" error and backs off."""
    freezer.move_to(NOW)
    conso_sim.redirect_to, conso_sim.redirect_status = elsewhere.url, status  # type: ignore[attr-defined]
    entry, coordinator = await setup_linky(paris, conso_sim, PRM)
    assert entry.state is ConfigEntryState.LOADED
    start = dt_util.utcnow()
    await step_runs(paris, freezer, coordinator, start + timedelta(days=1))
    assert elsewhere.calls == []
    assert {c.status for c in conso_sim.calls} == {status}
    assert failure(coordinator).translation_key == "redirected"
    assert len(conso_sim.calls) <= 6


@pytest.mark.usefixtures("no_setup")
async def test_config_flow_refuses_a_redirect(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    elsewhere: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    conso_sim.redirect_to = elsewhere.url  # type: ignore[attr-defined]
    result = await paris.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "linky"}
    )
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: token_for(PRM), "advanced": {CONF_API_URL: conso_sim.base_url}},  # type: ignore[attr-defined]
    )
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: [PRM]})
    assert result["errors"] == {"base": "redirected"}
    assert elsewhere.calls == []
