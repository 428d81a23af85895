"""Config flow for Climkit: credentials, sites, errors, reauth and reconfigure."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.linky_climkit.const import (
    CONF_API_URL,
    CONF_PASSWORD,
    CONF_PROVIDER,
    CONF_SITE_ID,
    CONF_USERNAME,
    DOMAIN,
    PROVIDER_CLIMKIT,
)
from tests.conftest import CH_NOW, climkit_entry
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator, demo_site

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer", "no_setup")
OTHER_SITE = "65f0a1b2c3d4e5f6071829ff"


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    """A fixed moment."""
    freezer.move_to(CH_NOW)


@pytest.fixture
async def two_sites(socket_enabled: None) -> Any:
    """An account with two sites."""
    sim = ClimkitSimulator(
        [demo_site(), demo_site(OTHER_SITE, name="Les Tilleuls", water=False, heat=False)],
        installations_mode="objects",
    )
    await sim.start()
    yield sim
    await sim.stop()


async def submit(
    hass: HomeAssistant, sim: ClimkitSimulator, password: str | None = None, url: str | None = None
) -> dict[str, Any]:
    """Menu → Climkit → credentials."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "climkit"}
    )
    assert result["step_id"] == "climkit"
    return dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_USERNAME: f" {sim.username} ",
                CONF_PASSWORD: password or sim.password,
                "advanced": {CONF_API_URL: url or sim.base_url},
            },
        )
    )


async def test_two_sites_two_entries(hass: HomeAssistant, two_sites: ClimkitSimulator) -> None:
    """Sites are offered by name; each chosen site becomes an entry."""
    result = await submit(hass, two_sites)
    assert result["step_id"] == "sites"
    options = result["data_schema"].schema["sites"].config["options"]
    assert {o["label"] for o in options} == {"Résidence du Lac", "Les Tilleuls"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"sites": [DEMO_SITE_ID, OTHER_SITE]}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entries = {e.unique_id: e for e in hass.config_entries.async_entries(DOMAIN)}
    assert set(entries) == {DEMO_SITE_ID, OTHER_SITE}
    assert entries[OTHER_SITE].title == "Climkit Les Tilleuls"
    data = entries[DEMO_SITE_ID].data
    assert data[CONF_PROVIDER] == PROVIDER_CLIMKIT
    assert data[CONF_USERNAME] == two_sites.username
    assert data[CONF_SITE_ID] == DEMO_SITE_ID
    assert data[CONF_API_URL] == two_sites.base_url


async def test_no_site_selected_then_already_configured(
    hass: HomeAssistant, two_sites: ClimkitSimulator
) -> None:
    """An empty choice is refused; configured sites are not offered again."""
    climkit_entry(two_sites, DEMO_SITE_ID).add_to_hass(hass)
    result = await submit(hass, two_sites)
    options = result["data_schema"].schema["sites"].config["options"]
    assert [o["value"] for o in options] == [OTHER_SITE]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"sites": []})
    assert result["errors"] == {"base": "no_site_selected"}
    climkit_entry(two_sites, OTHER_SITE).add_to_hass(hass)
    result = await submit(hass, two_sites)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_errors(hass: HomeAssistant, two_sites: ClimkitSimulator) -> None:
    """Bad credentials, unreachable service, failing service, no site."""
    result = await submit(hass, two_sites, password="wrong")
    assert result["errors"] == {"base": "invalid_auth"}
    result = await submit(hass, two_sites, url="http://127.0.0.1:9/api/v1")
    assert result["errors"] == {"base": "cannot_connect"}
    two_sites.add_fault("server_error")
    result = await submit(hass, two_sites)
    assert result["errors"] == {"base": "service_error"}
    two_sites.clear_faults()
    for site in two_sites.sites.values():
        site.owned = False
    result = await submit(hass, two_sites)
    assert result["errors"] == {"base": "no_site"}


async def test_reauth(hass: HomeAssistant, two_sites: ClimkitSimulator) -> None:
    """A new password is checked against the account and the entry's site."""
    entry = climkit_entry(two_sites, DEMO_SITE_ID)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: two_sites.username, CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    two_sites.sites[DEMO_SITE_ID].owned = False
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: two_sites.username, CONF_PASSWORD: two_sites.password}
    )
    assert result["errors"] == {"base": "site_not_found"}
    two_sites.sites[DEMO_SITE_ID].owned = True
    two_sites.password = "n3w-s3cret"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: two_sites.username, CONF_PASSWORD: "n3w-s3cret"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == "n3w-s3cret"


async def test_reconfigure(hass: HomeAssistant, two_sites: ClimkitSimulator) -> None:
    """Reconfigure changes the credentials and the URL."""
    entry = climkit_entry(two_sites, OTHER_SITE)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_USERNAME: two_sites.username,
            CONF_PASSWORD: two_sites.password,
            "advanced": {CONF_API_URL: two_sites.base_url + "/"},
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_API_URL] == two_sites.base_url
