"""Options flow: the tariff of an entry, its feed-in price, its removal, and the form errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_climkit.const import (
    CONF_PASSWORD,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SITE_ID,
    CONF_TOKEN,
    CONF_USERNAME,
    DOMAIN,
    PROVIDER_CLIMKIT,
    PROVIDER_LINKY,
)
from custom_components.linky_climkit.tariffs.engine import TariffKind
from custom_components.linky_climkit.tariffs.stored import tariff_from_options
from tests.conftest import NOW, PRM

pytestmark = pytest.mark.usefixtures("recorder_mock", "no_setup")

FIRST_OF_MONTH = NOW.date().replace(day=1).isoformat()
TEMPO_PRICES = {
    "blue_hp": 0.1609,
    "blue_hc": 0.1296,
    "white_hp": 0.1894,
    "white_hc": 0.1486,
    "red_hp": 0.7562,
    "red_hc": 0.1568,
}
HP_HC_INPUT = {
    "currency": "EUR",
    "hp_price": 0.27,
    "hc_price": 0.2068,
    "off_peak": "22:08-06:08",
    "start": "2026-02-01",
    "subscription": 15.65,
    "subscription_yearly": False,
}
STORED: dict[str, Any] = {
    "kind": "hp_hc",
    "currency": "EUR",
    "periods": [
        {
            "start": "2026-02-01",
            "base_price": 0.0,
            "hp_price": 0.27,
            "hc_price": 0.2068,
            "tempo_prices": {},
            "subscription": 15.65,
            "subscription_per": "month",
        }
    ],
    "off_peak": [
        {"start": "00:00", "end": "12:00", "weekdays": [5, 6]},
        {"start": "12:00", "end": "00:00", "weekdays": [5, 6]},
        {"start": "22:08", "end": "06:08", "weekdays": [0, 1, 2, 3]},
    ],
    "tempo_entity": None,
    "price_entity": None,
    "feed_in": [{"start": "2026-01-01", "price": 0.1269}],
}


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    """20 November 2026: new prices default to 1 November."""
    freezer.move_to(NOW)


def add_linky(hass: HomeAssistant, options: dict[str, Any] | None = None) -> MockConfigEntry:
    """A Linky entry added but not set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {PRM}",
        unique_id=PRM,
        data={CONF_PROVIDER: PROVIDER_LINKY, CONF_TOKEN: "token", CONF_PRM: PRM},
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


def add_climkit(hass: HomeAssistant, options: dict[str, Any] | None = None) -> MockConfigEntry:
    """A Climkit entry added but not set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Climkit site",
        unique_id="site",
        data={
            CONF_PROVIDER: PROVIDER_CLIMKIT,
            CONF_USERNAME: "user",
            CONF_PASSWORD: "pw",
            CONF_SITE_ID: "site",
        },
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


async def open_menu(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "init"
    return dict(result)


async def open_prices(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> dict[str, Any]:
    """Menu → tariff → prices_<kind>."""
    result = await open_menu(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "tariff"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        "prices_base",
        "prices_hp_hc",
        "prices_tempo",
        "prices_dynamic",
    ]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": f"prices_{kind}"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == f"prices_{kind}"
    return dict(result)


async def submit(
    hass: HomeAssistant, result: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    return dict(await hass.config_entries.options.async_configure(result["flow_id"], data))


def form_values(result: dict[str, Any]) -> dict[str, Any]:
    """What the form shows: suggested values, else defaults."""
    values: dict[str, Any] = {}
    for key in result["data_schema"].schema:
        if key.description and "suggested_value" in key.description:
            values[str(key)] = key.description["suggested_value"]
        elif callable(key.default):
            values[str(key)] = key.default()
    return values


def fields(result: dict[str, Any]) -> list[str]:
    return [str(key) for key in result["data_schema"].schema]


# ---- menus --------------------------------------------------------------------------------


async def test_menu_linky_without_production(paris: HomeAssistant) -> None:
    """No feed-in for a consumption-only meter, nothing to remove without a tariff."""
    result = await open_menu(paris, add_linky(paris))
    assert result["menu_options"] == ["tariff"]


async def test_menu_linky_producing(paris: HomeAssistant) -> None:
    """A loaded Linky entry whose meter produces offers the feed-in price."""
    entry = add_linky(paris, {"tariff": {**STORED, "feed_in": []}})
    entry.runtime_data = SimpleNamespace(state=SimpleNamespace(production=True))
    result = await open_menu(paris, entry)
    assert result["menu_options"] == ["tariff", "feed_in", "clear_tariff"]


async def test_menu_linky_with_stored_feed_in(paris: HomeAssistant) -> None:
    """Not loaded, but a feed-in price is already set: it stays editable."""
    result = await open_menu(paris, add_linky(paris, {"tariff": STORED}))
    assert result["menu_options"] == ["tariff", "feed_in", "clear_tariff"]


async def test_menu_climkit(paris: HomeAssistant) -> None:
    result = await open_menu(paris, add_climkit(paris))
    assert result["menu_options"] == ["tariff", "feed_in", "site_sensors"]


# ---- prices -------------------------------------------------------------------------------


async def test_base_prices(paris: HomeAssistant) -> None:
    """First tariff: defaults (EUR, 1st of the month, no fee), then stored with other options."""
    entry = add_linky(paris, {"unrelated": 1})
    result = await open_prices(paris, entry, "base")
    assert fields(result) == [
        "currency",
        "base_price",
        "start",
        "subscription",
        "subscription_yearly",
    ]
    assert form_values(result) == {
        "currency": "EUR",
        "start": FIRST_OF_MONTH,
        "subscription": 0.0,
        "subscription_yearly": False,
    }
    result = await submit(
        paris,
        result,
        {
            "currency": " eur ",
            "base_price": 0.2516,
            "start": "2025-01-01",
            "subscription": 180,
            "subscription_yearly": True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "unrelated": 1,
        "tariff": {
            "kind": "base",
            "currency": "EUR",
            "periods": [
                {
                    "start": "2025-01-01",
                    "base_price": 0.2516,
                    "hp_price": 0.0,
                    "hc_price": 0.0,
                    "tempo_prices": {},
                    "subscription": 180.0,
                    "subscription_per": "year",
                }
            ],
            "off_peak": [],
            "tempo_entity": None,
            "price_entity": None,
            "feed_in": [],
        },
    }
    tariff = tariff_from_options(entry.options)
    assert tariff is not None
    assert tariff.periods[0].kind is TariffKind.BASE


async def test_blank_currency_keeps_default(paris: HomeAssistant) -> None:
    entry = add_climkit(paris)
    result = await open_prices(paris, entry, "base")
    assert form_values(result)["currency"] == "CHF"
    result = await submit(
        paris,
        result,
        {
            "currency": " ",
            "base_price": 0.3,
            "start": "2026-01-01",
            "subscription": 0,
            "subscription_yearly": False,
        },
    )
    assert entry.options["tariff"]["currency"] == "CHF"


async def test_hp_hc_prices(paris: HomeAssistant) -> None:
    """Default off-peak hours 22:00-06:00; the ranges entered are stored for every period."""
    entry = add_linky(paris)
    result = await open_prices(paris, entry, "hp_hc")
    assert fields(result) == [
        "currency",
        "hp_price",
        "hc_price",
        "off_peak",
        "start",
        "subscription",
        "subscription_yearly",
    ]
    assert form_values(result)["off_peak"] == "22:00-06:00"
    result = await submit(
        paris, result, {**HP_HC_INPUT, "off_peak": "mon-thu 22:08-06:08\nsam,dim 00:00-24:00"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = entry.options["tariff"]
    assert stored["kind"] == "hp_hc"
    assert stored["off_peak"] == [
        {"start": "22:08", "end": "06:08", "weekdays": [0, 1, 2, 3]},
        {"start": "00:00", "end": "12:00", "weekdays": [5, 6]},
        {"start": "12:00", "end": "00:00", "weekdays": [5, 6]},
    ]
    assert stored["periods"] == STORED["periods"]


async def test_stored_values_are_the_form_defaults(paris: HomeAssistant) -> None:
    """Editing shows the latest prices and the stored ranges as text; start is the 1st."""
    entry = add_linky(paris, {"tariff": STORED})
    result = await open_prices(paris, entry, "hp_hc")
    assert form_values(result) == {
        "currency": "EUR",
        "hp_price": 0.27,
        "hc_price": 0.2068,
        "off_peak": "sat,sun 00:00-24:00\nmon-thu 22:08-06:08",
        "start": FIRST_OF_MONTH,
        "subscription": 15.65,
        "subscription_yearly": False,
    }


async def test_price_change_from_a_date(paris: HomeAssistant) -> None:
    """A new price from 1 August keeps February's; a date far back corrects every price."""
    entry = add_linky(paris, {"tariff": STORED})
    result = await open_prices(paris, entry, "hp_hc")
    values = {**form_values(result), "hp_price": 0.2946, "start": "2026-08-01"}
    result = await submit(paris, result, values)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    periods = entry.options["tariff"]["periods"]
    assert [(p["start"], p["hp_price"]) for p in periods] == [
        ("2026-02-01", 0.27),
        ("2026-08-01", 0.2946),
    ]
    assert entry.options["tariff"]["off_peak"] == STORED["off_peak"]
    assert entry.options["tariff"]["feed_in"] == STORED["feed_in"]

    result = await open_prices(paris, entry, "hp_hc")
    result = await submit(paris, result, {**form_values(result), "start": "2020-01-01"})
    periods = entry.options["tariff"]["periods"]
    assert [(p["start"], p["hp_price"]) for p in periods] == [("2020-01-01", 0.2946)]


async def test_other_kind_replaces_prices(paris: HomeAssistant) -> None:
    """Switching to base drops the HP/HC periods and ranges but keeps feed-in."""
    entry = add_linky(paris, {"tariff": STORED})
    result = await open_prices(paris, entry, "base")
    assert "base_price" not in form_values(result)
    result = await submit(
        paris,
        result,
        {
            "currency": "EUR",
            "base_price": 0.25,
            "start": "2026-11-01",
            "subscription": 0,
            "subscription_yearly": False,
        },
    )
    stored = entry.options["tariff"]
    assert stored["kind"] == "base"
    assert [p["start"] for p in stored["periods"]] == ["2026-11-01"]
    assert stored["off_peak"] == []
    assert stored["feed_in"] == STORED["feed_in"]


async def test_tempo_prices(paris: HomeAssistant) -> None:
    """Six prices and a colour entity; empty off-peak hours mean Tempo's own."""
    paris.states.async_set("sensor.rte_tempo_couleur_actuelle", "Bleu")
    entry = add_linky(paris)
    result = await open_prices(paris, entry, "tempo")
    assert fields(result) == [
        "currency",
        *TEMPO_PRICES,
        "tempo_entity",
        "off_peak",
        "start",
        "subscription",
        "subscription_yearly",
    ]
    assert form_values(result)["off_peak"] == ""
    data = {
        **TEMPO_PRICES,
        "tempo_entity": "sensor.rte_tempo_couleur_actuelle",
        "start": "2025-09-01",
        "subscription": 16.16,
        "subscription_yearly": False,
    }
    result = await submit(paris, result, data)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = entry.options["tariff"]
    assert stored["kind"] == "tempo"
    assert stored["tempo_entity"] == "sensor.rte_tempo_couleur_actuelle"
    assert stored["off_peak"] == []
    assert stored["periods"][0]["tempo_prices"] == TEMPO_PRICES
    tariff = tariff_from_options(entry.options)
    assert tariff is not None
    assert tariff.periods[0].tempo_prices == TEMPO_PRICES

    # Editing shows the stored entity; explicit off-peak hours are kept.
    result = await open_prices(paris, entry, "tempo")
    values = form_values(result)
    assert values["tempo_entity"] == "sensor.rte_tempo_couleur_actuelle"
    assert values["red_hp"] == 0.7562
    result = await submit(paris, result, {**values, "off_peak": "23:00-07:00"})
    assert entry.options["tariff"]["off_peak"] == [
        {"start": "23:00", "end": "07:00", "weekdays": [0, 1, 2, 3, 4, 5, 6]}
    ]
    result = await open_prices(paris, entry, "tempo")
    assert form_values(result)["off_peak"] == "23:00-07:00"


async def test_dynamic_prices(paris: HomeAssistant) -> None:
    """A price entity in €/MWh is accepted; the subscription still applies."""
    paris.states.async_set("sensor.spot_price", "95.2", {"unit_of_measurement": "€/MWh"})
    entry = add_linky(paris)
    result = await open_prices(paris, entry, "dynamic")
    assert fields(result) == [
        "currency",
        "price_entity",
        "start",
        "subscription",
        "subscription_yearly",
    ]
    result = await submit(
        paris,
        result,
        {
            "price_entity": "sensor.spot_price",
            "start": "2026-11-01",
            "subscription": 12.0,
            "subscription_yearly": False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = entry.options["tariff"]
    assert stored["kind"] == "dynamic"
    assert stored["price_entity"] == "sensor.spot_price"
    assert stored["periods"][0]["subscription"] == 12.0
    result = await open_prices(paris, entry, "dynamic")
    assert form_values(result)["price_entity"] == "sensor.spot_price"


# ---- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("off_peak", "error"),
    [
        ("22:00 to 06:00", "invalid_range"),
        ("", "invalid_range"),
        ("06:00-06:00", "empty_range"),
        ("22:00-06:00\n05:00-07:00", "overlapping_ranges"),
        ("fri 22:00-06:00, sat 00:00-24:00", "overlapping_ranges"),
    ],
)
async def test_off_peak_errors(paris: HomeAssistant, off_peak: str, error: str) -> None:
    """Unreadable, empty or overlapping ranges: the form again, with what was typed."""
    entry = add_linky(paris)
    result = await open_prices(paris, entry, "hp_hc")
    result = await submit(paris, result, {**HP_HC_INPUT, "off_peak": off_peak})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert form_values(result)["off_peak"] == off_peak
    assert form_values(result)["start"] == "2026-02-01"
    result = await submit(paris, result, HP_HC_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_tempo_off_peak_error(paris: HomeAssistant) -> None:
    paris.states.async_set("select.tempo", "blue")
    result = await open_prices(paris, add_linky(paris), "tempo")
    data = {**TEMPO_PRICES, "tempo_entity": "select.tempo", "off_peak": "late"}
    result = await submit(paris, result, {**data, "start": "2026-01-01"})
    assert result["errors"] == {"base": "invalid_range"}


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("base", {"base_price": -0.1}),
        ("hp_hc", {"hp_price": 0.27, "hc_price": -0.2, "off_peak": "22:00-06:00"}),
        ("tempo", {**TEMPO_PRICES, "red_hp": -1.0, "tempo_entity": "sensor.tempo"}),
    ],
)
async def test_negative_price(paris: HomeAssistant, kind: str, data: dict[str, Any]) -> None:
    paris.states.async_set("sensor.tempo", "blue")
    entry = add_linky(paris)
    result = await open_prices(paris, entry, kind)
    result = await submit(paris, result, {**data, "start": "2026-01-01"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "negative_price"}
    assert "tariff" not in entry.options


async def test_tempo_unknown_entity(paris: HomeAssistant) -> None:
    result = await open_prices(paris, add_linky(paris), "tempo")
    data = {**TEMPO_PRICES, "tempo_entity": "sensor.no_such_tempo", "start": "2026-01-01"}
    result = await submit(paris, result, data)
    assert result["errors"] == {"base": "unknown_entity"}
    assert form_values(result)["tempo_entity"] == "sensor.no_such_tempo"


@pytest.mark.parametrize(
    ("entity_id", "attributes", "error"),
    [
        ("sensor.missing", None, "unknown_entity"),
        ("sensor.energy", {"unit_of_measurement": "kWh"}, "unit_not_supported"),
        ("input_number.price", {}, "unit_not_supported"),
        ("number.price", {"unit_of_measurement": "c€/kWh"}, None),
        ("input_number.price", {"unit_of_measurement": "Rp./kWh"}, None),
    ],
)
async def test_dynamic_entity_checks(
    paris: HomeAssistant, entity_id: str, attributes: dict[str, Any] | None, error: str | None
) -> None:
    """The entity must exist and give a price per kWh or MWh."""
    if attributes is not None:
        paris.states.async_set(entity_id, "1", attributes)
    entry = add_climkit(paris)
    result = await open_prices(paris, entry, "dynamic")
    result = await submit(paris, result, {"price_entity": entity_id, "start": "2026-01-01"})
    if error is None:
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.options["tariff"]["price_entity"] == entity_id
        assert entry.options["tariff"]["currency"] == "CHF"
    else:
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": error}


# ---- feed-in and removal ------------------------------------------------------------------


async def test_feed_in_without_tariff(paris: HomeAssistant) -> None:
    """A Climkit site can set a feed-in price first: a tariff with no consumption period."""
    entry = add_climkit(paris)
    result = await open_menu(paris, entry)
    result = await submit(paris, result, {"next_step_id": "feed_in"})
    assert result["step_id"] == "feed_in"
    assert fields(result) == ["feed_in_price", "start"]
    assert form_values(result) == {"start": FIRST_OF_MONTH}
    result = await submit(paris, result, {"feed_in_price": 0.08, "start": "2026-01-01"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = entry.options["tariff"]
    assert stored["kind"] == "base"
    assert stored["currency"] == "CHF"
    assert stored["periods"] == []
    assert stored["feed_in"] == [{"start": "2026-01-01", "price": 0.08}]
    tariff = tariff_from_options(entry.options)
    assert tariff is not None
    assert tariff.periods == ()


async def test_feed_in_change_from_a_date(paris: HomeAssistant) -> None:
    """A new feed-in price from 1 July keeps January's; the consumption prices are kept."""
    entry = add_linky(paris, {"tariff": STORED})
    result = await open_menu(paris, entry)
    result = await submit(paris, result, {"next_step_id": "feed_in"})
    assert form_values(result) == {"start": FIRST_OF_MONTH, "feed_in_price": 0.1269}
    result = await submit(paris, result, {"feed_in_price": -0.01, "start": "2026-07-01"})
    assert result["errors"] == {"base": "negative_price"}
    assert form_values(result) == {"start": "2026-07-01", "feed_in_price": -0.01}
    result = await submit(paris, result, {"feed_in_price": 0.04, "start": "2026-07-01"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = entry.options["tariff"]
    assert stored["feed_in"] == [
        {"start": "2026-01-01", "price": 0.1269},
        {"start": "2026-07-01", "price": 0.04},
    ]
    assert stored["periods"] == STORED["periods"]


async def test_clear_tariff(paris: HomeAssistant) -> None:
    """After a confirmation the tariff is gone (no cost any more); other options stay."""
    entry = add_linky(paris, {"tariff": STORED, "unrelated": 1})
    result = await open_menu(paris, entry)
    result = await submit(paris, result, {"next_step_id": "clear_tariff"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "clear_tariff"
    assert fields(result) == []
    result = await submit(paris, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"unrelated": 1}
    assert tariff_from_options(entry.options) is None
    result = await open_menu(paris, entry)
    assert result["menu_options"] == ["tariff"]
