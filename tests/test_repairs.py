"""Repair issues appear with their cause and disappear by themselves when it is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.linky_climkit.const import CONF_TOKEN, DOMAIN
from tests.conftest import CH_NOW, NOW, PRM, PROD_PRM, climkit_entry, linky_entry, token_for
from tests.helpers.time_travel import advance, setup_linky
from tests.simulators.climkit import ClimkitSimulator
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile

pytestmark = pytest.mark.usefixtures("recorder_mock")


def active(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    """The integration's issues, by kind (the entry id suffix removed)."""
    registry = ir.async_get(hass)
    return {
        issue_id.rsplit("_", 1)[0]: issue
        for (domain, issue_id), issue in registry.issues.items()
        if domain == DOMAIN
    }


async def test_token_expiring_soon(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A token expiring within 30 days raises a warning with the date; none otherwise."""
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim, PRM, token=token_for(PRM, iat=NOW - timedelta(days=1080)))
    entry.add_to_hass(paris)
    assert await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    issue = active(paris)["token_expiring"]
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["date"] == (NOW + timedelta(days=14)).date().isoformat()
    assert set(active(paris)) == {"token_expiring"}


async def test_invalid_token_then_fixed(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 401 raises token_invalid; a new token and a good sync clear it."""
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(paris, conso_sim, PRM)
    conso_sim.add_fault("unauthorized")
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=1))
    assert active(paris)["token_invalid"].severity is ir.IssueSeverity.ERROR
    refused = [c for c in conso_sim.calls if c.status == 401]
    assert len(refused) == 1  # nothing more is tried with a refused token
    conso_sim.clear_faults()
    paris.config_entries.async_update_entry(entry, data={**entry.data, CONF_TOKEN: token_for(PRM)})
    assert await paris.config_entries.async_reload(entry.entry_id)
    coordinator = entry.runtime_data
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=2))
    assert "token_invalid" not in active(paris)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("not_titulaire", "prm_not_authorised"),
        ("quota_900807", "quota"),
        ("cloudflare_403", "blocked"),
    ],
)
async def test_transient_problems_clear_after_success(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    fault: str,
    kind: str,
) -> None:
    """Consent, quota and block problems are raised at the failing sync and cleared later."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    sync = (NOW + timedelta(days=1)).replace(hour=8, minute=30, second=18)
    await advance(paris, freezer, [coordinator], sync - timedelta(seconds=2))
    conso_sim.add_fault(fault, types={"consommation_quotidienne"}, remaining=1)
    await advance(paris, freezer, [coordinator], sync)
    issue = active(paris)[kind]
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["name"] == f"Linky {PRM}"
    if kind in ("quota", "blocked"):
        assert issue.translation_placeholders["until"]
    await advance(paris, freezer, [coordinator], sync + timedelta(days=2))
    assert kind not in active(paris)


async def test_production_consent_and_hourly_collection(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Production consent lost, and no hourly collection, each raise their issue."""
    await hass.config.async_set_time_zone("Europe/Paris")
    sim = ConsoApiSimulator([MeterProfile(PROD_PRM, has_production=True, hourly_since=None)])
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    try:
        freezer.move_to(NOW)
        _, coordinator = await setup_linky(hass, sim, PROD_PRM)
        assert coordinator.state.production is True
        sim.meters[PROD_PRM].production_consent = False
        await advance(hass, freezer, [coordinator], NOW + timedelta(days=1))
        assert {"production_not_authorised", "hourly_collection_disabled"} <= set(active(hass))
    finally:
        await sim.stop()


async def test_no_new_data_for_days(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Four days without publication raise no_new_data; it clears when the days come."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    for offset in range(5):
        conso_sim.late_days[NOW.date() + timedelta(days=offset)] = 6 - offset
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=5))
    issue = active(paris)["no_new_data"]
    assert issue.translation_placeholders is not None
    assert (
        issue.translation_placeholders["last_day"] == (NOW.date() - timedelta(days=1)).isoformat()
    )
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=7))
    assert "no_new_data" not in active(paris)


async def test_removing_an_entry_calls_nothing(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Removal makes no API call and removes the entry's issues."""
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim, PRM, token=token_for(PRM, iat=NOW - timedelta(days=1080)))
    entry.add_to_hass(paris)
    assert await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    calls = len(conso_sim.calls)
    assert active(paris)
    await paris.config_entries.async_remove(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    assert len(conso_sim.calls) == calls
    assert not active(paris)


@pytest.mark.usefixtures("fast_pacer")
async def test_climkit_credentials_rejected(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Rejected Climkit credentials raise climkit_auth; valid ones clear it."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    freezer.move_to(CH_NOW)
    entry = climkit_entry(climkit_sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    climkit_sim.password = "changed"
    climkit_sim.revoke_tokens()
    await advance(hass, freezer, [entry.runtime_data.coordinator], CH_NOW + timedelta(days=1))
    assert "climkit_auth" in active(hass)
    climkit_sim.password = entry.data["password"]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await advance(hass, freezer, [entry.runtime_data.coordinator], CH_NOW + timedelta(days=2))
    assert "climkit_auth" not in active(hass)
