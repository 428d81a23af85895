"""ClimkitClient against the Climkit simulator (real aiohttp session on 127.0.0.1).

Ground truth: /work/shared/docs/climkit.md §2 (verified behaviour), §4 (payloads), §6 (client
behaviour). Time never really passes: the Pacer, the client (`now=`) and the simulator
(`clock=`) share one fake clock, and the Pacer's `sleep` only advances it. The one exception is
the `timeout` fault, which needs a real (0.2 s) client timeout.
"""

import asyncio
import base64
import itertools
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from custom_components.linky_climkit.providers.climkit import (
    BACKOFF,
    DEFAULT_TOKEN_LIFETIME,
    MAX_RETRIES,
    ClimkitClient,
    Pacer,
    _expiry,
    is_valid_id,
    utc_naive,
)
from custom_components.linky_climkit.providers.climkit_model import MeterInfo, SiteInfo
from custom_components.linky_climkit.providers.errors import (
    AuthError,
    InvalidResponseError,
    NoDataError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
    UpstreamError,
)
from tests.simulators.climkit import (
    CAPTURE_METER_INFO_FILE,
    CAPTURE_SITE_ID,
    DEFAULT_CREATION,
    DEMO_SITE_ID,
    FAULT_KINDS,
    FIXTURES_DIR,
    ClimkitSimulator,
    SiteSpec,
    demo_site,
    real_capture_site,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py's autouse fixture: no Home Assistant instance is needed."""


ZURICH = ZoneInfo("Europe/Zurich")
BASE = datetime(2024, 11, 20, 10, 0, 0, tzinfo=UTC)  # whole second: JWT iat/exp are ints
USERNAME = "cktDevUser_123"
PASSWORD = "Sup3r-s3cret-Pa55word!"
USER_AGENT = "linky_climkit-tests/1.0 (+https://example.invalid/linky_climkit)"
UNKNOWN_SITE = "65f0a1b2c3d4e5f6071829ff"
NAIVE_UTC = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


# --- harness ---------------------------------------------------------------------------------


class FakeClock:
    """One clock for the Pacer (monotonic seconds), the client and the simulator (datetimes)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return BASE + timedelta(seconds=self.t)

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def set(self, seconds: float) -> None:
        self.t = seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


class RecordingSimulator(ClimkitSimulator):
    """The simulator, also keeping request headers and every token it issued."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers: list[dict[str, str]] = []
        self.issued: list[str] = []

    async def _handle(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        return await super()._handle(request)

    def _new_token(self, now: datetime) -> tuple[str, datetime]:
        token, expires = super()._new_token(now)
        self.issued.append(token)
        return token, expires


@dataclass
class Harness:
    session: aiohttp.ClientSession
    clock: FakeClock = field(default_factory=FakeClock)
    sims: list[RecordingSimulator] = field(default_factory=list)
    runners: list[web.AppRunner] = field(default_factory=list)
    extra_secrets: list[str] = field(default_factory=list)

    async def simulator(self, *sites: SiteSpec, **kwargs: Any) -> RecordingSimulator:
        kwargs.setdefault("username", USERNAME)
        kwargs.setdefault("password", PASSWORD)
        sim = RecordingSimulator(
            list(sites) or [demo_site(battery=True, rule_meter=True), real_capture_site()],
            clock=self.clock.now,
            **kwargs,
        )
        await sim.start()
        self.sims.append(sim)
        return sim

    async def app(self, routes: list[web.RouteDef]) -> str:
        """A tiny aiohttp app on 127.0.0.1; returns its API base URL."""
        application = web.Application()
        application.add_routes(routes)
        runner = web.AppRunner(application, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}/api/v1"

    def client(
        self,
        base_url: str | RecordingSimulator,
        *,
        interval: float = 1.1,
        password: str = PASSWORD,
        timeout: float = 30.0,
    ) -> ClimkitClient:
        url = base_url if isinstance(base_url, str) else base_url.base_url
        assert url is not None
        pacer = Pacer(interval, clock=self.clock.monotonic, sleep=self.clock.sleep)
        return ClimkitClient(
            self.session,
            USERNAME,
            password,
            pacer=pacer,
            user_agent=USER_AGENT,
            base_url=url,
            timeout=timeout,
            now=self.clock.now,
        )

    def secrets(self) -> list[str]:
        tokens = [t for sim in self.sims for t in sim.issued] + self.extra_secrets
        # a token's payload and signature are secret too (the JWT header is the same for all)
        parts = [p for t in tokens for p in t.split(".")[1:] if len(p) > 8]
        return [PASSWORD, *tokens, *parts]

    def assert_secret_free(self, *objects: object) -> None:
        texts: list[str] = []
        for obj in objects:
            texts += [str(obj), repr(obj)]
            if isinstance(obj, BaseException):
                texts += [str(arg) for arg in obj.args]
                for linked in (obj.__cause__, obj.__context__):
                    if linked is not None:
                        texts += [str(linked), repr(linked)]
        for text in texts:
            for secret in self.secrets():
                assert secret not in text, text


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with aiohttp.ClientSession() as session:
        harness = Harness(session)
        try:
            yield harness
        finally:
            for sim in harness.sims:
                await sim.stop()
            for runner in harness.runners:
                await runner.cleanup()


def jwt(payload: Any) -> str:
    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'JWT', 'alg': 'HS256'})}.{part(payload)}.c2lnbmF0dXJlLWJ5dGVz"


def endpoints(sim: ClimkitSimulator) -> list[tuple[str, int]]:
    return [(c.endpoint, c.status) for c in sim.calls]


def auth_route(answer: Any, status: int = 200) -> web.RouteDef:
    async def handler(request: web.Request) -> web.Response:
        if isinstance(answer, str):
            return web.Response(status=status, text=answer, content_type="text/plain")
        return web.json_response(answer, status=status)

    return web.post("/api/v1/auth", handler)


# --- auth ------------------------------------------------------------------------------------


async def test_auth_sends_json_credentials(h: Harness) -> None:
    sim = await h.simulator()
    client = h.client(sim)

    await client.authenticate()

    (call,) = sim.calls
    assert (call.method, call.endpoint, call.status) == ("POST", "auth", 200)
    assert call.body == {"username": USERNAME, "password": PASSWORD}
    (headers,) = sim.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == USER_AGENT
    assert "Authorization" not in headers
    assert client.auth_count == 1
    assert client._valid_until == BASE + timedelta(seconds=900)  # valid_until.$date (ms)
    assert client._token == sim.issued[0]
    h.assert_secret_free(client)


async def test_token_reused_across_calls(h: Harness) -> None:
    sim = await h.simulator()
    client = h.client(sim)

    await client.all_installations()
    await client.installation_infos(DEMO_SITE_ID)
    await client.meter_info(DEMO_SITE_ID)

    assert [e for e, _ in endpoints(sim)] == [
        "auth",
        "all_installations",
        "installation_infos",
        "meter_info",
    ]
    assert client.auth_count == 1
    (token,) = sim.issued
    assert [hd.get("Authorization") for hd in sim.headers[1:]] == [f"Bearer {token}"] * 3
    assert client.request_count == 4


async def test_token_renewed_60s_before_valid_until(h: Harness) -> None:
    sim = await h.simulator()
    client = h.client(sim)
    await client.all_installations()
    valid_until = BASE + timedelta(seconds=900)
    assert client._valid_until == valid_until

    h.clock.set(900 - 61)  # 61 s left: still used
    await client.all_installations()
    assert client.auth_count == 1

    h.clock.set(900 - 60)  # 60 s left: renewed first
    await client.all_installations()
    assert client.auth_count == 2
    assert [e for e, _ in endpoints(sim)] == [
        "auth",
        "all_installations",
        "all_installations",
        "auth",
        "all_installations",
    ]
    first, second = sim.issued
    assert first != second
    assert sim.headers[-1]["Authorization"] == f"Bearer {second}"
    assert client._valid_until == sim.calls_to("auth")[-1].at + timedelta(seconds=900)
    assert all(status == 200 for _, status in endpoints(sim))


async def test_legacy_auth_expiry_from_jwt_exp(h: Harness) -> None:
    sim = await h.simulator(legacy_auth=True, token_lifetime=300)
    client = h.client(sim)

    await client.all_installations()
    assert client._valid_until == BASE + timedelta(seconds=300)  # the JWT's exp claim

    h.clock.set(239)
    await client.all_installations()
    assert client.auth_count == 1
    h.clock.set(240)
    await client.all_installations()
    assert client.auth_count == 2
    assert all(status == 200 for _, status in endpoints(sim))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("opaque-token-without-any-dot", id="opaque"),
        pytest.param(jwt({"sub": USERNAME, "iat": 1}), id="jwt-without-exp"),
        pytest.param(jwt({"exp": "soon"}), id="jwt-exp-string"),
    ],
)
async def test_no_expiry_anywhere_gives_14_minutes(h: Harness, token: str) -> None:
    h.extra_secrets.append(token)
    url = await h.app([auth_route({"access_token": token})])
    client = h.client(url)
    h.clock.set(1234)

    await client.authenticate()

    assert client._valid_until == BASE + timedelta(seconds=1234) + DEFAULT_TOKEN_LIFETIME
    assert timedelta(minutes=14) == DEFAULT_TOKEN_LIFETIME
    assert client._token == token
    h.assert_secret_free(client)


EXPIRY = datetime(2024, 11, 20, 10, 15, tzinfo=UTC)
EXP_TOKEN = jwt({"sub": USERNAME, "exp": int(EXPIRY.timestamp()) + 42})
EXP = EXPIRY + timedelta(seconds=42)
OPAQUE = "opaque"


@pytest.mark.parametrize(
    ("body", "token", "expected"),
    [
        ({"valid_until": {"$date": int(EXPIRY.timestamp() * 1000)}}, OPAQUE, EXPIRY),
        ({"valid_until": int(EXPIRY.timestamp())}, OPAQUE, EXPIRY),  # int seconds
        ({"valid_until": int(EXPIRY.timestamp() * 1000)}, OPAQUE, EXPIRY),  # int ms
        ({"valid_until": EXPIRY.timestamp() + 0.5}, OPAQUE, EXPIRY + timedelta(seconds=0.5)),
        ({"valid_until": {"$date": int(EXPIRY.timestamp())}}, EXP_TOKEN, EXPIRY),
        ({"valid_until": "2024-11-20T10:15:00+00:00"}, OPAQUE, EXPIRY),
        ({"valid_until": "2024-11-20 11:15:00+01:00"}, OPAQUE, EXPIRY),
        ({"valid_until": "2024-11-20T10:15:00Z"}, OPAQUE, EXPIRY),
        ({"valid_until": "2024-11-20T10:15:00"}, OPAQUE, EXPIRY),  # naive: UTC
        ({"valid_until": {"$date": "2024-11-20T10:15:00Z"}}, OPAQUE, EXPIRY),
        # garbage valid_until: the JWT exp, else nothing (the caller then uses now + 14 min)
        ({"valid_until": "garbage"}, EXP_TOKEN, EXP),
        ({"valid_until": "garbage"}, OPAQUE, None),
        ({"valid_until": True}, EXP_TOKEN, EXP),
        ({"valid_until": True}, OPAQUE, None),
        ({"valid_until": None}, OPAQUE, None),
        ({"valid_until": []}, OPAQUE, None),
        ({"valid_until": {}}, EXP_TOKEN, EXP),
        ({"valid_until": {"$date": None}}, OPAQUE, None),
        ({}, EXP_TOKEN, EXP),
        ({}, OPAQUE, None),
        ({}, "a.b.c", None),
        ({}, "a.!!!!.c", None),
        ({}, "a." + base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode() + ".c", None),
        ({}, jwt([1, 2]), None),
        ({}, jwt({"exp": True}), None),
        ({}, jwt({"exp": None}), None),
        ({}, jwt({"exp": 1732097742.5}), datetime.fromtimestamp(1732097742.5, UTC)),
    ],
)
def test_expiry_shapes(body: dict[str, Any], token: str, expected: datetime | None) -> None:
    result = _expiry(body, token)
    assert result == expected
    if result is not None:
        assert result.tzinfo is not None


@pytest.mark.parametrize(
    ("body", "token"),
    [
        pytest.param({"valid_until": {"$date": 10**20}}, OPAQUE, id="date-too-large"),
        pytest.param({"valid_until": 1e300}, OPAQUE, id="float-too-large"),
        pytest.param({"valid_until": -(10**17)}, OPAQUE, id="too-negative"),
        pytest.param({}, jwt({"exp": 10**20}), id="jwt-exp-too-large"),
    ],
)
def test_expiry_out_of_range_numbers_are_ignored(body: dict[str, Any], token: str) -> None:
    assert _expiry(body, token) is None


async def test_authenticate_survives_out_of_range_valid_until(h: Harness) -> None:
    url = await h.app([auth_route({"access_token": OPAQUE, "valid_until": {"$date": 10**20}})])
    client = h.client(url)
    await client.authenticate()
    assert client._valid_until == BASE + DEFAULT_TOKEN_LIFETIME


async def test_bad_credentials_raise_auth_error(h: Harness) -> None:
    sim = await h.simulator()
    client = h.client(sim, password="wrong-" + PASSWORD)

    with pytest.raises(AuthError) as caught:
        await client.all_installations()

    assert caught.value.status == 401
    assert endpoints(sim) == [("auth", 401)]  # not retried, nothing else sent
    assert client.auth_count == 0
    assert client._token is None
    h.assert_secret_free(caught.value, client)
    assert "wrong-" not in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"msg": "ok"}, id="no-token"),
        pytest.param({"access_token": ""}, id="empty"),
        pytest.param({"access_token": None}, id="null"),
        pytest.param({"access_token": 12345}, id="number"),
        pytest.param({"token": "eyJ.x.y"}, id="other-key"),
        pytest.param(["eyJ.x.y"], id="list"),
        pytest.param("null", id="json-null"),
    ],
)
async def test_200_without_access_token_is_auth_error(h: Harness, answer: Any) -> None:
    if answer == "null":
        answer = None
    url = await h.app([auth_route(answer)])
    client = h.client(url)

    with pytest.raises(AuthError) as caught:
        await client.authenticate()

    assert client._token is None
    assert client.request_count == 1
    h.assert_secret_free(caught.value, client)


async def test_auth_200_not_json_is_invalid_response(h: Harness) -> None:
    url = await h.app([auth_route("<html>maintenance</html>")])
    client = h.client(url)
    with pytest.raises(InvalidResponseError) as caught:
        await client.authenticate()
    h.assert_secret_free(caught.value, client)


@pytest.mark.parametrize("status", [401, 403, 422])
async def test_auth_refusals_are_auth_errors(h: Harness, status: int) -> None:
    url = await h.app([auth_route({"msg": "Bad username or password"}, status)])
    client = h.client(url)
    with pytest.raises(AuthError) as caught:
        await client.authenticate()
    assert caught.value.status == status
    assert h.clock.sleeps == []  # not retried
    h.assert_secret_free(caught.value, client)


async def test_auth_400_is_auth_error(h: Harness) -> None:
    url = await h.app([auth_route({"msg": "Bad request"}, 400)])
    client = h.client(url)
    with pytest.raises(AuthError):
        await client.authenticate()


# --- 401 on a data call ----------------------------------------------------------------------


async def test_401_reauthenticates_once_then_retries(h: Harness) -> None:
    sim = await h.simulator()
    client = h.client(sim)
    sim.add_fault("unauthorized", paths="all_installations", remaining=1)

    sites = await client.all_installations()

    assert sites == [DEMO_SITE_ID, CAPTURE_SITE_ID]
    assert endpoints(sim) == [
        ("auth", 200),
        ("all_installations", 401),
        ("auth", 200),
        ("all_installations", 200),
    ]
    assert client.auth_count == 2
    assert sim.headers[-1]["Authorization"] == f"Bearer {sim.issued[-1]}"


async def test_revoked_token_reauthenticates_once(h: Harness) -> None:
    sim = await h.simulator()
    client = h.client(sim)
    await client.all_installations()
    sim.revoke_tokens()  # real "Token has expired" 401 well before valid_until

    await client.meter_info(DEMO_SITE_ID)

    assert endpoints(sim)[1:] == [
        ("all_installations", 200),
        ("meter_info", 401),
        ("auth", 200),
        ("meter_info", 200),
    ]


async def test_second_401_is_auth_error(h: Harness) -> None:
    sim = await h.simulator()
    client = h.client(sim)
    sim.add_fault("unauthorized", paths="all_installations")

    with pytest.raises(AuthError) as caught:
        await client.all_installations()

    assert caught.value.status == 401
    assert endpoints(sim) == [
        ("auth", 200),
        ("all_installations", 401),
        ("auth", 200),
        ("all_installations", 401),
    ]
    assert client.auth_count == 2
    h.assert_secret_free(caught.value, client)


# --- pacing and retries ----------------------------------------------------------------------


async def test_pacer_spaces_calls_and_avoids_429(h: Harness) -> None:
    sim = await h.simulator(rate_limit=True)  # 1 request/s, /auth included
    client = h.client(sim, interval=1.1)

    for i in range(10):
        if i % 2:
            await client.meter_info(DEMO_SITE_ID)
        else:
            await client.all_installations()

    assert len(sim.calls) == 11  # /auth + 10
    assert all(c.status == 200 for c in sim.calls)
    starts = [c.at for c in sim.calls]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= timedelta(seconds=1.1) - timedelta(microseconds=1)
    assert max(gaps) <= timedelta(seconds=1.1) + timedelta(microseconds=1)
    assert len(h.clock.sleeps) == 10  # only Pacer waits, no back-off


async def test_pacer_serialises_concurrent_users() -> None:
    clock = FakeClock()
    pacer = Pacer(1.1, clock=clock.monotonic, sleep=clock.sleep)
    starts: list[float] = []

    async def use() -> None:
        async with pacer:
            starts.append(clock.t)
            await asyncio.sleep(0)

    await asyncio.gather(*(use() for _ in range(4)))
    assert starts == pytest.approx([0.0, 1.1, 2.2, 3.3])
    await pacer.wait(7.0)
    assert clock.sleeps[-1] == 7.0


async def test_429_retried_after_backoff(h: Harness) -> None:
    sim = await h.simulator(rate_limit=True)  # Retry-After: 1
    client = h.client(sim, interval=0)

    sites = await client.all_installations()

    assert sites == [DEMO_SITE_ID, CAPTURE_SITE_ID]
    assert endpoints(sim) == [
        ("auth", 200),
        ("all_installations", 429),
        ("all_installations", 200),
    ]
    # Retry-After (1 s) is shorter than the first back-off step: the longer one wins
    assert h.clock.sleeps == [max(BACKOFF[0], 1.0)]


async def test_429_honours_a_longer_retry_after(h: Harness) -> None:
    sim = await h.simulator(rate_limit=True, rate_limit_interval=5)  # Retry-After: 5
    client = h.client(sim, interval=0)

    await client.all_installations()
    await client.meter_info(DEMO_SITE_ID)

    assert endpoints(sim) == [
        ("auth", 200),
        ("all_installations", 429),
        ("all_installations", 200),
        ("meter_info", 429),
        ("meter_info", 200),
    ]
    assert h.clock.sleeps == [5.0, 5.0]


async def test_permanent_rate_limit_is_quota_error(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    sim.add_fault("rate_limited", paths="all_installations")

    with pytest.raises(QuotaError) as caught:
        await client.all_installations()

    assert len(sim.calls_to("all_installations")) == MAX_RETRIES + 1
    assert all(c.status == 429 for c in sim.calls_to("all_installations"))
    assert h.clock.sleeps == list(BACKOFF)
    assert caught.value.status == 429
    assert caught.value.retry_at == h.clock.now() + timedelta(seconds=1)
    h.assert_secret_free(caught.value, client)


@pytest.mark.parametrize(("kind", "status"), [("server_error", 500), ("bad_gateway", 502)])
async def test_5xx_retried_then_upstream_error(h: Harness, kind: str, status: int) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    sim.add_fault(kind, paths="meter_info")

    with pytest.raises(UpstreamError) as caught:
        await client.meter_info(DEMO_SITE_ID)

    assert type(caught.value) is UpstreamError
    assert caught.value.status == status
    assert endpoints(sim) == [("auth", 200)] + [("meter_info", status)] * (MAX_RETRIES + 1)
    assert h.clock.sleeps == list(BACKOFF)
    h.assert_secret_free(caught.value, client)


async def test_transient_5xx_recovers(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    sim.add_fault("server_error", paths="auth", remaining=1)
    sim.add_fault("bad_gateway", paths="meter_info", remaining=2)

    meters = await client.meter_info(DEMO_SITE_ID)

    assert meters
    assert endpoints(sim) == [
        ("auth", 500),
        ("auth", 200),
        ("meter_info", 502),
        ("meter_info", 502),
        ("meter_info", 200),
    ]
    assert h.clock.sleeps == [BACKOFF[0], BACKOFF[0], BACKOFF[1]]


async def test_timeout_is_connection_error(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False, delay_seconds=1)
    client = h.client(sim, interval=0, timeout=0.2)
    await client.authenticate()
    sim.add_fault("timeout", paths="all_installations")

    with pytest.raises(ProviderConnectionError) as caught:
        await client.all_installations()

    assert len(sim.calls_to("all_installations")) == MAX_RETRIES + 1
    assert h.clock.sleeps == list(BACKOFF)
    assert caught.value.status is None
    h.assert_secret_free(caught.value, client)


async def test_closed_port_is_connection_error(h: Harness) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = h.client(f"http://127.0.0.1:{port}/api/v1", interval=0)

    with pytest.raises(ProviderConnectionError) as caught:
        await client.all_installations()

    assert client.request_count == MAX_RETRIES + 1
    assert h.clock.sleeps == list(BACKOFF)
    assert client.auth_count == 0
    h.assert_secret_free(caught.value, client)


@pytest.mark.parametrize("kind", ["html_200", "truncated_json"])
@pytest.mark.parametrize("endpoint", ["all_installations", "meter_info", "site_data"])
async def test_non_json_200_is_invalid_response(h: Harness, kind: str, endpoint: str) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    sim.add_fault(kind, paths=endpoint)
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "all_installations": client.all_installations,
        "meter_info": lambda: client.meter_info(DEMO_SITE_ID),
        "site_data": lambda: client.site_data(
            DEMO_SITE_ID, "electricity", BASE - timedelta(hours=3), None
        ),
    }

    with pytest.raises(InvalidResponseError) as caught:
        await calls[endpoint]()

    assert endpoints(sim) == [("auth", 200), (endpoint, 200)]  # not retried
    assert h.clock.sleeps == []
    h.assert_secret_free(caught.value, client)


async def test_html_200_on_auth_is_invalid_response(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    sim.add_fault("html_200", paths="auth")
    with pytest.raises(InvalidResponseError) as caught:
        await client.all_installations()
    assert endpoints(sim) == [("auth", 200)]
    h.assert_secret_free(caught.value, client)


async def test_wrong_shape_on_list_endpoints(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    sim.add_fault(
        "wrong_shape", paths=["all_installations", "meter_info", "site_data", "meter_data"]
    )
    meter = demo_site().meters[1].id
    start = BASE - timedelta(hours=3)
    calls: list[Callable[[], Awaitable[Any]]] = [
        client.all_installations,
        lambda: client.meter_info(DEMO_SITE_ID),
        lambda: client.site_data(DEMO_SITE_ID, "electricity", start, None),
        lambda: client.meter_data(DEMO_SITE_ID, meter, start, None),
    ]

    for call in calls:
        with pytest.raises(InvalidResponseError) as caught:
            await call()
        h.assert_secret_free(caught.value, client)

    assert [e for e, _ in endpoints(sim)] == [
        "auth",
        "all_installations",
        "meter_info",
        "site_data",
        "meter_data",
    ]


def test_fault_kinds_covered() -> None:
    covered = {
        "server_error",
        "bad_gateway",
        "timeout",
        "rate_limited",
        "unauthorized",
        "html_200",
        "truncated_json",
        "wrong_shape",
        "site_gone",
    }
    # nulls/drop_rows only alter rows: the parser's business (test_climkit_parse.py)
    assert covered | {"nulls", "drop_rows"} == set(FAULT_KINDS)


# --- endpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["strings", "objects"])
async def test_all_installations_modes(h: Harness, mode: str) -> None:
    hidden = demo_site(UNKNOWN_SITE)
    hidden.owned = False
    sim = await h.simulator(
        demo_site(), real_capture_site(), hidden, installations_mode=mode, rate_limit=False
    )
    client = h.client(sim)
    assert await client.all_installations() == [DEMO_SITE_ID, CAPTURE_SITE_ID]


def patch_request(client: ClimkitClient, answer: Any) -> list[tuple[str, str, Any]]:
    """Replace the transport with a canned answer; returns the requests made."""
    sent: list[tuple[str, str, Any]] = []

    async def fake(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        sent.append((method, path, body))
        return answer

    client._request = fake  # type: ignore[method-assign]
    return sent


def offline_client() -> ClimkitClient:
    return ClimkitClient(
        None,  # type: ignore[arg-type]
        USERNAME,
        PASSWORD,
        pacer=Pacer(0),
        user_agent=USER_AGENT,
    )


A = "61dfca84eba4e3564021f366"
B = "63a1f0c2e4b5d71a9c3e8f21"
C = "0123456789abcdef01234567"
D = "fedcba9876543210fedcba98"
E = "aaaaaaaaaaaaaaaaaaaaaaaa"
F = "bbbbbbbbbbbbbbbbbbbbbbbb"


async def test_all_installations_id_shapes() -> None:
    client = offline_client()
    sent = patch_request(
        client,
        [
            A,
            {"$oid": B},
            {"_id": {"$oid": C}, "name": "Résidence", "site_ref": "CK-1"},
            {"_id": D},
            {"id": E},
            {"site_id": F, "name": "x"},
            "61DFCA84EBA4E3564021F366",  # not lowercase hex
            "61dfca84eba4e3564021f36",  # 23
            "../auth/61dfca84eba4e3564021f366",
            {"_id": {"$oid": "nope"}},
            "",
        ],
    )
    assert await client.all_installations() == [A, B, C, D, E, F]
    assert sent == [("GET", "/all_installations", None)]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"sites": [A]}, id="object"),
        pytest.param(None, id="null"),
        pytest.param([A, {"name": "no id"}], id="item-without-id"),
        pytest.param([A, 42], id="number-item"),
        pytest.param([A, None], id="null-item"),
        pytest.param([{"_id": 123}], id="numeric-id"),
    ],
)
async def test_all_installations_bad_shapes(answer: Any) -> None:
    client = offline_client()
    patch_request(client, answer)
    with pytest.raises(InvalidResponseError):
        await client.all_installations()


@pytest.mark.parametrize("address_mode", ["current", "2022"])
async def test_installation_infos_modes(h: Harness, address_mode: str) -> None:
    sim = await h.simulator(address_mode=address_mode, rate_limit=False)
    client = h.client(sim)

    info = await client.installation_infos(DEMO_SITE_ID)

    assert info == SiteInfo(
        id=DEMO_SITE_ID,
        name="Résidence du Lac",
        timezone="Europe/Zurich",
        creation=DEFAULT_CREATION,
        address="Rue du Lac 12, 1400 Yverdon-les-Bains",
        site_ref=sim.sites[DEMO_SITE_ID].ref,
    )
    assert info.creation is not None
    assert info.creation.tzinfo is not None
    ZoneInfo(info.timezone)
    call = sim.calls[-1]
    assert (call.method, call.path) == ("GET", f"/api/v1/installation_infos/{DEMO_SITE_ID}")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {},
            {"name": A, "timezone": "Europe/Zurich", "creation": None, "address": None},
        ),
        (
            {"site_ref": "CK-0421", "creation_date": {"$date": 1642056324000}},
            {
                "name": "CK-0421",
                "site_ref": "CK-0421",
                "creation": datetime(2022, 1, 13, 6, 45, 24, tzinfo=UTC),
            },
        ),
        (
            {"creation_date": 1642056324, "timezone": "Europe/Paris"},
            {
                "timezone": "Europe/Paris",
                "creation": datetime(2022, 1, 13, 6, 45, 24, tzinfo=UTC),
            },
        ),
        (
            {"creation_date": "2022-01-13 07:45:24+01:00"},
            {"creation": datetime(2022, 1, 13, 6, 45, 24, tzinfo=UTC)},
        ),
        ({"creation_date": "13/01/2022"}, {"creation": None}),
        ({"creation_date": True}, {"creation": None}),
        ({"address": "Rue du Lac 12"}, {"address": None}),
        ({"address": {"street_name": "", "city": None}}, {"address": None}),
        ({"address": {"city": "Yverdon"}}, {"address": "Yverdon"}),
        ({"address": {"street_name": "Rue", "street_number": 5}}, {"address": "Rue 5"}),
    ],
)
async def test_installation_infos_lenient(answer: dict[str, Any], expected: dict[str, Any]) -> None:
    client = offline_client()
    sent = patch_request(client, answer)
    info = await client.installation_infos(A)
    for key, value in expected.items():
        assert getattr(info, key) == value, key
    assert sent == [("GET", f"/installation_infos/{A}", None)]


async def test_installation_infos_not_an_object() -> None:
    client = offline_client()
    patch_request(client, [A])
    with pytest.raises(InvalidResponseError):
        await client.installation_infos(A)


async def test_meter_info_current_mode(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim)
    spec = sim.sites[DEMO_SITE_ID]

    meters = await client.meter_info(DEMO_SITE_ID)

    assert [m.id for m in meters] == [m.id for m in spec.meters]
    for meter, source in zip(meters, spec.meters, strict=True):
        assert meter.type == source.type
        assert meter.prim_ad == source.prim_ad
        assert meter.name == source.name
        assert meter.mode == source.mode
        assert meter.role == source.mode
        assert meter.is_rule_meter is source.is_rule_meter
        assert meter.virtual is False
    roles = {m.prim_ad: m.role for m in meters}
    assert roles[10] == "introduction"
    assert roles[101] == "production"
    assert roles[201] == "battery"
    assert roles[11] == "consumption"
    assert [m.prim_ad for m in meters if m.is_rule_meter] == [90]


async def test_meter_info_2022_mode(h: Harness) -> None:
    sim = await h.simulator(meter_info_mode="2022", rate_limit=False)
    client = h.client(sim)

    meters = await client.meter_info(CAPTURE_SITE_ID)

    assert all(isinstance(m.prim_ad, int) for m in meters)
    assert all(m.mode is None and m.name is None and not m.is_rule_meter for m in meters)
    assert {m.prim_ad: m.role for m in meters} == {
        10: "introduction",
        101: "production",
        11: "consumption",
        12: "consumption",
        13: "consumption",
        14: "consumption",
    }
    raw = json.loads((FIXTURES_DIR / CAPTURE_METER_INFO_FILE).read_text(encoding="utf-8"))
    assert [m.id for m in meters] == [item["id"] for item in raw]


@pytest.mark.parametrize(
    ("prim_ad", "mode", "role"),
    [
        (10, None, "introduction"),
        (11, None, "consumption"),
        (99, None, "consumption"),
        (100, None, "production"),
        (101, None, "production"),
        (None, None, "consumption"),
        (10, "consumption", "consumption"),
        (101, "battery", "battery"),
    ],
)
def test_meter_role(prim_ad: int | None, mode: str | None, role: str) -> None:
    meter = MeterInfo(A, "electricity", prim_ad, None, mode, False, False)
    assert meter.role == role


async def test_meter_info_lenient() -> None:
    client = offline_client()
    patch_request(
        client,
        [
            {"id": A, "prim_ad": " 12 "},
            {"id": B, "type": "heating", "prim_ad": "abc", "name": 7, "is_rule_meter": 1},
            {"_id": {"$oid": C}, "type": "cold_water", "prim_ad": None, "virtual": True},
            {"id": "not-an-id", "prim_ad": 10},
            {"type": "electricity"},
        ],
    )
    meters = await client.meter_info(A)
    assert meters == [
        MeterInfo(A, "electricity", 12, None, None, False, False),
        MeterInfo(B, "heating", None, "7", None, True, False),
        MeterInfo(C, "cold_water", None, None, None, False, True),
    ]


@pytest.mark.parametrize("answer", [{"meters": []}, [[]], ["61dfca85eba4e3564021f36d"]])
async def test_meter_info_bad_shapes(answer: Any) -> None:
    client = offline_client()
    patch_request(client, answer)
    with pytest.raises(InvalidResponseError):
        await client.meter_info(A)


async def test_site_data_request_body_and_rows(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim)
    start = datetime(2024, 11, 20, 7, 0, tzinfo=ZURICH)  # 06:00 UTC
    end = datetime(2024, 11, 20, 9, 0, tzinfo=ZURICH)  # 08:00 UTC

    rows = await client.site_data(DEMO_SITE_ID, "electricity", start, end)

    call = sim.calls[-1]
    assert (call.method, call.path, call.status) == (
        "POST",
        f"/api/v1/site_data/{DEMO_SITE_ID}/electricity",
        200,
    )
    assert call.body == {
        "t_s": "2024-11-20 06:00:00",
        "sampling_frequency": "15T",
        "t_e": "2024-11-20 08:00:00",
    }
    assert NAIVE_UTC.fullmatch(call.body["t_s"])
    assert NAIVE_UTC.fullmatch(call.body["t_e"])
    assert sim.headers[-1]["Content-Type"] == "application/json"
    truth = sim.interval_values(
        DEMO_SITE_ID, "electricity", start.astimezone(UTC), end.astimezone(UTC)
    )
    assert len(rows) == len(truth) == 9
    for row, expected in zip(rows, truth, strict=True):
        values = dict(expected)
        stamp = values.pop("end")
        assert row["timestamp"] == stamp.isoformat(sep=" ")
        assert {k: v for k, v in row.items() if k != "timestamp"} == values


async def test_site_data_open_end_and_other_types(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim)
    start = BASE - timedelta(hours=2, minutes=7, seconds=30)

    heat = await client.site_data(DEMO_SITE_ID, "heating", start, None)
    water = await client.site_data(DEMO_SITE_ID, "cold_water", start, None)
    hot = await client.site_data(DEMO_SITE_ID, "hot_water", start, None)

    bodies = [c.body for c in sim.calls_to("site_data")]
    assert bodies == [{"t_s": "2024-11-20 07:52:30", "sampling_frequency": "15T", "t_e": None}] * 3
    heat_meter = next(m.id for m in sim.sites[DEMO_SITE_ID].meters if m.type == "heating")
    assert heat
    assert all(f"total_{heat_meter}" in row for row in heat)
    assert water
    assert hot == []
    # open end: up to the simulator's latest available row (now - 20 min latency, floored)
    assert heat[-1]["timestamp"] == "2024-11-20 10:30:00+01:00"


@pytest.mark.parametrize("meter_type", ["cooling", "charge_point", "gas", "", "Electricity"])
async def test_site_data_unknown_type_is_value_error(h: Harness, meter_type: str) -> None:
    sim = await h.simulator()
    client = h.client(sim)
    with pytest.raises(ValueError, match="meter type"):
        await client.site_data(DEMO_SITE_ID, meter_type, BASE - timedelta(hours=1), None)
    assert sim.calls == []


BAD_IDS = [
    "",
    "61dfca84eba4e3564021f36",
    "61dfca84eba4e3564021f3666",
    "61DFCA84EBA4E3564021F366",
    "../../auth?x=61dfca84eba4",
    "61dfca84eba4e3564021f36g",
    " 61dfca84eba4e3564021f366",
    "61dfca84eba4e3564021f366\n",
]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_invalid_ids_rejected_before_any_call(h: Harness, bad: str) -> None:
    sim = await h.simulator()
    client = h.client(sim)
    start = BASE - timedelta(hours=1)
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: client.installation_infos(bad),
        lambda: client.meter_info(bad),
        lambda: client.site_data(bad, "electricity", start, None),
        lambda: client.meter_data(bad, A, start, None),
        lambda: client.meter_data(A, bad, start, None),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="24 hexadecimal"):
            await call()
    assert sim.calls == []
    assert client.request_count == 0
    assert not is_valid_id(bad)


@pytest.mark.parametrize("endpoint", ["installation_infos", "meter_info", "site_data"])
async def test_site_gone_is_no_data(h: Harness, endpoint: str) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    sim.add_fault("site_gone", paths=DEMO_SITE_ID)
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "installation_infos": lambda: client.installation_infos(DEMO_SITE_ID),
        "meter_info": lambda: client.meter_info(DEMO_SITE_ID),
        "site_data": lambda: client.site_data(
            DEMO_SITE_ID, "electricity", BASE - timedelta(hours=1), None
        ),
    }

    with pytest.raises(NoDataError) as caught:
        await calls[endpoint]()

    assert caught.value.status == 404
    assert endpoints(sim) == [("auth", 200), (endpoint, 404)]
    assert h.clock.sleeps == []
    h.assert_secret_free(caught.value, client)


async def test_unknown_site_is_no_data(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim)
    with pytest.raises(NoDataError) as caught:
        await client.meter_info(UNKNOWN_SITE)
    assert caught.value.status == 404
    h.assert_secret_free(caught.value, client)


async def test_meter_data_shapes(h: Harness) -> None:
    sim = await h.simulator(round3=True, rate_limit=False)
    client = h.client(sim)
    spec = sim.sites[DEMO_SITE_ID]
    by_mode = {m.mode: m.id for m in spec.meters if m.type == "electricity" and not m.is_rule_meter}
    start = datetime(2024, 11, 20, 6, 0, tzinfo=UTC)
    end = datetime(2024, 11, 20, 7, 0, tzinfo=UTC)

    consumer = await client.meter_data(DEMO_SITE_ID, by_mode["consumption"], start, end)
    producer = await client.meter_data(DEMO_SITE_ID, by_mode["production"], start, end)
    introduction = await client.meter_data(DEMO_SITE_ID, by_mode["introduction"], start, None)

    assert len(consumer) == len(producer) == 5
    assert all(set(row) == {"ext", "self", "total", "timestamp"} for row in consumer)
    assert all(set(row) == {"total", "timestamp"} for row in producer)
    assert introduction == []
    for row in consumer:
        assert row["total"] == pytest.approx(row["ext"] + row["self"], abs=2e-3)
    assert consumer[0]["timestamp"] == "2024-11-20 07:00:00+01:00"
    calls = sim.calls_to("meter_data")
    assert calls[0].path == f"/api/v1/meter_data/{DEMO_SITE_ID}/{by_mode['consumption']}"
    assert calls[0].body == {
        "t_s": "2024-11-20 06:00:00",
        "t_e": "2024-11-20 07:00:00",
        "sampling_frequency": "15T",
    }
    assert calls[2].body["t_e"] is None


@pytest.mark.parametrize(
    "answer",
    [{"rows": []}, [1, 2], [{"total": 1}, "x"], None, "[]"],
)
async def test_row_endpoints_reject_non_rows(answer: Any) -> None:
    client = offline_client()
    patch_request(client, answer)
    start = BASE - timedelta(hours=1)
    with pytest.raises(InvalidResponseError):
        await client.site_data(A, "electricity", start, None)
    with pytest.raises(InvalidResponseError):
        await client.meter_data(A, B, start, None)


async def test_empty_rows_are_fine() -> None:
    client = offline_client()
    patch_request(client, [])
    assert await client.site_data(A, "heating", BASE, BASE) == []
    assert await client.meter_data(A, B, BASE, None) == []


def test_utc_naive() -> None:
    assert utc_naive(datetime(2024, 7, 1, 0, 30, tzinfo=ZURICH)) == "2024-06-30 22:30:00"
    assert utc_naive(datetime(2024, 1, 1, 0, 30, tzinfo=ZURICH)) == "2023-12-31 23:30:00"
    assert utc_naive(datetime(2024, 1, 1, 12, 0, 59, 999999, tzinfo=UTC)) == ("2024-01-01 12:00:59")


# --- secrets ---------------------------------------------------------------------------------


async def test_repr_never_shows_secrets(h: Harness) -> None:
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim)
    h.assert_secret_free(client, f"{client!r}", f"{client}")
    await client.all_installations()
    assert client._token is not None
    assert repr(client) == f"ClimkitClient(base_url={sim.base_url!r})"
    h.assert_secret_free(client, vars(client).get("_base_url"))


async def test_errors_never_show_secrets(h: Harness) -> None:
    """Every error kind the client raises against the simulator, in one place."""
    sim = await h.simulator(rate_limit=False)
    client = h.client(sim, interval=0)
    await client.all_installations()
    errors: list[ProviderError] = []
    for kind in ("unauthorized", "server_error", "rate_limited", "html_200", "site_gone"):
        sim.clear_faults()
        sim.add_fault(kind, paths="meter_info")
        with pytest.raises(ProviderError) as caught:
            await client.meter_info(DEMO_SITE_ID)
        errors.append(caught.value)
    sim.clear_faults()
    bad = h.client(sim, password="nope", interval=0)
    with pytest.raises(AuthError) as caught_auth:
        await bad.authenticate()
    errors.append(caught_auth.value)
    assert [type(e) for e in errors] == [
        AuthError,
        UpstreamError,
        QuotaError,
        InvalidResponseError,
        NoDataError,
        AuthError,
    ]
    h.assert_secret_free(client, bad, *errors)
