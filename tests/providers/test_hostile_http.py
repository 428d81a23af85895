"""Both clients against hostile answers (no Home Assistant): redirects are refused with a
typed error and nothing reaches the other address; `Retry-After`, `nextAccessTime` and a
token's expiry are read defensively (never a long sleep, never an exception of another
type). The clocks are fake: nothing sleeps."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from custom_components.linky_climkit.providers.climkit import (
    DEFAULT_TOKEN_LIFETIME,
    LONGEST_TOKEN_LIFETIME,
    MAX_RETRIES,
    MAX_WAIT,
    ClimkitClient,
    Pacer,
)
from custom_components.linky_climkit.providers.conso_api import (
    ConsoApiClient,
    ConsoApiType,
    map_error,
)
from custom_components.linky_climkit.providers.errors import (
    InvalidResponseError,
    QuotaError,
    RedirectError,
    UpstreamError,
)
from custom_components.linky_climkit.providers.http import LONGEST_RETRY_AFTER, retry_after
from tests.simulators.climkit import ClimkitSimulator, demo_site
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile, make_token

pytestmark = pytest.mark.usefixtures("socket_enabled")

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PRM = "12345678901234"
USER_AGENT = "linky_climkit-tests/1.0"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py's autouse fixture: no Home Assistant instance is needed."""


class Clock:
    """Seconds since NOW, moved only by the pacer's sleeps (which are recorded)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def sims() -> AsyncIterator[list[Any]]:
    """Simulators started by a test, stopped after it."""
    started: list[Any] = []
    yield started
    for sim in started:
        await sim.stop()


async def climkit_sim(sims: list[Any], clock: Clock, **kwargs: Any) -> ClimkitSimulator:
    sim = ClimkitSimulator([demo_site()], clock=clock.now, **kwargs)
    await sim.start()
    sims.append(sim)
    return sim


def climkit_client(session: aiohttp.ClientSession, url: str, clock: Clock) -> ClimkitClient:
    pacer = Pacer(0, clock=clock.monotonic, sleep=clock.sleep)
    return ClimkitClient(
        session,
        "cktDevUser_123",
        "s3cret",
        pacer=pacer,
        user_agent=USER_AGENT,
        base_url=url,
        now=clock.now,
    )


# --- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("86400", 86400.0),
        ("1e12", LONGEST_RETRY_AFTER.total_seconds()),  # capped, never an OverflowError
        ("1e400", None),  # inf once read
        ("inf", None),
        ("-inf", None),
        ("nan", None),
        ("-3", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("Fri, 20 Nov 2026 10:05:00 GMT", 300.0),  # an HTTP date
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: now
        ("Fri, 31 Dec 9999 23:59:59 GMT", LONGEST_RETRY_AFTER.total_seconds()),
        ("Fri, 31 Dec 9999 23:59:59 -1400", LONGEST_RETRY_AFTER.total_seconds()),
    ],
)
def test_retry_after_is_read_defensively(raw: str | None, seconds: float | None) -> None:
    when = retry_after(raw, NOW)
    assert (None if when is None else (when - NOW).total_seconds()) == seconds


@pytest.mark.parametrize("value", ["86400", "1e12", "inf", "nan", "-3", "soon", "31"])
async def test_climkit_never_sleeps_long_inside_a_request(
    session: aiohttp.ClientSession, sims: list[Any], value: str
) -> None:
    """A 429 with any Retry-After: a QuotaError (no other exception) after at most
    MAX_RETRIES sleeps of at most MAX_WAIT; a wait longer than MAX_WAIT is raised at once,
    with its (capped) moment for the caller's back-off."""
    clock = Clock()
    sim = await climkit_sim(sims, clock, rate_limit=False)
    sim.retry_after = value
    sim.add_fault("rate_limited", paths="all_installations")
    client = climkit_client(session, str(sim.base_url), clock)
    with pytest.raises(QuotaError) as caught:
        await client.all_installations()
    assert len(clock.sleeps) <= MAX_RETRIES
    assert all(s <= MAX_WAIT for s in clock.sleeps)
    retry_at = caught.value.retry_at
    asked = len(sim.calls_to("all_installations"))
    if value in ("86400", "1e12", "31"):
        assert asked == 1
        assert retry_at is not None
        assert retry_at - clock.now() <= LONGEST_RETRY_AFTER
    else:
        assert asked == MAX_RETRIES + 1
        assert retry_at is None


async def test_climkit_a_run_after_a_failure_asks_once(
    session: aiohttp.ClientSession, sims: list[Any]
) -> None:
    """`retries = 0` (set by the coordinator while it backs off): one attempt, no sleep."""
    clock = Clock()
    sim = await climkit_sim(sims, clock, rate_limit=False)
    sim.add_fault("server_error", paths="all_installations")
    client = climkit_client(session, str(sim.base_url), clock)
    client.retries = 0
    with pytest.raises(UpstreamError):
        await client.all_installations()
    assert len(sim.calls_to("all_installations")) == 1
    assert clock.sleeps == []


# --- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("where", ["auth", "data"])
async def test_climkit_redirect_is_refused(
    session: aiohttp.ClientSession, sims: list[Any], status: int, where: str
) -> None:
    """A redirect of /auth (the password in its body) or of a data request (the bearer
    token) to another origin is a RedirectError; the other origin receives nothing."""
    clock = Clock()
    sim = await climkit_sim(sims, clock, rate_limit=False)
    elsewhere = await climkit_sim(sims, clock, rate_limit=False)
    client = climkit_client(session, str(sim.base_url), clock)
    if where == "data":
        await client.authenticate()
    sim.redirect_to, sim.redirect_status = elsewhere.url, status
    with pytest.raises(RedirectError) as caught:
        await client.all_installations()
    assert isinstance(caught.value, InvalidResponseError)
    assert caught.value.status == status
    assert elsewhere.calls == []
    assert [c.status for c in sim.calls][-1] == status
    assert "s3cret" not in str(caught.value)
    assert client.request_count == (2 if where == "data" else 1)  # never retried


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_conso_api_redirect_is_refused(
    session: aiohttp.ClientSession, sims: list[Any], status: int
) -> None:
    """The bearer token never follows a redirect; a typed error without the token."""
    meters = [MeterProfile(PRM, seed=3)]
    sim = ConsoApiSimulator(meters, clock=lambda: NOW)
    elsewhere = ConsoApiSimulator(meters, clock=lambda: NOW)
    url, other = await sim.start(), await elsewhere.start()
    sims.extend([sim, elsewhere])
    sim.redirect_to, sim.redirect_status = other, status
    token = make_token([PRM], iat=NOW - timedelta(days=1))
    client = ConsoApiClient(session, token, base_url=url + "/api", user_agent=USER_AGENT)
    with pytest.raises(RedirectError) as caught:
        await client.fetch(
            ConsoApiType.DAILY_CONSUMPTION, PRM, date(2026, 11, 12), date(2026, 11, 19)
        )
    assert caught.value.status == status
    assert elsewhere.calls == []
    assert token not in str(caught.value)
    assert isinstance(map_error(status, "text/html", ""), RedirectError)


# --- far dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9999-Dec-31 23:59:59+0000 UTC", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("9999-Dec-31 23:00:00-1400 UTC", None),  # beyond the calendar in UTC
        ("0001-Jan-01 00:00:00+1400 UTC", None),  # before it
        ("2126-Jan-01 00:00:00+0000 UTC", datetime(2126, 1, 1, tzinfo=UTC)),
    ],
)
def test_conso_api_next_access_time_never_raises(raw: str, expected: datetime | None) -> None:
    """A 429's nextAccessTime anywhere on (or off) the calendar: a QuotaError, its moment or
    none (the coordinator caps what it waits: backoff.py)."""
    body = {"error": {"code": "900804", "message": "throttled", "nextAccessTime": raw}}
    err = map_error(429, "application/json", json.dumps(body))
    assert isinstance(err, QuotaError)
    assert err.retry_at == expected


def jwt_with(payload: dict[str, Any]) -> str:
    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(payload)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("answer", "lifetime"),
    [
        ({"valid_until": {"$date": 253402300799000}}, LONGEST_TOKEN_LIFETIME),  # year 9999
        ({"valid_until": "9999-12-31T23:59:59-14:00"}, LONGEST_TOKEN_LIFETIME),
        ({"exp": 253402300799}, LONGEST_TOKEN_LIFETIME),
        ({"valid_until": "0001-01-01T00:00:00"}, timedelta(0)),  # long past: renewed
        ({"valid_until": "0001-01-01T00:00:00+05:00"}, timedelta(0)),
        ({}, DEFAULT_TOKEN_LIFETIME),
    ],
)
async def test_climkit_token_expiry_is_bounded(
    session: aiohttp.ClientSession,
    sims: list[Any],
    answer: dict[str, Any],
    lifetime: timedelta,
) -> None:
    """A token said to live until year 9999 is renewed after a day at the latest; one that
    expired in year 1 is renewed before the next request, which still works."""
    clock = Clock()
    claims = {"exp": answer["exp"]} if "exp" in answer else {}
    body: dict[str, Any] = {"access_token": jwt_with(claims)}
    body.update({k: v for k, v in answer.items() if k == "valid_until"})
    seen: list[str] = []

    async def auth(request: web.Request) -> web.Response:
        seen.append("auth")
        return web.json_response(body)

    async def installations(request: web.Request) -> web.Response:
        seen.append("all_installations")
        return web.json_response([])

    app = web.Application()
    app.add_routes(
        [web.post("/api/v1/auth", auth), web.get("/api/v1/all_installations", installations)]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        client = climkit_client(session, f"http://{host}:{port}/api/v1", clock)
        await client.authenticate()
        assert client._valid_until == NOW + lifetime
        assert await client.all_installations() == []
        renewed = ["auth"] if lifetime == timedelta(0) else []
        assert seen == ["auth", *renewed, "all_installations"]
    finally:
        await runner.cleanup()
