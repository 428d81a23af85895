"""HTTP client for Conso API (a free proxy in front of Enedis' metering API, v2 types only).

It knows URLs, headers, windows and error shapes; it neither schedules nor budgets calls.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import aiohttp

from .body import read_text
from .errors import (
    AuthError,
    BlockedError,
    HistoryLimitError,
    InvalidResponseError,
    NoDataError,
    NotAuthorisedError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
    RequestError,
    UpstreamError,
)
from .http import redirect_error

DEFAULT_BASE_URL = "https://conso.boris.sh/api"
DEFAULT_TIMEOUT = 30.0
# A 7-day load curve is about 30 kB (90 kB at a 10-minute step), a year of daily figures
# about 20 kB: anything beyond 4 MiB is not an answer to our requests.
MAX_BODY = 4 * 1024**2


class ConsoApiType(StrEnum):
    """The v2 data types (the legacy types were retired in October 2026)."""

    DAILY_CONSUMPTION = "consommation_quotidienne"
    CONSUMPTION_LOAD_CURVE = "courbe_de_charge_consommation"
    MAX_POWER = "puissance_conso_max_quotidienne"
    DAILY_PRODUCTION = "production_quotidienne"
    PRODUCTION_LOAD_CURVE = "courbe_de_charge_production"
    # The meter's registers, read at the start of each day ([I] no recorded answer yet).
    CONSUMPTION_INDEX = "index_consommation"
    PRODUCTION_INDEX = "index_production"

    @property
    def is_load_curve(self) -> bool:
        """Load curves have a 7-day window and a 24-month history."""
        return self in (ConsoApiType.CONSUMPTION_LOAD_CURVE, ConsoApiType.PRODUCTION_LOAD_CURVE)

    @property
    def max_days(self) -> int:
        """Largest span (dateFin - dateDebut) one call may ask for."""
        return 7 if self.is_load_curve else 365

    @property
    def history_days(self) -> int:
        """How far back from today the service serves this type (kept inside its limit)."""
        return 730 if self.is_load_curve else 1095


def history_start(type_: ConsoApiType, today: date) -> date:
    """The oldest day we may ask for today."""
    return today - timedelta(days=type_.history_days)


def windows(
    type_: ConsoApiType, start: date, end: date, *, newest_first: bool = True
) -> Iterator[tuple[date, date]]:
    """Split [start, end) into windows the service accepts (dateFin exclusive)."""
    spans: list[tuple[date, date]] = []
    cursor = end
    while cursor > start:
        lower = max(start, cursor - timedelta(days=type_.max_days))
        spans.append((lower, cursor))
        cursor = lower
    yield from spans if newest_first else reversed(spans)


class ConsoApiClient:
    """Reads one token's meters. The session is injected (Home Assistant's shared one)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        user_agent: str,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Keep the token private; it is only ever put in the Authorization header."""
        self._session = session
        self._token = token.strip()
        self._base_url = base_url.rstrip("/")
        self._user_agent = user_agent
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        """Never show the token."""
        return f"ConsoApiClient(base_url={self._base_url!r})"

    async def fetch(self, type_: ConsoApiType, prm: str, start: date, end: date) -> dict[str, Any]:
        """GET one window of one type for one PRM; return the JSON object as served."""
        if not end > start:
            raise ValueError("dateFin must be after dateDebut")
        if (end - start).days > type_.max_days:
            raise ValueError(f"{type_} windows are limited to {type_.max_days} days")
        params = {"pointId": prm, "dateDebut": start.isoformat(), "dateFin": end.isoformat()}
        headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": self._user_agent,
            "Accept": "application/json",
        }
        url = f"{self._base_url}/{type_.value}"
        try:
            async with self._session.get(
                url, params=params, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as response:
                status = response.status
                content_type = response.headers.get("Content-Type", "")
                text = await read_text(response, MAX_BODY, "Conso API")
        except ValueError as err:  # what aiohttp refuses to send (the flow checks the input)
            raise RequestError(f"The request cannot be sent ({type(err).__name__})") from err
        except TimeoutError as err:
            raise ProviderConnectionError("Conso API did not answer in time") from err
        except aiohttp.ClientError as err:
            raise ProviderConnectionError(
                f"Conso API could not be reached ({type(err).__name__})"
            ) from err
        except asyncio.CancelledError:
            raise
        if status == 200:
            return _parse_ok(text)
        raise map_error(status, content_type, text)


def _parse_ok(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise InvalidResponseError("Conso API answered 200 with a body that is not JSON") from err
    if not isinstance(body, dict):
        raise InvalidResponseError("Conso API answered 200 with JSON that is not an object")
    return body


def _short(value: object, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _enedis_error(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (code, description) of an error relayed by Conso API, whatever its shape."""
    inner = body.get("error")
    if isinstance(inner, dict):
        fault = inner.get("fault")
        if isinstance(fault, dict):
            inner = fault
        code = inner.get("error", inner.get("code"))
        text = inner.get("error_description", inner.get("description", inner.get("message")))
        return (None if code is None else str(code), None if text is None else str(text))
    if isinstance(inner, str):
        return None, inner
    fault = body.get("fault")
    if isinstance(fault, dict):
        return str(fault.get("code")), str(fault.get("description", fault.get("message")))
    code = body.get("code")
    text = body.get("description", body.get("message"))
    return (None if code is None else str(code), None if text is None else str(text))


def _next_access(body: dict[str, Any]) -> datetime | None:
    raw = body.get("nextAccessTime")
    inner = body.get("error")
    if raw is None and isinstance(inner, dict):
        raw = inner.get("nextAccessTime")
    if not isinstance(raw, str):
        return None
    for fmt in ("%Y-%b-%d %H:%M:%S%z UTC", "%Y-%b-%d %H:%M:%S%z"):
        try:
            return datetime.strptime(raw, fmt).astimezone(UTC)
        except ValueError:
            continue
        except OverflowError:  # year 9999 and a negative offset: past the end of the calendar
            return None
    return None


def map_error(status: int, content_type: str, text: str) -> ProviderError:
    """Turn a non-200 answer into the matching typed error (conso-api.md §3)."""
    if (redirected := redirect_error(status, "Conso API")) is not None:
        return redirected
    body: dict[str, Any] = {}
    is_json = False
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            body, is_json = parsed, True
    except ValueError, RecursionError:
        pass
    code, description = _enedis_error(body) if is_json else (None, None)
    message = body.get("message") if is_json else None
    detail = " ".join(_short(x) for x in (code, description or message) if x)

    if not is_json and ("html" in content_type or text.lstrip().startswith("<")):
        if status == 403:
            return BlockedError(
                "Conso API is blocking this address (Cloudflare page)", status=status, code="cf403"
            )
        return UpstreamError(f"Conso API gateway error {status} (HTML page)", status=status)
    if status == 401:
        return AuthError("The token is invalid, expired or not valid for this PRM", status=status)
    if status == 429:
        return QuotaError(
            f"Conso API quota exceeded ({detail or status})",
            status=status,
            code=code,
            retry_at=_next_access(body),
        )
    if status == 403 and code == "ADAM-DC-0008":
        return NotAuthorisedError(f"No consent for this PRM ({detail})", status=status, code=code)
    if status == 400 and code == "ADAM-DC-0007":
        return NotAuthorisedError(
            f"The token holder is not the holder of this PRM ({detail})", status=status, code=code
        )
    if status == 400 and code in ("ADAM-ERR0123", "ADAM-ERR0125"):
        return HistoryLimitError(
            f"Outside the available history ({detail})", status=status, code=code
        )
    if status == 404 and not is_json:  # Conso API answers every error in JSON
        return InvalidResponseError(
            f"The API URL does not answer like Conso API ({status}, not JSON)", status=status
        )
    if status == 404:
        return NoDataError(
            f"No data for this range yet ({detail or status})", status=status, code=code
        )
    if status == 400:
        if isinstance(message, str) and "Authorization" in message:
            return AuthError("The Authorization header was refused", status=status)
        return RequestError(
            f"Conso API refused the request ({detail or status})", status=status, code=code
        )
    if status >= 500 or status == 403:
        return UpstreamError(
            f"Conso API or Enedis failed ({status}: {detail})", status=status, code=code
        )
    return UpstreamError(
        f"Unexpected answer {status} from Conso API ({detail})", status=status, code=code
    )
