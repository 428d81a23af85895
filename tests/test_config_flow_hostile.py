"""Config flow against hostile input: every text field of every flow ends in a translated form
error (or goes on), never in "Unknown error" (an exception escaping the step)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.linky_climkit.const import (
    CONF_API_URL,
    CONF_PASSWORD,
    CONF_PRM,
    CONF_TOKEN,
    CONF_USERNAME,
    DOMAIN,
)
from tests.conftest import NOW, PRM, climkit_entry, linky_entry, token_for
from tests.simulators.climkit import ClimkitSimulator
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator
from tests.simulators.conso_api import ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock", "no_setup", "fast_pacer")

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "linky_climkit" / "translations"
ERROR_KEYS = set(json.loads((TRANSLATIONS / "en.json").read_text())["config"]["error"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_with_payload(payload: bytes) -> str:
    """A JWT-shaped token (unsigned: the flow reads it without checking the signature)."""
    return f"{_b64(b'{"alg":"HS256"}')}.{_b64(payload)}.c2lnbmF0dXJl"


DEEP = b'{"sub":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
VALID = token_for(PRM, iat=NOW)
HOSTILE_TOKENS = {  # token -> the form error
    "inner-newline": (VALID[:30] + "\n" + VALID[30:], "token_characters"),
    "inner-crlf": (VALID[:30] + "\r\n" + VALID[30:], "token_characters"),
    "crlf-before-signature": (VALID[:-6] + "\r\n" + VALID[-6:], "token_characters"),
    "inner-space": (VALID[:30] + " " + VALID[30:], "token_characters"),
    "tab": (VALID[:30] + "\t" + VALID[30:], "token_characters"),
    "nul": (VALID[:30] + "\x00" + VALID[30:], "token_characters"),
    "line-separator": (VALID[:30] + "\u2028" + VALID[30:], "token_characters"),
    "two-tokens": (f"{VALID}\n{VALID}", "token_characters"),
    "deep-payload": (jwt_with_payload(DEEP), "invalid_token"),
    "deep-object": (jwt_with_payload(b'{"a":' * 50_000 + b"1" + b"}" * 50_000), "invalid_token"),
    # Read as "no expiry" and sent: the service refuses the (unsigned) token.
    "huge-exp": (
        jwt_with_payload(b'{"sub":["' + PRM.encode() + b'"],"exp":1e400}'),
        "invalid_auth",
    ),
    "long-exp": (
        jwt_with_payload(b'{"sub":["' + PRM.encode() + b'"],"exp":' + b"9" * 5000 + b"}"),
        "invalid_token",
    ),
    "nan-exp": (jwt_with_payload(b'{"sub":["' + PRM.encode() + b'"],"exp":NaN}'), "invalid_auth"),
    "not-utf8": (jwt_with_payload(b'{"sub":["\xff\xfe"]}'), "invalid_token"),
    "prm-with-newline": (jwt_with_payload(b'{"sub":["1234567\\n8901234"]}'), "invalid_prm"),
    "empty": ("   ", "invalid_token"),
    "huge": ("a." * 500_000 + "b", "invalid_token"),
}
HOSTILE_URLS = {
    "credentials": "http://user:pass@127.0.0.1:{port}/api",
    "user-only": "https://user@127.0.0.1:{port}/api",
    "ftp": "ftp://127.0.0.1:{port}/api",
    "javascript": "javascript:alert(1)",
    "no-scheme": "127.0.0.1:{port}/api",
    "no-host": "http:///api",
    "space-in-host": "http://127.0.0. 1:{port}/api",
    "space-in-path": "http://127.0.0.1:{port}/a pi",
    "inner-newline": "http://127.0.0.1:{port}/a\npi",
    "tab": "http://127.0.0.1:{port}\t/api",
    "crlf-inside": "http://127.0.0.1:{port}/\r\nX-Evil: 1/api",
    "nul": "http://127.0.0.1\x00:{port}/api",
    "bad-port": "http://127.0.0.1:99999/api",
    "port-text": "http://127.0.0.1:port/api",
    "broken-ipv6": "http://[::1/api",
    "bad-idna": "http://exa\u00e4mple..com/api",
    "empty-label": "http://127..0.1:{port}/api",
    "query": "http://127.0.0.1:{port}/api?pointId=1",
    "fragment": "http://127.0.0.1:{port}/api#x",
    "lone-surrogate": "http://127.0.0.1:{port}/a\ud800pi",
    "huge": "http://127.0.0.1:{port}/" + "a" * 100_000,
}


def assert_form_error(result: dict[str, Any]) -> None:
    """A form again, with errors the translations explain."""
    assert result["type"] is FlowResultType.FORM, result
    assert result["errors"], result
    assert set(result["errors"].values()) <= ERROR_KEYS, result["errors"]


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to(NOW)


async def open_step(hass: HomeAssistant, step: str) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["step_id"] == step
    return str(result["flow_id"])


async def linky_through_prms(hass: HomeAssistant, token: str, url: str) -> dict[str, Any]:
    """Token step, and the PRM step when the token step lets it through."""
    flow_id = await open_step(hass, "linky")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_TOKEN: token, "advanced": {CONF_API_URL: url}}
    )
    if result["type"] is FlowResultType.FORM and result["step_id"] == "prms":
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PRM: [PRM]})
    return dict(result)


@pytest.mark.parametrize(("token", "error"), HOSTILE_TOKENS.values(), ids=HOSTILE_TOKENS)
async def test_linky_hostile_token(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, token: str, error: str
) -> None:
    """A token is refused in the form, before any call unless it can be read."""
    result = await linky_through_prms(paris, token, conso_sim.base_url)
    assert_form_error(result)
    assert result["errors"] == {"base": error}
    assert (conso_sim.calls == []) is (error != "invalid_auth")


async def test_linky_url_and_token_are_stored_clean(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator
) -> None:
    """Whitespace around a pasted token or URL is dropped, and so is a trailing slash."""
    result = await linky_through_prms(paris, f" \r\n{VALID}\n", f"  {conso_sim.base_url}/\n")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TOKEN] == VALID
    assert result["data"][CONF_API_URL] == conso_sim.base_url


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS)
async def test_linky_hostile_url(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, url: str
) -> None:
    port = conso_sim.base_url.split(":")[2].split("/")[0]
    result = await linky_through_prms(paris, VALID, url.format(port=port))
    assert_form_error(result)
    assert result["errors"] == {"base": "invalid_url"}
    assert conso_sim.calls == []


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS)
async def test_linky_reconfigure_hostile_url(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, url: str
) -> None:
    entry = linky_entry(conso_sim, PRM)
    entry.add_to_hass(paris)
    result = await entry.start_reconfigure_flow(paris)
    port = conso_sim.base_url.split(":")[2].split("/")[0]
    result = await paris.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: VALID, "advanced": {CONF_API_URL: url.format(port=port)}}
    )
    assert_form_error(dict(result))
    assert result["errors"] == {"base": "invalid_url"}


@pytest.mark.parametrize(("token", "error"), HOSTILE_TOKENS.values(), ids=HOSTILE_TOKENS)
async def test_linky_reauth_hostile_token(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, token: str, error: str
) -> None:
    entry = linky_entry(conso_sim, PRM)
    entry.add_to_hass(paris)
    result = await entry.start_reauth_flow(paris)
    result = await paris.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: token})
    assert_form_error(dict(result))
    expected = "prm_not_in_token" if error == "invalid_prm" else error
    assert result["errors"] == {"base": expected}


HOSTILE_USERNAMES = {
    "newline": "cktDevUser_123\nX",
    "crlf": "cktDev\r\nUser_123",
    "nul": "cktDevUser_123\x00",
    "only-spaces": "   ",
    "huge": "u" * 100_000,
    "lone-surrogate": "ckt\ud800",
    "bidi-control": "ckt\u202eUser",
}
HOSTILE_PASSWORDS = {
    "newline": "s3cret\nX",
    "crlf": "s3\r\ncret",
    "nul": "s3cret\x00",
    "empty": "",
    "huge": "p" * 100_000,
    "lone-surrogate": "s3cret\udfff",
}


async def climkit_submit(
    hass: HomeAssistant, username: str, password: str, url: str
) -> dict[str, Any]:
    flow_id = await open_step(hass, "climkit")
    return dict(
        await hass.config_entries.flow.async_configure(
            flow_id,
            {CONF_USERNAME: username, CONF_PASSWORD: password, "advanced": {CONF_API_URL: url}},
        )
    )


@pytest.mark.parametrize("username", HOSTILE_USERNAMES.values(), ids=HOSTILE_USERNAMES)
async def test_climkit_hostile_username(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, username: str
) -> None:
    result = await climkit_submit(hass, username, climkit_sim.password, climkit_sim.base_url)
    assert_form_error(result)
    assert result["errors"] == {"base": "invalid_credentials"}
    assert climkit_sim.calls == []


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS.values(), ids=HOSTILE_PASSWORDS)
async def test_climkit_hostile_password(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, password: str
) -> None:
    result = await climkit_submit(hass, climkit_sim.username, password, climkit_sim.base_url)
    assert_form_error(result)
    assert result["errors"] == {"base": "invalid_credentials"}
    assert climkit_sim.calls == []


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS)
async def test_climkit_hostile_url(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, url: str
) -> None:
    port = climkit_sim.base_url.split(":")[2].split("/")[0]
    result = await climkit_submit(
        hass, climkit_sim.username, climkit_sim.password, url.format(port=port) + "/v1"
    )
    assert result["errors"] == {"base": "invalid_url"}
    assert_form_error(result)


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS)
async def test_climkit_reconfigure_hostile_url(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, url: str
) -> None:
    entry = climkit_entry(climkit_sim)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    port = climkit_sim.base_url.split(":")[2].split("/")[0]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_USERNAME: climkit_sim.username,
            CONF_PASSWORD: climkit_sim.password,
            "advanced": {CONF_API_URL: url.format(port=port)},
        },
    )
    assert result["errors"] == {"base": "invalid_url"}
    assert_form_error(dict(result))


HOSTILE_HOSTS = {
    "space": "my gateway",
    "inner-newline": "127.0.\n0.1",
    "crlf-inside": "127.0.\r\n0.1",
    "nul": "127.0.0.1\x00",
    "tab": "127.0.0.1\tx",
    "credentials": "user:pass@127.0.0.1",
    "bad-idna": "exa\u00e4mple..local",
    "umlaut": "g\u00e4teway.local",
    "ipv6-zone": "fe80::1%eth0",
    "empty-label": "gateway..local",
    "long-label": "a" * 64 + ".local",
    "too-long": ("a" * 60 + ".") * 5 + "local",
    "huge": "h" * 100_000,
    "broken-ipv6": "[::1",
    "bad-ipv6": "[::1::2]",
    "query": "127.0.0.1?x=1",
    "fragment": "127.0.0.1#x",
    "underscore-start": "-gateway.local",
    "lone-surrogate": "gate\ud800way",
    "percent": "gate%20way",
    "scheme-only": "http://",
}


@pytest.mark.parametrize("host", HOSTILE_HOSTS.values(), ids=HOSTILE_HOSTS)
async def test_gateway_hostile_host(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator, host: str
) -> None:
    flow_id = await open_step(hass, "climkit_gateway")
    result = dict(
        await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: host, CONF_PORT: gateway_sim.port}
        )
    )
    if result["type"] is FlowResultType.FORM and result["step_id"] == "gateway_meters":
        result = dict(
            await hass.config_entries.flow.async_configure(flow_id, {"electricity": "11"})
        )
    assert_form_error(result)
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    assert gateway_sim.calls == []
