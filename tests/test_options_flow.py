"""Options flow: the tariff of an entry (off-peak ranges one per form), its feed-in price, its
removal, the form errors, and the gateway steps (a site's, a Gateway entry's)."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import probatio as vol
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_validation as cv
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_climkit.config_flow import LinkyClimkitConfigFlow
from custom_components.linky_climkit.const import (
    CONF_GATEWAY,
    CONF_METERS,
    CONF_PASSWORD,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SITE_ID,
    CONF_TOKEN,
    CONF_USERNAME,
    DOMAIN,
    PROVIDER_CLIMKIT,
    PROVIDER_GATEWAY,
    PROVIDER_LINKY,
)
from custom_components.linky_climkit.gateway.coordinator import gateway_settings, site_gateway
from custom_components.linky_climkit.gateway.options import GatewayOptionsFlow
from custom_components.linky_climkit.options_flow import WEEKDAYS, TariffOptionsFlow
from custom_components.linky_climkit.tariffs.engine import OffPeakRange, TariffKind
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
# Stored by the former off-peak text field (before the range forms) for "mon-thu 22:00-06:00",
# "fri 22:00-24:00", "sat,sun 00:00-24:00", "mon 00:00-06:00": weeknights and the whole
# weekend ("mon-fri 22:00-06:00" with "sat,sun 00:00-24:00" was refused, Friday night
# overlapping Saturday). The JSON that code saved, byte for byte.
LEGACY_OPTIONS_JSON = (
    '{"tariff": {"kind": "hp_hc", "currency": "EUR", "periods": [{"start": "2026-02-01", '
    '"base_price": 0.0, "hp_price": 0.27, "hc_price": 0.2068, "tempo_prices": {}, '
    '"subscription": 15.65, "subscription_per": "month"}], "off_peak": [{"start": "22:00", '
    '"end": "06:00", "weekdays": [0, 1, 2, 3]}, {"start": "22:00", "end": "00:00", '
    '"weekdays": [4]}, {"start": "00:00", "end": "12:00", "weekdays": [5, 6]}, '
    '{"start": "12:00", "end": "00:00", "weekdays": [5, 6]}, {"start": "00:00", '
    '"end": "06:00", "weekdays": [0]}], "tempo_entity": null, "price_entity": null, '
    '"feed_in": []}}'
)
ALL_DAYS = list(WEEKDAYS)
WEEKEND = ["sat", "sun"]
TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "linky_climkit" / "translations"
SITE_DATA = {
    CONF_PROVIDER: PROVIDER_CLIMKIT,
    CONF_USERNAME: "user",
    CONF_PASSWORD: "pw",
    CONF_SITE_ID: "site",
}
GATEWAY = {
    CONF_HOST: "192.168.1.20",
    CONF_PORT: 8080,
    CONF_METERS: [{"type": "electricity", "address": 11, "name": "Apt 1", "meter_id": "m11"}],
}


def r(start: str, end: str, days: list[str] | None = None, *, more: bool = False) -> dict[str, Any]:
    """One range form's input."""
    return {
        "start": start,
        "end": end,
        "weekdays": ALL_DAYS if days is None else days,
        "add_range": more,
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


def add_climkit(
    hass: HomeAssistant,
    options: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A Climkit entry added but not set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Climkit site",
        unique_id="site",
        data=data or SITE_DATA,
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


def assert_range_form(result: dict[str, Any], number: int, shown: dict[str, Any]) -> None:
    """The off-peak form of range `number`, showing `shown`."""
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "off_peak"
    assert fields(result) == ["start", "end", "weekdays", "add_range"]
    assert result["description_placeholders"] == {"number": str(number)}
    assert form_values(result) == shown
    # As the frontend receives it: time pickers, the weekdays as translated check boxes.
    serialized = vol.to_field_list(result["data_schema"], custom_serializer=cv.custom_serializer)
    selectors = {field["name"]: field["selector"] for field in json.loads(json.dumps(serialized))}
    assert selectors == {
        "start": {"time": {}},
        "end": {"time": {}},
        "weekdays": {
            "select": {
                "options": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "multiple": True,
                "mode": "list",
                "translation_key": "weekday",
                "custom_value": False,
                "sort": False,
            }
        },
        "add_range": {"boolean": {}},
    }


async def submit_ranges(
    hass: HomeAssistant, result: dict[str, Any], ranges: list[dict[str, Any]]
) -> dict[str, Any]:
    """Submit one range form after the other (all but the last ask for another)."""
    for index, data in enumerate(ranges):
        assert result["step_id"] == "off_peak"
        more = index + 1 < len(ranges)
        result = await submit(hass, result, {**data, "add_range": more})
        if more:
            assert result["errors"] == {}
    return result


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
    """Prices, then one form per off-peak range (22:00-06:00 every day offered first); a
    whole day is 00:00 to 00:00, stored in two halves."""
    entry = add_linky(paris)
    result = await open_prices(paris, entry, "hp_hc")
    assert fields(result) == [
        "currency",
        "hp_price",
        "hc_price",
        "meter_periods",
        "start",
        "subscription",
        "subscription_yearly",
    ]
    assert form_values(result)["meter_periods"] is False
    result = await submit(paris, result, HP_HC_INPUT)
    assert_range_form(
        result,
        1,
        {"start": "22:00:00", "end": "06:00:00", "weekdays": ALL_DAYS, "add_range": False},
    )
    result = await submit(
        paris, result, r("22:08", "06:08", ["mon", "tue", "wed", "thu"], more=True)
    )
    assert_range_form(result, 2, {"weekdays": [], "add_range": False})
    assert "tariff" not in entry.options
    result = await submit(paris, result, r("00:00:00", "00:00:00", WEEKEND))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = entry.options["tariff"]
    assert stored["kind"] == "hp_hc"
    assert stored["off_peak"] == [
        {"start": "22:08", "end": "06:08", "weekdays": [0, 1, 2, 3]},
        {"start": "00:00", "end": "12:00", "weekdays": [5, 6]},
        {"start": "12:00", "end": "00:00", "weekdays": [5, 6]},
    ]
    assert stored["periods"] == STORED["periods"]


async def test_range_end_at_midnight_and_seconds(paris: HomeAssistant) -> None:
    """An end of 00:00 is midnight, the end of the day; seconds are dropped."""
    entry = add_linky(paris)
    result = await submit(paris, await open_prices(paris, entry, "hp_hc"), HP_HC_INPUT)
    result = await submit_ranges(
        paris, result, [r("12:00:00", "00:00:00", ["fri"]), r("02:30:59", "04:00:00")]
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff"]["off_peak"] == [
        {"start": "12:00", "end": "00:00", "weekdays": [4]},
        {"start": "02:30", "end": "04:00", "weekdays": [0, 1, 2, 3, 4, 5, 6]},
    ]
    tariff = tariff_from_options(entry.options)
    assert tariff is not None
    assert tariff.periods[0].off_peak[0] == OffPeakRange(time(12), time(0), frozenset({4}))


async def test_stored_values_are_the_form_defaults(paris: HomeAssistant) -> None:
    """Editing shows the latest prices, then the stored ranges one per form (the two halves
    of a whole day as 00:00 to 00:00); submitting them unchanged stores them unchanged."""
    entry = add_linky(paris, {"tariff": STORED})
    result = await open_prices(paris, entry, "hp_hc")
    assert form_values(result) == {
        "currency": "EUR",
        "hp_price": 0.27,
        "hc_price": 0.2068,
        "meter_periods": False,
        "start": FIRST_OF_MONTH,
        "subscription": 15.65,
        "subscription_yearly": False,
    }
    result = await submit(paris, result, form_values(result))
    shown = {"start": "00:00:00", "end": "00:00:00", "weekdays": WEEKEND, "add_range": True}
    assert_range_form(result, 1, shown)
    result = await submit(paris, result, form_values(result))
    days = ["mon", "tue", "wed", "thu"]
    shown = {"start": "22:08:00", "end": "06:08:00", "weekdays": days, "add_range": False}
    assert_range_form(result, 2, shown)
    result = await submit(paris, result, form_values(result))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff"]["off_peak"] == STORED["off_peak"]


async def test_another_range_after_the_stored_ones(paris: HomeAssistant) -> None:
    """ "Add another range" on the last stored range: an empty form for a new one."""
    entry = add_linky(paris, {"tariff": STORED})
    result = await submit(paris, await open_prices(paris, entry, "hp_hc"), HP_HC_INPUT)
    result = await submit(paris, result, form_values(result))
    result = await submit(paris, result, {**form_values(result), "add_range": True})
    assert_range_form(result, 3, {"weekdays": [], "add_range": False})
    result = await submit(paris, result, r("12:00", "14:00", ["fri"]))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff"]["off_peak"] == [
        *STORED["off_peak"],
        {"start": "12:00", "end": "14:00", "weekdays": [4]},
    ]


async def test_options_saved_by_the_text_form_are_kept(paris: HomeAssistant) -> None:
    """Options stored by the former text field are read back as the same ranges, shown one
    per form, and saved again through the new forms byte for byte."""
    legacy = json.loads(LEGACY_OPTIONS_JSON)
    entry = add_linky(paris, legacy)
    tariff = tariff_from_options(entry.options)
    assert tariff is not None
    workdays, weekend = frozenset({0, 1, 2, 3}), frozenset({5, 6})
    assert tariff.periods[0].off_peak == (
        OffPeakRange(time(22), time(6), workdays),
        OffPeakRange(time(22), time(0), frozenset({4})),
        OffPeakRange(time(0), time(12), weekend),
        OffPeakRange(time(12), time(0), weekend),
        OffPeakRange(time(0), time(6), frozenset({0})),
    )
    result = await open_prices(paris, entry, "hp_hc")
    result = await submit(paris, result, {**form_values(result), "start": "2026-02-01"})
    forms = [
        ("22:00:00", "06:00:00", ["mon", "tue", "wed", "thu"]),
        ("22:00:00", "00:00:00", ["fri"]),
        ("00:00:00", "00:00:00", WEEKEND),
        ("00:00:00", "06:00:00", ["mon"]),
    ]
    for number, (start, end, days) in enumerate(forms, start=1):
        shown = {"start": start, "end": end, "weekdays": days, "add_range": number < len(forms)}
        assert_range_form(result, number, shown)
        result = await submit(paris, result, form_values(result))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert json.dumps(dict(entry.options)) == LEGACY_OPTIONS_JSON
    assert tariff_from_options(entry.options) == tariff


async def test_price_change_from_a_date(paris: HomeAssistant) -> None:
    """A new price from 1 August keeps February's; a date far back corrects every price."""
    entry = add_linky(paris, {"tariff": STORED})
    result = await open_prices(paris, entry, "hp_hc")
    values = {**form_values(result), "hp_price": 0.2946, "start": "2026-08-01"}
    result = await submit(paris, result, values)
    result = await submit(paris, result, form_values(result))
    result = await submit(paris, result, form_values(result))
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
    result = await submit(paris, result, form_values(result))
    result = await submit(paris, result, form_values(result))
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
    """Six prices and a colour entity; without own off-peak hours, Tempo's are used."""
    paris.states.async_set("sensor.rte_tempo_couleur_actuelle", "Bleu")
    entry = add_linky(paris)
    result = await open_prices(paris, entry, "tempo")
    assert fields(result) == [
        "currency",
        *TEMPO_PRICES,
        "meter_periods",
        "tempo_entity",
        "off_peak",
        "start",
        "subscription",
        "subscription_yearly",
    ]
    assert form_values(result)["off_peak"] is False
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

    # Own off-peak hours: the range forms, starting from Tempo's 22:00-06:00.
    result = await open_prices(paris, entry, "tempo")
    values = form_values(result)
    assert values["tempo_entity"] == "sensor.rte_tempo_couleur_actuelle"
    assert values["red_hp"] == 0.7562
    result = await submit(paris, result, {**values, "off_peak": True})
    shown = {"start": "22:00:00", "end": "06:00:00", "weekdays": ALL_DAYS, "add_range": False}
    assert_range_form(result, 1, shown)
    result = await submit(paris, result, r("23:00", "07:00"))
    assert entry.options["tariff"]["off_peak"] == [
        {"start": "23:00", "end": "07:00", "weekdays": [0, 1, 2, 3, 4, 5, 6]}
    ]

    # They are shown when editing; turning the option off goes back to Tempo's.
    result = await open_prices(paris, entry, "tempo")
    assert form_values(result)["off_peak"] is True
    result = await submit(paris, result, form_values(result))
    assert form_values(result)["start"] == "23:00:00"
    result = await open_prices(paris, entry, "tempo")
    result = await submit(paris, result, {**form_values(result), "off_peak": False})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff"]["off_peak"] == []


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
    ("ranges", "bad", "errors"),
    [
        ([], r("06:00", "06:00"), {"end": "empty_range"}),
        ([], r("22:00", "06:00", []), {"weekdays": "no_weekday"}),
        ([], r("06:00", "06:00:30", []), {"end": "empty_range", "weekdays": "no_weekday"}),
        ([r("22:00", "06:00")], r("05:00", "07:00"), {"base": "overlapping_ranges"}),
        (
            [r("22:00", "06:00", ["fri"])],
            r("00:00", "00:00", WEEKEND),
            {"base": "overlapping_ranges"},
        ),
        (
            [r("23:00", "01:00", ["sun"])],
            r("00:30", "02:00", ["mon"]),
            {"base": "overlapping_ranges"},
        ),
    ],
)
async def test_off_peak_errors(
    paris: HomeAssistant, ranges: list[dict[str, Any]], bad: dict[str, Any], errors: dict[str, str]
) -> None:
    """A range that is empty, has no day or overlaps one entered before: the same form again,
    with what was entered; a valid range then saves the tariff."""
    entry = add_linky(paris)
    result = await submit(paris, await open_prices(paris, entry, "hp_hc"), HP_HC_INPUT)
    for data in ranges:
        result = await submit(paris, result, {**data, "add_range": True})
    number = len(ranges) + 1
    result = await submit(paris, result, bad)
    assert result["errors"] == errors
    assert_range_form(result, number, bad)
    assert "tariff" not in entry.options
    result = await submit(paris, result, r("12:00", "13:00", ["wed"]))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(entry.options["tariff"]["off_peak"]) == len(ranges) + 1


def test_off_peak_strings_in_every_language() -> None:
    """The weekday labels, the off-peak form's fields and its errors are translated."""
    for lang in ("en", "fr", "de"):
        strings = json.loads((TRANSLATIONS / f"{lang}.json").read_text(encoding="utf-8"))
        assert list(strings["selector"]["weekday"]["options"]) == list(WEEKDAYS), lang
        step = strings["options"]["step"]["off_peak"]
        assert list(step["data"]) == ["start", "end", "weekdays", "add_range"], lang
        assert "{number}" in step["description"], lang
        errors = strings["options"]["error"]
        assert {"empty_range", "no_weekday", "overlapping_ranges"} <= set(errors), lang


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("base", {"base_price": -0.1}),
        ("hp_hc", {"hp_price": 0.27, "hc_price": -0.2}),
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


# ---- gateway ------------------------------------------------------------------------------


def test_options_flow_by_kind_of_entry() -> None:
    """A Gateway entry gets its own options flow; Linky meters and Climkit sites the tariff's."""
    for data, flow in (
        ({CONF_PROVIDER: PROVIDER_GATEWAY, CONF_HOST: "192.168.1.20"}, GatewayOptionsFlow),
        ({CONF_PROVIDER: PROVIDER_LINKY, CONF_PRM: PRM}, TariffOptionsFlow),
        (SITE_DATA, TariffOptionsFlow),
    ):
        entry = MockConfigEntry(domain=DOMAIN, data=data)
        assert type(LinkyClimkitConfigFlow.async_get_options_flow(entry)) is flow


async def test_gateway_entry_poll_interval(paris: HomeAssistant) -> None:
    """A Gateway entry: no menu, the poll interval; only its options change."""
    data = {CONF_PROVIDER: PROVIDER_GATEWAY, **GATEWAY}
    entry = MockConfigEntry(domain=DOMAIN, unique_id="192.168.1.20", data=data)
    entry.add_to_hass(paris)
    result = dict(await paris.config_entries.options.async_init(entry.entry_id))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gateway_poll"
    assert form_values(result) == {CONF_SCAN_INTERVAL: 10}
    result = await submit(paris, result, {CONF_SCAN_INTERVAL: 25})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 25}
    assert entry.data == data


async def test_site_gateway_kept_in_data_by_earlier_versions(paris: HomeAssistant) -> None:
    """A site linked to its gateway before: the gateway is in its data. It is read from there;
    its removal is written to the options only, and wins over the data."""
    data = {**SITE_DATA, CONF_GATEWAY: GATEWAY}
    entry = add_climkit(paris, {"tariff": STORED}, data=data)
    assert gateway_settings(entry) == GATEWAY
    result = await open_menu(paris, entry)
    assert result["menu_options"] == [
        "tariff",
        "feed_in",
        "clear_tariff",
        "site_sensors",
        "gateway_poll",
        "remove_gateway",
    ]
    result = await submit(paris, result, {"next_step_id": "gateway_poll"})
    result = await submit(paris, result, {CONF_SCAN_INTERVAL: 30})
    assert entry.options == {"tariff": STORED, CONF_SCAN_INTERVAL: 30}
    assert gateway_settings(entry) == GATEWAY

    result = await open_menu(paris, entry)
    result = await submit(paris, result, {"next_step_id": "remove_gateway"})
    assert result["type"] is FlowResultType.FORM
    assert fields(result) == []
    result = await submit(paris, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data == data
    assert entry.options == {"tariff": STORED, CONF_SCAN_INTERVAL: 30, CONF_GATEWAY: None}
    assert site_gateway(entry) is None
    assert gateway_settings(entry) is None
    result = await open_menu(paris, entry)
    assert result["menu_options"] == ["tariff", "feed_in", "clear_tariff", "site_sensors"]


async def test_site_gateway_in_options(paris: HomeAssistant) -> None:
    """A gateway joined since is in the options (over any copy in the data)."""
    moved = {**GATEWAY, CONF_HOST: "192.168.1.21"}
    entry = add_climkit(paris, {CONF_GATEWAY: moved}, data={**SITE_DATA, CONF_GATEWAY: GATEWAY})
    assert gateway_settings(entry) == moved
    result = await open_menu(paris, entry)
    assert result["menu_options"][-2:] == ["gateway_poll", "remove_gateway"]
    result = await submit(paris, result, {"next_step_id": "remove_gateway"})
    await submit(paris, result, {})
    assert entry.options == {CONF_GATEWAY: None}
    assert gateway_settings(entry) is None


async def test_periods_from_the_meter(paris: HomeAssistant) -> None:
    """HP/HC with periods from the meter asks no off-peak hours (the stored ones only shape
    the hours; none: 22:00-06:00) and turns the meter's registers on; Tempo needs no colour
    entity then, and still does without the option. Climkit sites have no such field."""
    entry = add_linky(paris)
    result = await open_prices(paris, entry, "hp_hc")
    result = await submit(paris, result, {**HP_HC_INPUT, "meter_periods": True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["read_registers"] is True
    stored = entry.options["tariff"]
    assert (stored["meter_periods"], stored["off_peak"]) == (True, [])
    tariff = tariff_from_options(entry.options)
    assert tariff is not None
    assert tariff.periods[0].off_peak == (OffPeakRange(time(22), time(6)),)
    assert form_values(await open_prices(paris, entry, "hp_hc"))["meter_periods"] is True

    data = {**TEMPO_PRICES, "start": "2026-01-01", "subscription": 16.16}
    result = await submit(paris, await open_prices(paris, entry, "tempo"), data)
    assert result["errors"] == {"base": "unknown_entity"}
    result = await submit(paris, result, {**data, "meter_periods": True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = entry.options["tariff"]
    assert (stored["kind"], stored["tempo_entity"], stored["meter_periods"]) == (
        "tempo",
        None,
        True,
    )
    result = await submit(paris, await open_prices(paris, entry, "base"), {"base_price": 0.2})
    assert "meter_periods" not in entry.options["tariff"]

    site = add_climkit(paris)
    assert "meter_periods" not in fields(await open_prices(paris, site, "hp_hc"))
