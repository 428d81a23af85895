"""Config flow: menu, token, PRMs, validation errors, reauth and reconfigure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_climkit.const import (
    CONF_API_URL,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SYNC_OFFSET,
    CONF_TOKEN,
    DOMAIN,
    PROVIDER_LINKY,
)
from custom_components.linky_climkit.linky.budget import Priority
from custom_components.linky_climkit.linky.budget_store import async_get_budget
from custom_components.linky_climkit.providers.conso_api import DEFAULT_BASE_URL
from tests.conftest import NOW, PRM, PROD_PRM, linky_entry, token_for
from tests.simulators.conso_api import ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock", "no_setup")


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    """A fixed moment after the day's publication."""
    freezer.move_to(NOW)


async def start_linky(hass: HomeAssistant) -> dict[str, Any]:
    """Open the flow and choose Linky in the menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["linky", "climkit", "climkit_gateway"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "linky"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linky"
    return dict(result)


async def submit_token(hass: HomeAssistant, sim: ConsoApiSimulator, token: str) -> dict[str, Any]:
    """Enter a token with the simulator's URL."""
    result = await start_linky(hass)
    return dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TOKEN: token, "advanced": {CONF_API_URL: sim.base_url}}
        )
    )


async def test_two_prms_make_two_entries(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator
) -> None:
    """Both PRMs of the token are offered, validated with one call each, one entry each."""
    result = await submit_token(paris, conso_sim, token_for(PRM, PROD_PRM))
    assert result["step_id"] == "prms"
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PRM: [PRM, PROD_PRM]}
    )
    await paris.async_block_till_done(wait_background_tasks=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entries = paris.config_entries.async_entries(DOMAIN)
    assert sorted(e.unique_id or "" for e in entries) == sorted([PRM, PROD_PRM])
    for entry in entries:
        assert entry.title == f"Linky {entry.unique_id}"
        assert entry.data[CONF_PROVIDER] == PROVIDER_LINKY
        assert entry.data[CONF_API_URL] == conso_sim.base_url
        offset = entry.data[CONF_SYNC_OFFSET]
        assert 0 <= offset < 4 * 3600
        assert offset % 60
    assert sorted(c.params["pointId"] for c in conso_sim.calls) == sorted([PRM, PROD_PRM])
    assert (await async_get_budget(paris)).used() == 2


async def test_api_url_in_collapsed_section(paris: HomeAssistant) -> None:
    """The API URL sits in a collapsed "advanced" section, defaulting to the public service."""
    result = await start_linky(paris)
    keys = {str(k): k for k in result["data_schema"].schema}
    assert set(keys) == {CONF_TOKEN, "advanced"}
    advanced = result["data_schema"].schema[keys["advanced"]]
    assert advanced.options == {"collapsed": True}
    (url_key,) = advanced.schema.schema
    assert str(url_key) == CONF_API_URL
    assert url_key.default() == DEFAULT_BASE_URL


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("not-a-token", "invalid_token"),
        ("a.b.c", "invalid_token"),
        (token_for(PRM, iat=NOW - timedelta(days=1100)), "token_expired"),
        (token_for("1234", iat=NOW), "invalid_prm"),
    ],
)
async def test_token_errors(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, token: str, error: str
) -> None:
    """Tokens that cannot work are refused before any call."""
    result = await submit_token(paris, conso_sim, token)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert conso_sim.calls == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("unauthorized", "invalid_auth"),
        ("not_titulaire", "not_authorised"),
        ("no_consent", "not_authorised"),
        ("cloudflare_403", "blocked"),
        ("quota_900807", "quota"),
        ("technical_error", "service_error"),
        ("cloudflare_502_html", "service_error"),
        ("html_200", "service_error"),
    ],
)
async def test_prm_validation_errors(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, fault: str, error: str
) -> None:
    """Each provider error is a clear form error; fixing it lets the user go on."""
    result = await submit_token(paris, conso_sim, token_for(PRM))
    conso_sim.add_fault(fault, remaining=1)
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: [PRM]})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert result["description_placeholders"] == {"prm": PRM}
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: [PRM]})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_no_data_yet_is_accepted(paris: HomeAssistant, conso_sim: ConsoApiSimulator) -> None:
    """A PRM without published data yet (404) can still be added."""
    result = await submit_token(paris, conso_sim, token_for(PRM))
    conso_sim.add_fault("no_data", remaining=1)
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: [PRM]})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_cannot_connect(paris: HomeAssistant, conso_sim: ConsoApiSimulator) -> None:
    """An unreachable service is reported as such."""
    result = await start_linky(paris)
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: token_for(PRM), "advanced": {CONF_API_URL: "http://127.0.0.1:9/api"}},
    )
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: [PRM]})
    assert result["errors"] == {"base": "cannot_connect"}


async def test_no_prm_selected_and_budget(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator
) -> None:
    """An empty choice is refused; an exhausted budget refuses the validation call."""
    result = await submit_token(paris, conso_sim, token_for(PRM))
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: []})
    assert result["errors"] == {"base": "no_prm_selected"}
    budget = await async_get_budget(paris)
    while budget.available(Priority.FLOW):
        await budget.async_spend(Priority.FLOW)
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: [PRM]})
    assert result["errors"] == {"base": "budget_exhausted"}
    assert conso_sim.calls == []


async def test_already_configured(paris: HomeAssistant, conso_sim: ConsoApiSimulator) -> None:
    """Configured PRMs are not offered again; none left aborts."""
    linky_entry(conso_sim, PRM).add_to_hass(paris)
    result = await submit_token(paris, conso_sim, token_for(PRM, PROD_PRM))
    schema = result["data_schema"].schema
    assert next(iter(schema)).default() == [PROD_PRM]
    result = await submit_token(paris, conso_sim, token_for(PRM))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def start_reauth(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Open the reauth flow of an entry."""
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    return dict(result)


async def test_reauth(paris: HomeAssistant, conso_sim: ConsoApiSimulator) -> None:
    """The new token must list the PRM and be accepted by the service."""
    entry = linky_entry(conso_sim, PRM, token=token_for(PRM))
    entry.add_to_hass(paris)
    result = await start_reauth(paris, entry)
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: token_for(PROD_PRM)}
    )
    assert result["errors"] == {"base": "prm_not_in_token"}
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "garbage"}
    )
    assert result["errors"] == {"base": "invalid_token"}
    new_token = token_for(PRM, PROD_PRM)
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: new_token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == new_token


async def test_reconfigure(paris: HomeAssistant, conso_sim: ConsoApiSimulator) -> None:
    """Reconfigure changes the token and the URL after one validation call."""
    entry = linky_entry(conso_sim, PRM)
    entry.add_to_hass(paris)
    result = await entry.start_reconfigure_flow(paris)
    assert result["step_id"] == "reconfigure"
    conso_sim.add_fault("unauthorized", remaining=1)
    new_token = token_for(PRM)
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: new_token, "advanced": {CONF_API_URL: conso_sim.base_url + "/"}},
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOKEN: new_token, "advanced": {CONF_API_URL: conso_sim.base_url + "/"}},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_TOKEN] == new_token
    assert entry.data[CONF_API_URL] == conso_sim.base_url


async def test_an_url_that_is_not_conso_api_is_refused(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator
) -> None:
    """Another server at the API URL (plain-text 404s) is refused in the form, not accepted
    to spend the budget for ever; the same PRM is then accepted at the right URL."""
    result = await start_linky(paris)
    wrong = conso_sim.base_url.removesuffix("/api") + "/not-conso-api"
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: token_for(PRM), "advanced": {CONF_API_URL: wrong}}
    )
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_PRM: [PRM]})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_conso_api"}
    assert conso_sim.calls == []  # the simulator's router answered, not Conso API
    assert paris.config_entries.async_entries(DOMAIN) == []
