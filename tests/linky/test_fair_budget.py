"""Fault injection against the shared Conso API budget: one Linky entry meets every provider
error class (and a bug of ours) for 3 simulated days from its first import on, while another
entry of the same Home Assistant stays healthy.

Every call is counted where it is paid for (the budget's spend, which precedes each call):
in any 12 hours the entries together never take the config flow's reserve, the failing
entry spends a handful of calls, and the healthy entry's daily sync happens every day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_climkit.const import CONF_API_URL
from custom_components.linky_climkit.linky.budget import FLOW_RESERVE, HARD_CAP, Priority
from custom_components.linky_climkit.linky.budget_store import BudgetManager, async_get_budget
from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.linky.plan import daily_calls
from custom_components.linky_climkit.providers.conso_api import ConsoApiClient
from tests.conftest import NOW, PRM, PROD_PRM, linky_entry
from tests.helpers.time_travel import advance, most_in_window, setup_linky
from tests.simulators.conso_api import PARIS, ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock")

FAILING = PROD_PRM  # a meter that also produces: the most calls a day
DAYS = 3
HANDFUL = 5  # calls per 12 h a failing entry may spend

# One simulator fault per provider error class (and the class it becomes).
FAULTS = {
    "AuthError": "unauthorized",
    "NotAuthorisedError": "no_consent",
    "NoDataError": "no_data",
    "HistoryLimitError": "history_limit",
    "QuotaError": "quota_900807",
    "QuotaError far retry": "quota_900804",
    "BlockedError": "cloudflare_403",
    "UpstreamError": "technical_error",
    "InvalidResponseError": "truncated_json",
    "RequestError": "bad_request",
    "RedirectError": "redirect",
}
# What the failing entry may spend per 12 h: the service answered "nothing there", which is
# not a failure: the entry goes on (its daily ladder, the gaps it fills from what is left).
ANSWERS = {"NoDataError": 8, "HistoryLimitError": 8}
CASES = [*FAULTS, "ProviderConnectionError", "unexpected exception"]


@pytest.fixture
def spends(paris: HomeAssistant) -> Iterator[list[tuple[datetime, str]]]:
    """Every call paid for: when, by which entry."""
    recorded: list[tuple[datetime, str]] = []
    spend = BudgetManager.async_spend

    async def recording(self: BudgetManager, priority: Priority, owner: str = "") -> None:
        await spend(self, priority, owner)
        recorded.append((dt_util.utcnow(), owner))

    with patch.object(BudgetManager, "async_spend", recording):
        yield recorded


def failing_entry(sim: ConsoApiSimulator, case: str, dead_url: str) -> MockConfigEntry:
    entry = linky_entry(sim, FAILING)
    if case == "ProviderConnectionError":
        data = {**entry.data, CONF_API_URL: dead_url}
        entry = MockConfigEntry(
            domain=entry.domain, title=entry.title, unique_id=entry.unique_id, data=data
        )
    return entry


@pytest.mark.parametrize("case", CASES)
async def test_a_failing_entry_never_starves_another(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    spends: list[tuple[datetime, str]],
    unused_tcp_port_factory: Any,
    case: str,
) -> None:
    freezer.move_to(NOW - timedelta(days=1))
    _healthy_entry, healthy = await setup_linky(paris, conso_sim, PRM)
    assert healthy.state.initialised
    await advance(paris, freezer, [healthy], NOW)

    if case in FAULTS:
        conso_sim.add_fault(FAULTS[case], prms={FAILING})
    if case == "QuotaError far retry":
        conso_sim.next_access_time = "9999-Dec-31 23:59:59+0000 UTC"
    dead_url = f"http://127.0.0.1:{unused_tcp_port_factory()}/api"
    real_fetch = ConsoApiClient.fetch

    async def buggy_fetch(self: ConsoApiClient, type_: Any, prm: str, *args: Any) -> Any:
        if prm == FAILING:
            raise RuntimeError("a bug")
        return await real_fetch(self, type_, prm, *args)

    with patch.object(
        ConsoApiClient, "fetch", buggy_fetch if case == "unexpected exception" else real_fetch
    ):
        entry = failing_entry(conso_sim, case, dead_url)
        entry.add_to_hass(paris)
        assert await paris.config_entries.async_setup(entry.entry_id)
        await paris.async_block_till_done(wait_background_tasks=True)
        failing: LinkyCoordinator = entry.runtime_data
        coordinators = [healthy, failing]
        for day in range(1, DAYS + 1):
            noon = (NOW + timedelta(days=day)).astimezone(PARIS).replace(hour=12, minute=0)
            await advance(paris, freezer, coordinators, noon)
            assert healthy.have_yesterday(), f"day {day}: the healthy entry's sync did not happen"
            assert healthy.last_update_success
        await advance(paris, freezer, coordinators, NOW + timedelta(days=DAYS, hours=12))

    owner = {healthy.config_entry.entry_id: "healthy", entry.entry_id: "failing"}
    entries = [at for at, who in spends if who in owner]
    of_failing = [at for at, who in spends if owner.get(who) == "failing"]
    # The entries together never take the config flow's reserve...
    assert most_in_window(entries) <= HARD_CAP - FLOW_RESERVE
    budget = await async_get_budget(paris)
    assert budget.available(Priority.FLOW) >= 1
    # ...and a failing entry spends a handful of calls in any 12 hours.
    assert of_failing, "the failing entry never called"
    assert most_in_window(of_failing) <= ANSWERS.get(case, HANDFUL), (case, len(of_failing))
    if case == "AuthError":  # nothing is called again until the user gives a new token
        assert len(of_failing) == 1


async def test_an_entry_spending_all_it_may_leaves_the_others_sync_and_the_flow(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Another entry takes every call it may (a bug, a storm of retries): the healthy entry's
    share and the config flow's reserve are still there."""
    freezer.move_to(NOW - timedelta(days=1))
    _, healthy = await setup_linky(paris, conso_sim, PRM)
    _, other = await setup_linky(paris, conso_sim, FAILING)
    morning = NOW.replace(hour=6, minute=0)
    await advance(paris, freezer, [healthy, other], morning)
    taken = 0
    while other.budget.available(Priority.DAILY):
        await other.budget.async_spend(Priority.DAILY)
        taken += 1
    assert taken > 0
    budget = await async_get_budget(paris)
    assert budget.available(Priority.FLOW) >= FLOW_RESERVE
    assert healthy.budget.available(Priority.DAILY) >= daily_calls(producing=False)
    await advance(paris, freezer, [healthy, other], NOW.replace(hour=12, minute=0))
    assert healthy.have_yesterday()
    assert budget.available(Priority.FLOW) >= 1
