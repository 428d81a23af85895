"""Options flow of a Linky meter or a Climkit site (`TariffOptionsFlow`): the tariff (prices
by date, then the off-peak hours one range per form, Tempo colours or a price entity), the
feed-in price of a producing meter, or no tariff at all; a Linky meter also imports history
from elsewhere (`linky/history_flow.py`). A Climkit site also chooses an hourly
refresh of its sensors and, once a gateway joined it, the gateway's poll interval or its
removal (steps shared with a Gateway entry's `GatewayOptionsFlow`, in `gateway/options.py`).

Only `entry.options` is written. The stored tariff and its conversion to the pricing engine
live in `tariffs/stored.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import (
    BooleanSelector,
    DateSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TimeSelector,
)
from homeassistant.util import dt as dt_util

from .const import (
    CONF_PROVIDER,
    CONF_READ_REGISTERS,
    CONF_SITE_SENSORS_HOURLY,
    LINKY_CURRENCY,
    PROVIDER_CLIMKIT,
)
from .gateway.coordinator import site_gateway
from .gateway.options import GatewayOptionSteps
from .linky.history_flow import HistoryOptionSteps
from .tariffs.engine import (
    FeedInPeriod,
    OffPeakRange,
    TariffKind,
    to_per_kwh,
    validate_off_peak,
    validate_prices,
)
from .tariffs.stored import (
    CONF_TARIFF,
    METER_KINDS,
    METER_PERIODS,
    MIDNIGHT,
    PRICE_KEYS,
    TEMPO_PRICE_KEYS,
    apply_prices,
    feed_in_options,
    join_whole_days,
    new_tariff_options,
    off_peak_from_options,
    parse_date,
    period_from_options,
    period_options,
    split_whole_days,
    stored_tariff,
    with_feed_in,
    with_meter_periods,
)

CLIMKIT_CURRENCY = "CHF"
CONF_CURRENCY = "currency"
CONF_START = "start"
CONF_END = "end"
CONF_WEEKDAYS = "weekdays"
CONF_ADD_RANGE = "add_range"
CONF_SUBSCRIPTION = "subscription"
CONF_SUBSCRIPTION_YEARLY = "subscription_yearly"
CONF_OFF_PEAK = "off_peak"
CONF_TEMPO_ENTITY = "tempo_entity"
CONF_PRICE_ENTITY = "price_entity"
CONF_FEED_IN_PRICE = "feed_in_price"
CONF_METER_PERIODS = METER_PERIODS
TEMPO_ENTITY_DOMAINS = ["sensor", "select", "input_select"]
PRICE_ENTITY_DOMAINS = ["sensor", "input_number", "number"]
PRICE_FIELDS: dict[TariffKind, tuple[str, ...]] = {
    TariffKind.BASE: ("base_price",),
    TariffKind.HP_HC: ("hp_price", "hc_price"),
    TariffKind.TEMPO: TEMPO_PRICE_KEYS,
    TariffKind.DYNAMIC: (),
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday=0, as the engine counts
WEEKDAY_SELECTOR = "weekday"  # selector.weekday.options in the translations
DEFAULT_RANGE = OffPeakRange(time(22), time(6))  # every day

_TEXT = TextSelector(TextSelectorConfig())
_TIME = TimeSelector()
_DAYS = SelectSelector(
    SelectSelectorConfig(
        options=list(WEEKDAYS),
        multiple=True,
        mode=SelectSelectorMode.LIST,
        translation_key=WEEKDAY_SELECTOR,
    )
)


def _start(user_input: Mapping[str, Any]) -> date:
    """The date picked (validated by the DateSelector)."""
    start = parse_date(user_input[CONF_START])
    assert start is not None
    return start


def _clock(value: str) -> time:
    """A wall time from the TimeSelector ("HH:MM:SS"), to the minute."""
    return cv.time(value).replace(second=0, microsecond=0)


def _first_of_month() -> str:
    """The default start of new prices: the first day of the current month."""
    return dt_util.now().date().replace(day=1).isoformat()


def _entity(domains: list[str]) -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain=domains))


class TariffOptionsFlow(GatewayOptionSteps, HistoryOptionSteps):
    """Set, change from a date or remove the tariff of one Linky or Climkit entry."""

    def __init__(self) -> None:
        """Nothing entered yet."""
        self._pending: dict[str, Any] = {}  # the checked prices, waiting for the ranges
        self._shown: list[OffPeakRange] = []  # the ranges offered, one per form
        self._entered: list[OffPeakRange] = []  # the ranges entered so far

    # ---- helpers ---------------------------------------------------------------------------

    def _stored(self) -> dict[str, Any] | None:
        return stored_tariff(self.config_entry.options)

    def _default_currency(self) -> str:
        if (stored := self._stored()) is not None:
            return str(stored["currency"])
        if self.config_entry.data.get(CONF_PROVIDER) == PROVIDER_CLIMKIT:
            return CLIMKIT_CURRENCY
        return LINKY_CURRENCY

    def _can_produce(self) -> bool:
        """Climkit sites, Linky meters known to produce, or a feed-in price already set."""
        entry = self.config_entry
        if entry.data.get(CONF_PROVIDER) == PROVIDER_CLIMKIT:
            return True
        state = getattr(getattr(entry, "runtime_data", None), "state", None)
        if getattr(state, "production", None):
            return True
        stored = self._stored()
        return stored is not None and bool(stored["feed_in"])

    def _save(self, tariff: dict[str, Any] | None) -> ConfigFlowResult:
        options = {k: v for k, v in self.config_entry.options.items() if k != CONF_TARIFF}
        if tariff is not None:
            options[CONF_TARIFF] = tariff
            if tariff.get(METER_PERIODS):
                options = with_meter_periods(options)
        return self.async_create_entry(data=options)

    def _linky(self) -> bool:
        return self.config_entry.data.get(CONF_PROVIDER) != PROVIDER_CLIMKIT

    def _entity_error(self, entity_id: str | None, *, unit: bool) -> str | None:
        state = self.hass.states.get(entity_id) if entity_id else None
        if state is None:
            return "unknown_entity"
        if (
            unit
            and to_per_kwh(1.0, str(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) or "")) is None
        ):
            return "unit_not_supported"
        return None

    # ---- menus -----------------------------------------------------------------------------

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set prices, the feed-in price (producers only) or remove the tariff; a Climkit site
        also has its sensors' refresh and, with a gateway, the gateway's steps."""
        options = ["tariff"]
        if self._can_produce():
            options.append("feed_in")
        if self._stored() is not None:
            options.append("clear_tariff")
        if self.config_entry.data.get(CONF_PROVIDER) == PROVIDER_CLIMKIT:
            options.append("site_sensors")
            if site_gateway(self.config_entry) is not None:
                options += ["gateway_poll", "remove_gateway"]
        elif self._coordinator() is not None:
            options += ["meter_registers", "import_history"]
        return self.async_show_menu(step_id="init", menu_options=options)

    async def async_step_site_sensors(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Whether the site's sensors (temperature, humidity…) are also read every hour."""
        options = self.config_entry.options
        if user_input is not None:
            hourly = bool(user_input[CONF_SITE_SENSORS_HOURLY])
            return self.async_create_entry(data={**options, CONF_SITE_SENSORS_HOURLY: hourly})
        current = bool(options.get(CONF_SITE_SENSORS_HOURLY, False))
        schema = vol.Schema(
            {vol.Required(CONF_SITE_SENSORS_HOURLY, default=current): BooleanSelector()}
        )
        return self.async_show_form(step_id="site_sensors", data_schema=schema)

    async def async_step_meter_registers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Whether a Linky meter's registers are read (one more Conso API call a day)."""
        options = self.config_entry.options
        if user_input is not None:
            read = bool(user_input[CONF_READ_REGISTERS])
            return self.async_create_entry(data={**options, CONF_READ_REGISTERS: read})
        current = bool(options.get(CONF_READ_REGISTERS, False))
        schema = vol.Schema({vol.Required(CONF_READ_REGISTERS, default=current): BooleanSelector()})
        return self.async_show_form(step_id="meter_registers", data_schema=schema)

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the kind of tariff; each has its own prices step."""
        return self.async_show_menu(
            step_id="tariff", menu_options=[f"prices_{kind}" for kind in TariffKind]
        )

    # ---- prices ----------------------------------------------------------------------------

    async def async_step_prices_base(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One price per kWh."""
        return await self._prices(TariffKind.BASE, user_input)

    async def async_step_prices_hp_hc(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Peak and off-peak prices, and the off-peak hours."""
        return await self._prices(TariffKind.HP_HC, user_input)

    async def async_step_prices_tempo(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Six Tempo prices, the entity giving each day's colour, optional off-peak hours."""
        return await self._prices(TariffKind.TEMPO, user_input)

    async def async_step_prices_dynamic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Prices read from an entity (per kWh or MWh)."""
        return await self._prices(TariffKind.DYNAMIC, user_input)

    def _same_kind(self, kind: TariffKind) -> dict[str, Any] | None:
        stored = self._stored()
        return stored if stored is not None and stored["kind"] == kind else None

    def _defaults(self, kind: TariffKind) -> dict[str, Any]:
        """The form's values: the latest stored prices of this kind, else empty prices."""
        same = self._same_kind(kind)
        latest = same["periods"][-1] if same and same["periods"] else {}
        defaults: dict[str, Any] = {
            CONF_CURRENCY: self._default_currency(),
            CONF_START: _first_of_month(),
            CONF_SUBSCRIPTION: float(latest.get("subscription") or 0.0),
            CONF_SUBSCRIPTION_YEARLY: latest.get("subscription_per") == "year",
        }
        tempo = latest.get("tempo_prices")
        prices = {**latest, **(tempo if isinstance(tempo, Mapping) else {})}
        defaults.update({key: prices[key] for key in PRICE_FIELDS[kind] if key in prices})
        if kind is TariffKind.TEMPO:
            defaults[CONF_OFF_PEAK] = bool(same and same["off_peak"])
        if kind in METER_KINDS and self._linky():
            defaults[CONF_METER_PERIODS] = bool(same and same.get(METER_PERIODS))
        for key in (CONF_TEMPO_ENTITY, CONF_PRICE_ENTITY):
            if same and same[key]:
                defaults[key] = same[key]
        return defaults

    @staticmethod
    def _prices_schema(kind: TariffKind, defaults: Mapping[str, Any]) -> vol.Schema:
        currency = defaults[CONF_CURRENCY]
        price = NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX, step="any", unit_of_measurement=f"{currency}/kWh"
            )
        )
        fields: dict[Any, Any] = {vol.Required(CONF_CURRENCY, default=currency): _TEXT}
        fields.update({vol.Required(key): price for key in PRICE_FIELDS[kind]})
        metered = CONF_METER_PERIODS in defaults  # a Linky meter's HP/HC or Tempo
        if metered:
            fields[vol.Required(CONF_METER_PERIODS, default=False)] = BooleanSelector()
        if kind is TariffKind.TEMPO:
            entity = vol.Optional if metered else vol.Required
            fields[entity(CONF_TEMPO_ENTITY)] = _entity(TEMPO_ENTITY_DOMAINS)
            fields[vol.Required(CONF_OFF_PEAK, default=False)] = BooleanSelector()
        elif kind is TariffKind.DYNAMIC:
            fields[vol.Required(CONF_PRICE_ENTITY)] = _entity(PRICE_ENTITY_DOMAINS)
        fields[vol.Required(CONF_START, default=defaults[CONF_START])] = DateSelector()
        fields[vol.Required(CONF_SUBSCRIPTION, default=0.0)] = NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX, step="any", min=0, unit_of_measurement=currency
            )
        )
        fields[vol.Required(CONF_SUBSCRIPTION_YEARLY, default=False)] = BooleanSelector()
        return vol.Schema(fields)

    def _check(
        self, kind: TariffKind, user_input: Mapping[str, Any], period: Mapping[str, Any]
    ) -> str | None:
        """The first form error, if any."""
        engine_period = period_from_options(period, kind)
        assert engine_period is not None  # built by period_options from validated numbers
        if error := validate_prices(engine_period):
            return error
        if kind is TariffKind.TEMPO:
            entity = user_input.get(CONF_TEMPO_ENTITY)
            if entity is None and user_input.get(CONF_METER_PERIODS):
                return None  # the colours come from the registers
            return self._entity_error(entity, unit=False)
        if kind is TariffKind.DYNAMIC:
            return self._entity_error(user_input.get(CONF_PRICE_ENTITY), unit=True)
        return None

    async def _prices(
        self, kind: TariffKind, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        defaults = self._defaults(kind)
        errors: dict[str, str] = {}
        if user_input is not None:
            currency = (
                str(user_input.get(CONF_CURRENCY) or "").strip().upper() or defaults[CONF_CURRENCY]
            )
            period = period_options(
                _start(user_input),
                tempo_prices={
                    key: user_input[key] for key in TEMPO_PRICE_KEYS if key in user_input
                },
                subscription=user_input[CONF_SUBSCRIPTION],
                subscription_per="year" if user_input[CONF_SUBSCRIPTION_YEARLY] else "month",
                **{key: user_input[key] for key in PRICE_KEYS if key in user_input},
            )
            if (error := self._check(kind, user_input, period)) is None:
                self._pending = {
                    "kind": kind,
                    "currency": currency,
                    "period": period,
                    "tempo_entity": user_input.get(CONF_TEMPO_ENTITY),
                    "price_entity": user_input.get(CONF_PRICE_ENTITY),
                    "meter_periods": bool(user_input.get(CONF_METER_PERIODS)),
                }
                same = self._same_kind(kind)
                kept = off_peak_from_options(same["off_peak"]) if same else ()
                if kind is TariffKind.HP_HC and user_input.get(CONF_METER_PERIODS):
                    return self._save_prices(kept)  # no hours to type: the meter's are read
                if kind is TariffKind.HP_HC or user_input.get(CONF_OFF_PEAK):
                    self._shown = join_whole_days(kept) or [DEFAULT_RANGE]
                    self._entered = []
                    return await self.async_step_off_peak()
                return self._save_prices(())
            errors["base"] = error
            defaults.update(user_input)
        schema = self._prices_schema(kind, defaults)
        return self.async_show_form(
            step_id=f"prices_{kind}",
            data_schema=self.add_suggested_values_to_schema(schema, defaults),
            errors=errors,
        )

    # ---- off-peak ranges -------------------------------------------------------------------

    async def async_step_off_peak(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One off-peak range per form; "add another range" asks for one more, then the
        tariff is saved. Editing, the stored ranges are offered one by one."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entered, errors = self._read_range(user_input)
            if entered is not None:
                self._entered.append(entered)
                if not user_input[CONF_ADD_RANGE]:
                    return self._save_prices(split_whole_days(self._entered))
                user_input = None
        index = len(self._entered)
        suggested: dict[str, Any] = {CONF_ADD_RANGE: index + 1 < len(self._shown)}
        if index < len(self._shown):
            shown = self._shown[index]
            suggested[CONF_START] = shown.start.isoformat()
            suggested[CONF_END] = shown.end.isoformat()
            suggested[CONF_WEEKDAYS] = [WEEKDAYS[day] for day in sorted(shown.weekdays)]
        suggested.update(user_input or {})
        schema = vol.Schema(
            {
                vol.Required(CONF_START): _TIME,
                vol.Required(CONF_END): _TIME,
                vol.Required(CONF_WEEKDAYS, default=list): _DAYS,
                vol.Required(CONF_ADD_RANGE, default=False): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="off_peak",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={"number": str(index + 1)},
        )

    def _read_range(
        self, user_input: Mapping[str, Any]
    ) -> tuple[OffPeakRange | None, dict[str, str]]:
        """The range of one form (00:00 to 00:00 is the whole day), or its errors."""
        start, end = _clock(user_input[CONF_START]), _clock(user_input[CONF_END])
        days = frozenset(WEEKDAYS.index(day) for day in user_input[CONF_WEEKDAYS])
        entered = OffPeakRange(start, end, days)
        errors: dict[str, str] = {}
        if not days:
            errors[CONF_WEEKDAYS] = "no_weekday"
        if start == end and start != MIDNIGHT:
            errors[CONF_END] = "empty_range"
        if not errors and (error := validate_off_peak(split_whole_days([*self._entered, entered]))):
            errors["base"] = error
        return (None if errors else entered), errors

    def _save_prices(self, off_peak: Sequence[OffPeakRange]) -> ConfigFlowResult:
        """The prices checked by the prices step, with the off-peak ranges entered."""
        return self._save(apply_prices(self._stored(), off_peak=off_peak, **self._pending))

    # ---- feed-in and removal ---------------------------------------------------------------

    async def async_step_feed_in(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The price paid per produced kWh from a date on."""
        stored = self._stored()
        errors: dict[str, str] = {}
        suggested: dict[str, Any] = {CONF_START: _first_of_month()}
        if stored is not None and stored["feed_in"]:
            suggested[CONF_FEED_IN_PRICE] = stored["feed_in"][-1].get("price")
        if user_input is not None:
            start = _start(user_input)
            price = float(user_input[CONF_FEED_IN_PRICE])
            if validate_prices(FeedInPeriod(start, price)) is None:
                if stored is None:
                    stored = new_tariff_options(TariffKind.BASE, self._default_currency())
                return self._save(with_feed_in(stored, feed_in_options(start, price)))
            errors["base"] = "negative_price"
            suggested.update(user_input)
        currency = self._default_currency()
        schema = vol.Schema(
            {
                vol.Required(CONF_FEED_IN_PRICE): NumberSelector(
                    NumberSelectorConfig(
                        mode=NumberSelectorMode.BOX,
                        step="any",
                        unit_of_measurement=f"{currency}/kWh",
                    )
                ),
                vol.Required(CONF_START): DateSelector(),
            }
        )
        return self.async_show_form(
            step_id="feed_in",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_clear_tariff(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then remove the tariff: no cost is written any more."""
        if user_input is not None:
            return self._save(None)
        return self.async_show_form(step_id="clear_tariff", data_schema=vol.Schema({}))
