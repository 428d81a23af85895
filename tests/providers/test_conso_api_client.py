"""ConsoApiClient against the Conso API simulator (real aiohttp session on 127.0.0.1).

Ground truth: /work/shared/docs/conso-api.md §1-§4.
"""

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.providers.conso_api import (
    DEFAULT_BASE_URL,
    ConsoApiClient,
    ConsoApiType,
    history_start,
    map_error,
    windows,
)
from custom_components.linky_climkit.providers.conso_api_index import parse_index, register_deltas
from custom_components.linky_climkit.providers.conso_api_parse import (
    parse_daily,
    parse_load_curve,
    parse_max_power,
)
from custom_components.linky_climkit.providers.errors import (
    AuthError,
    BlockedError,
    HistoryLimitError,
    InvalidResponseError,
    NoDataError,
    NotAuthorisedError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
    RedirectError,
    RequestError,
    UpstreamError,
)
from tests.simulators.conso_api import (
    FAULT_KINDS,
    PARIS,
    ConsoApiSimulator,
    MeterProfile,
    make_token,
)

PRM = "12345678901234"
PROD_PRM = "98765432109876"
OTHER_PRM = "11112222333344"  # in the token, unknown to Enedis (not the holder)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=PARIS)  # 11:00 UTC
USER_AGENT = "linky_climkit-tests/1.0 (+https://example.invalid/linky_climkit)"
TOKEN = make_token([PRM, PROD_PRM, OTHER_PRM], iat=NOW - timedelta(days=30))
# A window that is published at NOW (the simulator publishes day D at 08:00 on D+1).
START = date(2026, 11, 12)
END = date(2026, 11, 19)

ALL_TYPES = tuple(ConsoApiType)


class RecordingSimulator(ConsoApiSimulator):
    """The simulator, also remembering the request headers (CallRecord does not keep them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers: list[dict[str, str]] = []

    async def _handle(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        return await super()._handle(request)


@dataclass
class Env:
    sim: RecordingSimulator
    session: aiohttp.ClientSession
    base_url: str

    def client(self, token: str = TOKEN, **kwargs: Any) -> ConsoApiClient:
        return ConsoApiClient(
            self.session, token, base_url=self.base_url, user_agent=USER_AGENT, **kwargs
        )


@pytest.fixture
async def env(socket_enabled: None) -> AsyncIterator[Env]:
    sim = RecordingSimulator(
        [
            MeterProfile(PRM, seed=3, activation=date(2024, 6, 1)),
            MeterProfile(PROD_PRM, seed=5, has_production=True),
        ],
        clock=lambda: NOW,
    )
    url = await sim.start()
    async with aiohttp.ClientSession() as session:
        yield Env(sim, session, url + "/api")
    await sim.stop()


def assert_token_free(*texts: object) -> None:
    for text in texts:
        rendered = str(text)
        assert TOKEN not in rendered
        # no recognisable fragment of it either (header.payload.signature)
        for part in TOKEN.split("."):
            assert part not in rendered


def assert_error_token_free(err: BaseException) -> None:
    assert_token_free(str(err), repr(err), err.args)


# --- success ------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", ALL_TYPES, ids=[t.value for t in ALL_TYPES])
async def test_fetch_each_v2_type(env: Env, type_: ConsoApiType) -> None:
    production = type_ in (
        ConsoApiType.DAILY_PRODUCTION,
        ConsoApiType.PRODUCTION_LOAD_CURVE,
        ConsoApiType.PRODUCTION_INDEX,
    )
    prm = PROD_PRM if production else PRM
    body = await env.client().fetch(type_, prm, START, END)

    assert isinstance(body, dict)
    assert body["idPrm"] == prm
    assert body["periode"] == {"dateDebut": "2026-11-12", "dateFin": "2026-11-19"}
    assert [c.type for c in env.sim.calls] == [type_.value]
    assert env.sim.calls[0].status == 200
    days = [START + timedelta(days=i) for i in range(7)]
    channel = Channel.PRODUCTION if production else Channel.CONSUMPTION

    if type_ in (ConsoApiType.DAILY_CONSUMPTION, ConsoApiType.DAILY_PRODUCTION):
        series = parse_daily(body, channel, START, END)
        assert [d.day for d in series.daily] == days
        for value in series.daily:
            assert value.value == pytest.approx(env.sim.daily_wh(prm, value.day, production) / 1000)
    elif type_.is_load_curve:
        series = parse_load_curve(body, channel, START, END)
        assert len(series.intervals) == 7 * 48
        first = datetime(2026, 11, 12, tzinfo=PARIS).astimezone(UTC)
        assert series.intervals[0].start == first
        assert series.intervals[-1].end == first + timedelta(days=7)
        total_wh = sum(env.sim.curve_wh(prm, d, production) for d in days)
        assert sum(i.value for i in series.intervals) == pytest.approx(total_wh / 1000)
    elif type_ in (ConsoApiType.CONSUMPTION_INDEX, ConsoApiType.PRODUCTION_INDEX):
        series = parse_index(body, channel, START, END)
        assert [i.day for i in series.indexes] == days
        deltas = register_deltas(series.indexes)
        for day in days[:-1]:
            expected = env.sim.daily_wh(prm, day, production) / 1000
            assert sum(deltas[day].values()) == pytest.approx(expected, abs=1e-9)
    else:
        series = parse_max_power(body, START, END)
        assert [p.day for p in series.peaks] == days
        for peak in series.peaks:
            va, stamp = env.sim.max_power(prm, peak.day)
            assert peak.value == pytest.approx(va / 1000)
            assert peak.at == datetime.fromisoformat(stamp).replace(tzinfo=PARIS)


async def test_request_url_params_and_headers(env: Env) -> None:
    await env.client().fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)

    (call,) = env.sim.calls
    assert call.type == "consommation_quotidienne"
    assert call.params == {"pointId": PRM, "dateDebut": "2026-11-12", "dateFin": "2026-11-19"}
    (headers,) = env.sim.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept"] == "application/json"


async def test_token_is_stripped_and_base_url_trailing_slash_ignored(env: Env) -> None:
    client = ConsoApiClient(
        env.session, f"  {TOKEN}\n", base_url=env.base_url + "/", user_agent=USER_AGENT
    )
    body = await client.fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)

    assert body["idPrm"] == PRM
    assert env.sim.headers[0]["Authorization"] == f"Bearer {TOKEN}"
    assert env.sim.calls[0].status == 200


def test_repr_never_shows_the_token() -> None:
    client = ConsoApiClient(
        None,  # type: ignore[arg-type]
        TOKEN,
        user_agent=USER_AGENT,
    )
    assert repr(client) == f"ConsoApiClient(base_url={DEFAULT_BASE_URL!r})"
    assert_token_free(repr(client), str(client), f"{client!r}")


# --- faults -------------------------------------------------------------------------------

# kind -> (exact error class, status, code)
FAULT_EXPECTATIONS: dict[str, tuple[type[ProviderError], int | None, str | None]] = {
    "quota_900807": (QuotaError, 429, "900807"),
    "quota_900804": (QuotaError, 429, "900804"),
    "technical_error": (UpstreamError, 500, "technical_error"),
    "enedis_raw_500": (UpstreamError, 500, None),
    "token_refresh": (UpstreamError, 500, None),
    "unknown_error": (UpstreamError, 500, None),
    "not_titulaire": (NotAuthorisedError, 400, "ADAM-DC-0007"),
    "no_consent": (NotAuthorisedError, 403, "ADAM-DC-0008"),
    "gateway_900908": (UpstreamError, 403, "900908"),
    "cloudflare_403": (BlockedError, 403, "cf403"),
    "cloudflare_502_html": (UpstreamError, 502, None),
    "cloudflare_502_json": (UpstreamError, 502, None),
    "html_200": (InvalidResponseError, None, None),
    "truncated_json": (InvalidResponseError, None, None),
    "unauthorized": (AuthError, 401, None),
    "no_data": (NoDataError, 404, "no_data_found"),
    "history_limit": (HistoryLimitError, 400, "ADAM-ERR0125"),
    "bad_request": (RequestError, 400, "ADAM-ERR0002"),
    "redirect": (RedirectError, 307, None),
}


def test_every_fault_kind_has_an_expectation() -> None:
    assert set(FAULT_EXPECTATIONS) | {"wrong_shape"} == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(FAULT_EXPECTATIONS))
async def test_fault_maps_to_typed_error(env: Env, kind: str) -> None:
    expected, status, code = FAULT_EXPECTATIONS[kind]
    env.sim.add_fault(kind, remaining=1)
    client = env.client()

    with pytest.raises(ProviderError) as info:
        await client.fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)

    err = info.value
    assert type(err) is expected
    assert err.status == status
    assert err.code == code
    assert err.args
    assert str(err)
    assert_error_token_free(err)
    assert len(env.sim.calls) == 1
    # The fault was one-shot: the same client works again afterwards.
    body = await client.fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert body["idPrm"] == PRM


async def test_quota_900804_retry_at_is_aware_utc(env: Env) -> None:
    env.sim.add_fault("quota_900804")
    with pytest.raises(QuotaError) as info:
        await env.client().fetch(ConsoApiType.CONSUMPTION_LOAD_CURVE, PRM, START, END)
    retry_at = info.value.retry_at
    assert retry_at is not None
    assert retry_at.utcoffset() == timedelta(0)
    assert retry_at.tzinfo is UTC
    assert retry_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # simulator: now + 1 h


async def test_quota_900807_has_no_retry_at(env: Env) -> None:
    env.sim.add_fault("quota_900807")
    with pytest.raises(QuotaError) as info:
        await env.client().fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert type(info.value) is QuotaError
    assert info.value.retry_at is None
    assert "quota" in str(info.value).lower()


async def test_cloudflare_block_is_a_quota_error_without_retry_at(env: Env) -> None:
    env.sim.add_fault("cloudflare_403")
    with pytest.raises(QuotaError) as info:
        await env.client().fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert isinstance(info.value, BlockedError)
    assert info.value.retry_at is None
    assert "<" not in str(info.value)  # the HTML page is not echoed


async def test_fault_only_for_its_types(env: Env) -> None:
    env.sim.add_fault("no_data", types="courbe_de_charge_consommation")
    client = env.client()
    body = await client.fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert body["idPrm"] == PRM
    with pytest.raises(NoDataError):
        await client.fetch(ConsoApiType.CONSUMPTION_LOAD_CURVE, PRM, START, END)


async def test_wrong_shape_is_returned_then_rejected_by_the_parser(env: Env) -> None:
    env.sim.add_fault("wrong_shape")
    body = await env.client().fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert body == {"idPrm": PRM, "foo": []}
    with pytest.raises(InvalidResponseError) as info:
        parse_daily(body, Channel.CONSUMPTION, START, END)
    assert_error_token_free(info.value)
    with pytest.raises(InvalidResponseError):
        parse_load_curve(body, Channel.CONSUMPTION, START, END)
    with pytest.raises(InvalidResponseError):
        parse_max_power(body, START, END)


# --- errors the simulated service produces by itself --------------------------------------


async def test_before_activation_is_history_limit(env: Env) -> None:
    # PRM was activated on 2024-06-01: ADAM-ERR0123
    with pytest.raises(HistoryLimitError) as info:
        await env.client().fetch(
            ConsoApiType.DAILY_CONSUMPTION, PRM, date(2024, 1, 1), date(2024, 5, 1)
        )
    assert info.value.status == 400
    assert info.value.code == "ADAM-ERR0123"
    assert_error_token_free(info.value)


async def test_beyond_history_depth_is_history_limit(env: Env) -> None:
    # daily: 36 months + 15 days back from 2026-11-20 = 2023-11-05 (ADAM-ERR0125)
    with pytest.raises(HistoryLimitError) as info:
        await env.client().fetch(
            ConsoApiType.DAILY_PRODUCTION, PROD_PRM, date(2023, 11, 1), date(2023, 12, 1)
        )
    assert info.value.code == "ADAM-ERR0125"
    assert_error_token_free(info.value)


async def test_unpublished_day_is_no_data(env: Env) -> None:
    # At 12:00 on 2026-11-20, 2026-11-20 itself is not published.
    with pytest.raises(NoDataError) as info:
        await env.client().fetch(
            ConsoApiType.CONSUMPTION_LOAD_CURVE, PRM, date(2026, 11, 20), date(2026, 11, 21)
        )
    assert info.value.status == 404


async def test_production_without_consent_is_not_authorised(env: Env) -> None:
    with pytest.raises(NotAuthorisedError) as info:
        await env.client().fetch(ConsoApiType.DAILY_PRODUCTION, PRM, START, END)
    assert info.value.code == "ADAM-DC-0008"
    assert info.value.status == 403


async def test_prm_not_held_is_not_authorised(env: Env) -> None:
    with pytest.raises(NotAuthorisedError) as info:
        await env.client().fetch(ConsoApiType.DAILY_CONSUMPTION, OTHER_PRM, START, END)
    assert info.value.code == "ADAM-DC-0007"
    assert info.value.status == 400


async def test_token_for_another_prm_is_auth_error(env: Env) -> None:
    token = make_token([PROD_PRM], iat=NOW - timedelta(days=1))
    with pytest.raises(AuthError) as info:
        await env.client(token).fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert info.value.status == 401
    assert token not in str(info.value)


async def test_expired_token_is_auth_error(env: Env) -> None:
    token = make_token([PRM], iat=NOW - timedelta(days=1100), exp=NOW - timedelta(days=1))
    with pytest.raises(AuthError):
        await env.client(token).fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert env.sim.calls[0].status == 401


async def test_bad_prm_length_is_request_error(env: Env) -> None:
    with pytest.raises(RequestError) as info:
        await env.client().fetch(ConsoApiType.DAILY_CONSUMPTION, "1234", START, END)
    assert info.value.status == 400
    assert "Paramètres invalides" in str(info.value)


async def test_history_start_is_accepted_by_the_service(env: Env) -> None:
    today = NOW.date()
    client = env.client()
    for type_ in (ConsoApiType.DAILY_PRODUCTION, ConsoApiType.PRODUCTION_LOAD_CURVE):
        first = history_start(type_, today)
        body = await client.fetch(type_, PROD_PRM, first, first + timedelta(days=1))
        assert body["periode"]["dateDebut"] == first.isoformat()
        # 30 days older than history_start is refused by the service.
        older = first - timedelta(days=30)
        with pytest.raises(HistoryLimitError):
            await client.fetch(type_, PROD_PRM, older, older + timedelta(days=1))


# --- transport ----------------------------------------------------------------------------


async def test_timeout_is_connection_error(env: Env) -> None:
    env.sim.delay_seconds = 0.6
    client = env.client(timeout=0.2)
    started = time.monotonic()
    with pytest.raises(ProviderConnectionError) as info:
        await client.fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert time.monotonic() - started < 0.55
    assert isinstance(info.value, UpstreamError)
    assert_error_token_free(info.value)
    await asyncio.sleep(0.5)  # let the simulator's handler finish before stopping it


async def test_refused_connection_is_connection_error(socket_enabled: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        client = ConsoApiClient(
            session, TOKEN, base_url=f"http://127.0.0.1:{port}/api", user_agent=USER_AGENT
        )
        with pytest.raises(ProviderConnectionError) as info:
            await client.fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, START, END)
    assert "could not be reached" in str(info.value)
    assert_error_token_free(info.value)


# --- validation before any call -----------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "start", "end"),
    [
        (ConsoApiType.CONSUMPTION_LOAD_CURVE, date(2026, 11, 1), date(2026, 11, 9)),
        (ConsoApiType.PRODUCTION_LOAD_CURVE, date(2026, 11, 1), date(2026, 11, 9)),
        (ConsoApiType.DAILY_CONSUMPTION, date(2025, 11, 1), date(2026, 11, 2)),
        (ConsoApiType.DAILY_PRODUCTION, date(2025, 11, 1), date(2026, 11, 2)),
        (ConsoApiType.MAX_POWER, date(2025, 11, 1), date(2026, 11, 2)),
        (ConsoApiType.DAILY_CONSUMPTION, date(2026, 11, 5), date(2026, 11, 5)),
        (ConsoApiType.CONSUMPTION_LOAD_CURVE, date(2026, 11, 5), date(2026, 11, 5)),
        (ConsoApiType.MAX_POWER, date(2026, 11, 5), date(2026, 11, 4)),
    ],
)
async def test_invalid_windows_raise_before_any_call(
    env: Env, type_: ConsoApiType, start: date, end: date
) -> None:
    with pytest.raises(ValueError):
        await env.client().fetch(type_, PRM, start, end)
    assert env.sim.calls == []
    assert env.sim.headers == []


async def test_largest_windows_are_sent(env: Env) -> None:
    client = env.client()
    await client.fetch(
        ConsoApiType.CONSUMPTION_LOAD_CURVE, PRM, date(2026, 11, 12), date(2026, 11, 19)
    )
    await client.fetch(ConsoApiType.DAILY_CONSUMPTION, PRM, date(2025, 11, 19), date(2026, 11, 19))
    assert [c.status for c in env.sim.calls] == [200, 200]


# --- helpers ------------------------------------------------------------------------------


def test_type_limits() -> None:
    assert {t.value for t in ConsoApiType} == {
        "consommation_quotidienne",
        "courbe_de_charge_consommation",
        "puissance_conso_max_quotidienne",
        "production_quotidienne",
        "courbe_de_charge_production",
        "index_consommation",
        "index_production",
    }
    for type_ in ConsoApiType:
        curve = type_.value.startswith("courbe_de_charge")
        assert type_.is_load_curve is curve
        assert type_.max_days == (7 if curve else 365)
        assert type_.history_days == (730 if curve else 1095)


def test_history_start() -> None:
    today = date(2026, 11, 20)
    assert history_start(ConsoApiType.CONSUMPTION_LOAD_CURVE, today) == date(2024, 11, 20)
    assert history_start(ConsoApiType.PRODUCTION_LOAD_CURVE, today) == date(2024, 11, 20)
    assert history_start(ConsoApiType.DAILY_CONSUMPTION, today) == date(2023, 11, 21)
    assert history_start(ConsoApiType.MAX_POWER, today) == date(2023, 11, 21)
    # Inside the documented depth (24 / 36 months + 15 days).
    assert history_start(ConsoApiType.CONSUMPTION_LOAD_CURVE, today) > date(2024, 11, 5)
    assert history_start(ConsoApiType.DAILY_PRODUCTION, today) > date(2023, 11, 5)


def test_windows_load_curve_newest_first() -> None:
    spans = list(
        windows(ConsoApiType.CONSUMPTION_LOAD_CURVE, date(2026, 11, 1), date(2026, 11, 20))
    )
    assert spans == [
        (date(2026, 11, 13), date(2026, 11, 20)),
        (date(2026, 11, 6), date(2026, 11, 13)),
        (date(2026, 11, 1), date(2026, 11, 6)),
    ]
    oldest_first = list(
        windows(
            ConsoApiType.CONSUMPTION_LOAD_CURVE,
            date(2026, 11, 1),
            date(2026, 11, 20),
            newest_first=False,
        )
    )
    assert oldest_first == spans[::-1]


def test_windows_daily_and_edge_cases() -> None:
    assert list(windows(ConsoApiType.DAILY_CONSUMPTION, date(2025, 1, 1), date(2026, 2, 5))) == [
        (date(2025, 2, 5), date(2026, 2, 5)),
        (date(2025, 1, 1), date(2025, 2, 5)),
    ]
    assert list(windows(ConsoApiType.MAX_POWER, date(2026, 1, 1), date(2026, 1, 2))) == [
        (date(2026, 1, 1), date(2026, 1, 2))
    ]
    assert list(windows(ConsoApiType.DAILY_CONSUMPTION, date(2026, 1, 2), date(2026, 1, 2))) == []
    assert list(windows(ConsoApiType.DAILY_CONSUMPTION, date(2026, 1, 3), date(2026, 1, 2))) == []


@pytest.mark.parametrize("type_", ALL_TYPES, ids=[t.value for t in ALL_TYPES])
@pytest.mark.parametrize("days", [1, 6, 7, 8, 29, 365, 366, 800])
def test_windows_tile_the_range(type_: ConsoApiType, days: int) -> None:
    end = date(2026, 11, 20)
    start = end - timedelta(days=days)
    spans = list(windows(type_, start, end, newest_first=False))
    assert spans[0][0] == start
    assert spans[-1][1] == end
    for (_, upper), (lower, _) in itertools.pairwise(spans):
        assert upper == lower
    for lower, upper in spans:
        assert 0 < (upper - lower).days <= type_.max_days


# --- map_error on shapes the simulator does not make --------------------------------------


def test_map_error_plain_503_text() -> None:
    err = map_error(503, "text/plain", "Service Unavailable")
    assert type(err) is UpstreamError
    assert err.status == 503


@pytest.mark.parametrize(
    ("content_type", "text"),
    [("text/plain", "404: Not Found"), ("text/plain", ""), ("application/json", "[]")],
)
def test_map_error_404_not_from_conso_api_is_invalid(content_type: str, text: str) -> None:
    """Conso API answers every 404 in a JSON object: anything else is another server."""
    err = map_error(404, content_type, text)
    assert type(err) is InvalidResponseError
    assert err.status == 404


def test_map_error_404_from_conso_api_is_no_data() -> None:
    text = '{"status":404,"message":"The Enedis API returned an error","error":{}}'
    assert type(map_error(404, "application/json", text)) is NoDataError


def test_map_error_504_html_is_upstream() -> None:
    err = map_error(504, "text/html", "<html><body>Gateway Timeout</body></html>")
    assert type(err) is UpstreamError
    assert err.status == 504
    assert "<" not in str(err)


def test_map_error_invalid_parameters_is_request_error() -> None:
    text = (
        '{"status":400,"message":"Paramètres invalides","error":{"issues":[{"code":"too_small",'
        '"minimum":14,"type":"string","inclusive":true,"exact":true,"message":"String must '
        'contain exactly 14 character(s)","path":["pointId"]}],"name":"ZodError"}}'
    )
    err = map_error(400, "application/json", text)
    assert type(err) is RequestError
    assert err.status == 400
    assert "Paramètres invalides" in str(err)


def test_map_error_missing_authorization_header_is_auth_error() -> None:
    text = '{"status":400,"message":"Le header \'Authorization\' est manquant ou invalide"}'
    err = map_error(400, "application/json", text)
    assert type(err) is AuthError
    assert err.status == 400


def test_map_error_legacy_date_order_is_request_error() -> None:
    text = (
        '{"status":400,"message":"The Enedis API returned an error","error":{"error":'
        '"ADAM-ERR0002","error_description":"La date de fin doit être supérieure à la date '
        'de début."}}'
    )
    err = map_error(400, "application/json", text)
    assert type(err) is RequestError
    assert err.code == "ADAM-ERR0002"


def test_map_error_unwrapped_top_level_fault_is_quota() -> None:
    text = (
        '{"fault":{"code":900807,"message":"Message throttled out",'
        '"description":"You have exceeded your quota"}}'
    )
    err = map_error(429, "application/json", text)
    assert type(err) is QuotaError
    assert err.code == "900807"
    assert err.retry_at is None


def test_map_error_quota_unparseable_next_access_time() -> None:
    text = '{"status":429,"error":{"code":"900804","nextAccessTime":"tomorrow"}}'
    err = map_error(429, "application/json", text)
    assert isinstance(err, QuotaError)
    assert err.retry_at is None


def test_map_error_top_level_next_access_time() -> None:
    text = '{"code":"900804","nextAccessTime":"2026-Jul-17 05:00:00+0000 UTC"}'
    err = map_error(429, "application/json", text)
    assert isinstance(err, QuotaError)
    assert err.retry_at == datetime(2026, 7, 17, 5, 0, tzinfo=UTC)


def test_map_error_long_description_is_shortened() -> None:
    text = '{"status":500,"error":{"error":"technical_error","error_description":"' + (
        "x" * 1000 + '"}}'
    )
    err = map_error(500, "application/json", text)
    assert type(err) is UpstreamError
    assert len(str(err)) < 300


def test_map_error_unexpected_status() -> None:
    err = map_error(418, "application/json", '{"message":"teapot"}')
    assert type(err) is UpstreamError
    assert err.status == 418
