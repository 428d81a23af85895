"""Hostile input at the clients' edges: what a user may type (inputs.py), answers larger than
the body cap (body.py), and requests aiohttp refuses to send (a typed error, not ValueError)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime

import aiohttp
import pytest
from aiohttp import web

from custom_components.linky_climkit.providers import climkit, climkit_gateway, conso_api
from custom_components.linky_climkit.providers.climkit import ClimkitClient, Pacer
from custom_components.linky_climkit.providers.climkit_gateway import GatewayClient, GatewayMeter
from custom_components.linky_climkit.providers.conso_api import ConsoApiClient, ConsoApiType
from custom_components.linky_climkit.providers.errors import (
    InvalidResponseError,
    RequestError,
    UpstreamError,
)
from custom_components.linky_climkit.providers.inputs import (
    clean_base_url,
    has_unsafe_characters,
    is_clean_credential,
    is_clean_token,
    is_host_name,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")
UA = "linky_climkit-tests/1.0"
SITE = "61dfca84eba4e3564021f366"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant instance is needed here."""


# --- inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://conso.boris.sh/api", "https://conso.boris.sh/api"),
        ("  http://127.0.0.1:8080/api/ \n", "http://127.0.0.1:8080/api"),
        ("http://[::1]:8080/api", "http://[::1]:8080/api"),
        ("https://my-host_1.local/api/v1", "https://my-host_1.local/api/v1"),
        ("http://user:pass@host/api", None),
        ("http://user@host/api", None),
        ("http://:pass@host/api", None),
        ("ftp://host/api", None),
        ("file:///etc/passwd", None),
        ("host/api", None),
        ("http:///api", None),
        ("http://ho st/api", None),
        ("http://host/a pi", None),
        ("http://host/a\npi", None),
        ("http://host/a\x00pi", None),
        ("http://host/a\u2028pi", None),
        ("http://host/a\ud800pi", None),
        ("http://host/api?x=1", None),
        ("http://host/api#x", None),
        ("http://host:0/api", None),
        ("http://host:65536/api", None),
        ("http://host:port/api", None),
        ("http://[::1/api", None),
        ("http://[fe80::1%25eth0]/api", None),
        ("http://-host/api", None),
        ("http://a..b/api", None),
        ("http://" + "a" * 64 + ".b/api", None),
        ("http://host/" + "a" * 3000, None),
        ("", None),
        ("   ", None),
    ],
)
def test_clean_base_url(text: str, expected: str | None) -> None:
    assert clean_base_url(text) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("192.168.1.50", True),
        ("fe80::1", True),
        ("gateway.local", True),
        ("gateway.local.", True),
        ("my_gw-2", True),
        ("fe80::1%eth0", False),
        ("-gw", False),
        ("gw-", False),
        ("a..b", False),
        ("g\u00e4teway", False),
        ("a" * 64, False),
        (".".join(["a" * 60] * 5), False),
        ("", False),
        ("gate way", False),
        ("::1::2", False),
    ],
)
def test_is_host_name(host: str, expected: bool) -> None:
    assert is_host_name(host) is expected


def test_characters() -> None:
    assert not has_unsafe_characters("Sup3r s3cret é €")
    for bad in ("a\nb", "a\rb", "a\x00b", "a\x7fb", "a\u2028b", "a\u202eb", "a\ud800b"):
        assert has_unsafe_characters(bad)
        assert not is_clean_credential(bad)
        assert not is_clean_token(bad)
    assert is_clean_credential("pass word")
    assert not is_clean_token("tok en")
    assert not is_clean_credential("")
    assert not is_clean_credential("x" * 5000)


# --- a server answering what a test asks --------------------------------------------------

Handler = Callable[[web.Request], web.StreamResponse]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], str]]:
    """Start a server whose every route answers with `handler`; yields its base URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()

        async def route(request: web.Request) -> web.StreamResponse:
            return await handler(request)  # type: ignore[misc, no-any-return]

        app.router.add_route("*", "/{tail:.*}", route)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    yield start  # type: ignore[misc]
    for runner in runners:
        await runner.cleanup()


def big_json(size: int) -> bytes:
    """A valid JSON object of about `size` bytes (a valid envelope that is merely too big)."""
    return json.dumps({"grandeur": [], "padding": "x" * size}).encode()


async def chunked(request: web.Request, status: int, body: bytes, ctype: str) -> web.StreamResponse:
    """Answer without a Content-Length, in pieces."""
    response = web.StreamResponse(status=status, headers={"Content-Type": ctype})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(body), 100_000):
        await response.write(body[start : start + 100_000])
    await response.write_eof()
    return response


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_conso_api_body_cap(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    """A 200 beyond the cap is refused (typed); below it, read; an error page beyond it is
    mapped from its beginning."""
    monkeypatch.setattr(conso_api, "MAX_BODY", 300_000)
    answer: dict[str, object] = {"status": 200, "body": big_json(400_000), "type": "json"}

    async def handler(request: web.Request) -> web.StreamResponse:
        status, body = int(answer["status"]), bytes(answer["body"])  # type: ignore[call-overload]
        ctype = "application/json" if answer["type"] == "json" else "text/html"
        if streamed:
            return await chunked(request, status, body, ctype)
        return web.Response(status=status, body=body, content_type=ctype)

    base = await serve(handler)
    async with aiohttp.ClientSession() as session:
        client = ConsoApiClient(session, "t.o.k", base_url=base + "/api", user_agent=UA)
        args = (
            ConsoApiType.DAILY_CONSUMPTION,
            "12345678901234",
            date(2026, 1, 1),
            date(2026, 1, 2),
        )
        with pytest.raises(InvalidResponseError, match="more than"):
            await client.fetch(*args)
        answer["body"] = big_json(200_000)
        assert (await client.fetch(*args))["grandeur"] == []
        answer.update(status=502, body=b"<html>" + b"x" * 1_000_000, type="html")
        with pytest.raises(UpstreamError):
            await client.fetch(*args)


async def test_climkit_body_cap(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Climkit answer beyond the cap is refused, not retried, not decoded."""
    monkeypatch.setattr(climkit, "MAX_BODY", 500_000)
    calls: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.append(request.path)
        if request.path.endswith("/auth"):
            return web.json_response({"access_token": "a.b.c", "valid_until": {"$date": 4e12}})
        rows = [{"timestamp": "2026-01-01 00:15:00+01:00", "conso_total": 0.1}] * 20_000
        return await chunked(request, 200, json.dumps(rows).encode(), "application/json")

    base = await serve(handler)

    async def no_sleep(_: float) -> None:
        return None

    async with aiohttp.ClientSession() as session:
        client = ClimkitClient(
            session, "u", "p", pacer=Pacer(0, sleep=no_sleep), user_agent=UA, base_url=base
        )
        start = datetime(2026, 1, 1, tzinfo=UTC)
        with pytest.raises(InvalidResponseError, match="more than"):
            await client.site_data(SITE, "electricity", start, start)
    assert calls == ["/auth", f"/site_data/{SITE}/electricity"]


async def test_gateway_body_cap(serve: Callable[[Handler], str]) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=big_json(100_000), content_type="application/json")

    base = await serve(handler)
    port = int(base.rsplit(":", 1)[1])
    async with aiohttp.ClientSession() as session:
        client = GatewayClient(session, "127.0.0.1", port, user_agent=UA)
        with pytest.raises(InvalidResponseError, match="more than"):
            await client.read(GatewayMeter("electricity", 11))
    assert climkit_gateway.MAX_BODY < 100_000


# --- requests aiohttp refuses to send: typed errors ----------------------------------------


async def test_conso_api_credentials_in_url_is_a_request_error() -> None:
    async with aiohttp.ClientSession() as session:
        client = ConsoApiClient(
            session, "t.o.k", base_url="http://user:pass@127.0.0.1:9/api", user_agent=UA
        )
        with pytest.raises(RequestError):
            await client.fetch(
                ConsoApiType.DAILY_CONSUMPTION, "12345678901234", date(2026, 1, 1), date(2026, 1, 2)
            )


async def test_climkit_token_with_line_break_is_a_request_error(
    serve: Callable[[Handler], str],
) -> None:
    """Climkit handing out a token with CR/LF (header injection) fails typed, once."""
    calls: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.append(request.path)
        return web.json_response({"access_token": "abc\r\nX-Evil: 1", "valid_until": 4e12})

    base = await serve(handler)

    async def no_sleep(_: float) -> None:
        return None

    async with aiohttp.ClientSession() as session:
        client = ClimkitClient(
            session, "u", "p", pacer=Pacer(0, sleep=no_sleep), user_agent=UA, base_url=base
        )
        with pytest.raises(RequestError):
            await client.all_installations()
    assert calls == ["/auth"]
