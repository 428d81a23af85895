"""HTTP client for the Climkit developer API (api.climkit.io/api/v1).

Username/password give a 15-minute JWT, reused until 60 s before it expires and renewed once
on a 401. Requests are sequential and paced (one per second for the whole Home Assistant,
through a shared Pacer); timeouts, 429 and 5xx are retried a bounded number of times
(`retries`), never waiting more than `MAX_WAIT` inside a request: a longer `Retry-After` is
raised at once, for the caller's persisted back-off. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from .body import read_text
from .climkit_model import MeterInfo, SiteInfo, SiteSensor, address_text, parse_instant
from .errors import (
    AuthError,
    InvalidResponseError,
    NoDataError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
    RequestError,
    UpstreamError,
)
from .http import redirect_error, retry_after
from .token import claims, epoch_seconds

DEFAULT_BASE_URL = "https://api.climkit.io/api/v1"
DEFAULT_TIMEOUT = 30.0
TOKEN_MARGIN = timedelta(seconds=60)
DEFAULT_TOKEN_LIFETIME = timedelta(minutes=14)
LONGEST_TOKEN_LIFETIME = timedelta(days=1)
MAX_RETRIES = 3
BACKOFF = (2.0, 4.0, 8.0)
MAX_WAIT = 30.0  # seconds: the longest sleep inside a request (a Retry-After beyond is raised)
LARGE_BODY = 256 * 1024  # characters; bigger answers are decoded in a worker thread
MAX_BODY = 64 * 1024**2  # a 30-day window of a site with ~150 consumers (README, body.py)
ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")
METER_TYPES = ("electricity", "heating", "cold_water", "hot_water")


def is_valid_id(value: str) -> bool:
    """Climkit ids are 24-hex MongoDB ObjectIds; nothing else goes into a URL path."""
    return ID_PATTERN.fullmatch(value) is not None


class Pacer:
    """At most one request start per `interval` seconds, one at a time, for every client."""

    def __init__(
        self,
        interval: float = 1.1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """A shared gate; `clock` and `sleep` are replaceable for tests."""
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._lock = asyncio.Lock()
        self._last: float | None = None

    async def __aenter__(self) -> None:
        """Wait for the lock and for the interval since the previous request."""
        await self._lock.acquire()
        try:
            if self._last is not None:
                wait = self._last + self.interval - self.clock()
                if wait > 0:
                    await self.sleep(wait)
            self._last = self.clock()
        except BaseException:
            self._lock.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        """Let the next request in."""
        self._lock.release()

    async def wait(self, seconds: float) -> None:
        """Back-off sleep through the same clock."""
        await self.sleep(seconds)


def utc_naive(moment: datetime) -> str:
    """Request times: naive UTC strings (the API reads them as UTC; never add an offset)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class ClimkitClient:
    """One Climkit account."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        username: str,
        password: str,
        *,
        pacer: Pacer,
        user_agent: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Nothing is sent until the first request."""
        self._session = session
        self._username = username
        self._password = password
        self._pacer = pacer
        self._user_agent = user_agent
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._now = now
        self._token: str | None = None
        self._valid_until: datetime | None = None
        self._auth_lock = asyncio.Lock()
        self.retries = MAX_RETRIES  # per request, after the first attempt
        self.auth_count = 0
        self.request_count = 0

    def __repr__(self) -> str:
        """Never show credentials."""
        return f"ClimkitClient(base_url={self._base_url!r})"

    # ---- auth --------------------------------------------------------------------------

    async def authenticate(self) -> None:
        """POST /auth; keeps the JWT and its expiry (valid_until, else exp, else 14 min)."""
        async with self._auth_lock:
            body = await self._send(
                "POST",
                "/auth",
                {"username": self._username, "password": self._password},
                auth=False,
            )
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise AuthError("Climkit did not return an access token")
            now = self._now()
            expiry = _expiry(body, token) or now + DEFAULT_TOKEN_LIFETIME
            self._token = token
            # A far (year 9999) or past expiry is not believed beyond these bounds.
            self._valid_until = min(max(expiry, now), now + LONGEST_TOKEN_LIFETIME)
            self.auth_count += 1

    async def _ensure_token(self) -> None:
        if (
            self._token is None
            or self._valid_until is None
            or self._now() >= self._valid_until - TOKEN_MARGIN
        ):
            await self.authenticate()

    # ---- endpoints ---------------------------------------------------------------------

    async def all_installations(self) -> list[str]:
        """Site ids: the API returned strings (2022) and may return objects."""
        body = await self._request("GET", "/all_installations")
        if not isinstance(body, list):
            raise InvalidResponseError("all_installations is not a list")
        ids: list[str] = []
        for item in body:
            site = _object_id(item)
            if site is None:
                raise InvalidResponseError("all_installations holds an item without an id")
            if is_valid_id(site):
                ids.append(site)
        return ids

    async def installation_infos(self, site_id: str) -> SiteInfo:
        """Name, address, time zone and creation date of a site."""
        body = await self._request("GET", f"/installation_infos/{_checked(site_id)}")
        if not isinstance(body, dict):
            raise InvalidResponseError("installation_infos is not an object")
        return SiteInfo(
            id=site_id,
            name=str(body.get("name") or body.get("site_ref") or site_id),
            timezone=str(body.get("timezone") or "Europe/Zurich"),
            creation=parse_instant(body.get("creation_date")),
            address=address_text(body.get("address")),
            site_ref=None if body.get("site_ref") is None else str(body["site_ref"]),
        )

    async def meter_info(self, site_id: str) -> list[MeterInfo]:
        """The site's meters (schema changed over time: parse leniently)."""
        body = await self._request("GET", f"/meter_info/{_checked(site_id)}")
        if not isinstance(body, list):
            raise InvalidResponseError("meter_info is not a list")
        meters: list[MeterInfo] = []
        for item in body:
            if not isinstance(item, dict):
                raise InvalidResponseError("meter_info holds an item that is not an object")
            meter_id = _object_id(item)
            if meter_id is None or not is_valid_id(meter_id):
                continue
            meters.append(
                MeterInfo(
                    id=meter_id,
                    type=str(item.get("type") or "electricity"),
                    prim_ad=_int(item.get("prim_ad")),
                    name=None if item.get("name") is None else str(item["name"]),
                    mode=None if item.get("mode") is None else str(item["mode"]),
                    is_rule_meter=bool(item.get("is_rule_meter", False)),
                    virtual=bool(item.get("virtual", False)),
                )
            )
        return meters

    async def site_data(
        self,
        site_id: str,
        meter_type: str,
        start: datetime,
        end: datetime | None,
        frequency: str = "15T",
    ) -> list[dict[str, Any]]:
        """Rows of `site_data` (15T rows are stamped at the END of their interval)."""
        if meter_type not in METER_TYPES:
            raise ValueError(f"Unknown meter type {meter_type!r}")
        body: dict[str, Any] = {"t_s": utc_naive(start), "sampling_frequency": frequency}
        body["t_e"] = None if end is None else utc_naive(end)
        rows = await self._request("POST", f"/site_data/{_checked(site_id)}/{meter_type}", body)
        return _rows(rows)

    async def meter_data(
        self, site_id: str, meter_id: str, start: datetime, end: datetime | None
    ) -> list[dict[str, Any]]:
        """Rows of one meter (`ext`, `self`, `total`; producers only `total`)."""
        body = {
            "t_s": utc_naive(start),
            "t_e": None if end is None else utc_naive(end),
            "sampling_frequency": "15T",
        }
        rows = await self._request(
            "POST", f"/meter_data/{_checked(site_id)}/{_checked(meter_id)}", body
        )
        return _rows(rows)

    async def sensors_list(self, site_id: str) -> list[SiteSensor]:
        """The site's sensors; items without a valid id are skipped."""
        body = await self._request("GET", f"/{_checked(site_id)}/sensors_list")
        if not isinstance(body, list):
            raise InvalidResponseError("sensors_list is not a list")
        sensors: list[SiteSensor] = []
        for item in body:
            sensor_id = _object_id(item) if isinstance(item, dict) else None
            if sensor_id is None or not is_valid_id(sensor_id):
                continue
            assert isinstance(item, dict)
            sensors.append(
                SiteSensor(
                    id=sensor_id,
                    name=str(item.get("name") or item.get("type") or sensor_id),
                    type=str(item.get("type") or ""),
                    unit=_text(item.get("unit")),
                    model=_text(item.get("model")),
                )
            )
        return sensors

    async def sensor_data(
        self, site_id: str, sensor_id: str, start: datetime, end: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        """A sensor's values in [start, end], oldest first (timestamps are epoch s or ms)."""
        query = {"t_s": utc_naive(start)}
        if end is not None:
            query["t_e"] = utc_naive(end)
        path = f"/{_checked(site_id)}/sensor_data/{_checked(sensor_id)}?{urlencode(query)}"
        body = await self._request("GET", path)
        if not isinstance(body, list):
            raise InvalidResponseError("sensor_data is not a list")
        points: list[tuple[datetime, float]] = []
        for item in body:
            if not isinstance(item, dict):
                continue
            value = _float(item.get("value"))
            at = parse_instant(item.get("timestamp"))
            if value is not None and at is not None and math.isfinite(value):
                points.append((at, value))
        return sorted(points)

    # ---- transport ---------------------------------------------------------------------

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        await self._ensure_token()
        try:
            return await self._send(method, path, body, auth=True)
        except AuthError:
            await self.authenticate()  # once: the token may have been revoked early
            return await self._send(method, path, body, auth=True)

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, *, auth: bool
    ) -> Any:
        last: ProviderError | None = None
        for attempt in range(self.retries + 1):
            try:
                return await self._once(method, path, body, auth=auth)
            except (QuotaError, UpstreamError) as err:
                last = err
                if attempt == self.retries:
                    break
                delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                if isinstance(err, QuotaError) and err.retry_at is not None:
                    delay = max(delay, (err.retry_at - self._now()).total_seconds())
                if delay > MAX_WAIT:
                    break  # a long wait is the caller's back-off, never a sleep in a request
                await self._pacer.wait(delay)
        assert last is not None
        raise last

    async def _once(
        self, method: str, path: str, body: dict[str, Any] | None, *, auth: bool
    ) -> Any:
        headers = {
            "User-Agent": self._user_agent,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        async with self._pacer:
            self.request_count += 1
            try:
                async with self._session.request(
                    method,
                    f"{self._base_url}{path}",
                    data=None if body is None else json.dumps(body),
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    retry_header = response.headers.get("Retry-After")
                    text = await read_text(response, MAX_BODY, "Climkit")
            except ValueError as err:  # what aiohttp refuses to send (a header, the URL)
                raise RequestError(f"Climkit request not sendable ({type(err).__name__})") from err
            except TimeoutError as err:
                raise ProviderConnectionError("Climkit did not answer in time") from err
            except aiohttp.ClientError as err:
                raise ProviderConnectionError(
                    f"Climkit could not be reached ({type(err).__name__})"
                ) from err
        if len(text) > LARGE_BODY:
            # A month of a site's 15-minute rows is megabytes of JSON: decoding it would stall
            # the event loop for tens of milliseconds.
            return await asyncio.to_thread(_decode, status, text, retry_header, self._now(), path)
        return _decode(status, text, retry_header, self._now(), path)


def _decode(status: int, text: str, retry_header: str | None, now: datetime, path: str) -> Any:
    if status == 200:
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as err:
            raise InvalidResponseError("Climkit answered 200 with a body that is not JSON") from err
    if (redirected := redirect_error(status, "Climkit")) is not None:
        raise redirected
    message = _message(text)
    if status in (400, 401, 403, 422) and path == "/auth":
        raise AuthError(f"Climkit refused the credentials ({status})", status=status)
    if status in (401, 422):
        raise AuthError(f"Climkit refused the token ({status}: {message})", status=status)
    if status == 429:
        retry_at = retry_after(retry_header, now)
        raise QuotaError("Climkit rate limit reached", status=status, retry_at=retry_at)
    if status in (403, 404):
        raise NoDataError(f"Climkit does not know this site or meter ({status})", status=status)
    if status == 400:
        raise RequestError(f"Climkit refused the request ({message})", status=status)
    if status >= 500:
        raise UpstreamError(f"Climkit failed ({status})", status=status)
    raise UpstreamError(f"Unexpected answer {status} from Climkit", status=status)


def _message(text: str) -> str:
    try:
        body = json.loads(text)
    except ValueError, RecursionError:
        return "non-JSON body"
    if isinstance(body, dict) and isinstance(body.get("msg"), str):
        return str(body["msg"])[:120]
    return "JSON body"


def _rows(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise InvalidResponseError("Climkit data is not a list of rows")
    return body


def _checked(identifier: str) -> str:
    if not is_valid_id(identifier):
        raise ValueError("A Climkit id must be 24 hexadecimal characters")
    return identifier


def _object_id(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("$oid", "_id", "id", "site_id"):
            value = item.get(key)
            if value is not None:
                return _object_id(value)
    return None


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except TypeError, ValueError, OverflowError:
        return None


def _expiry(body: dict[str, Any], token: str) -> datetime | None:
    raw = body.get("valid_until")
    if isinstance(raw, dict):
        raw = raw.get("$date")
    if (stamp := parse_instant(raw)) is not None:
        return stamp
    try:
        return epoch_seconds(claims(token).get("exp"))
    except AuthError:
        return None
