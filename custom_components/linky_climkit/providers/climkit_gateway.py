"""HTTP client for a Climkit Gateway on the local network (`http://<host>:8080/api/v1`).

No authentication. One GET per meter returns its latest registers (climkit.md §3). Requests
have a short timeout and are never retried here: the next poll is the retry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from .body import read_text
from .climkit_model import parse_instant, role_of_address
from .errors import (
    InvalidResponseError,
    NoDataError,
    ProviderConnectionError,
    RequestError,
    UpstreamError,
)
from .inputs import has_unsafe_characters, is_host_name

DEFAULT_PORT = 8080
DEFAULT_TIMEOUT = 5.0
METER_TYPES = ("electricity", "heating", "cold_water", "hot_water")
REGISTERS: Mapping[str, tuple[str, ...]] = {
    "electricity": ("en_im", "en_ex", "L1_a", "L2_a", "L3_a", "total_W"),
    "heating": ("heat_energy_kwh", "power_kw", "diff_temp", "flow_temp", "vol_flow_m3_h"),
    "cold_water": ("vol_m3",),
    "hot_water": ("vol_m3",),
}
MAX_ADDRESS = 250  # M-Bus primary addresses are 1–250
# Beyond these a register is a corrupt reading, refused (an index that jumped to 1e300 would
# stay there: indexes never go down): 1e9 kWh or m³ for an index, 100 MW, 100,000 A, 1,000 °C.
REGISTER_CAPS: Mapping[str, float] = {
    "en_im": 1e9,
    "en_ex": 1e9,
    "heat_energy_kwh": 1e9,
    "vol_m3": 1e9,
    "L1_a": 1e5,
    "L2_a": 1e5,
    "L3_a": 1e5,
    "total_W": 1e8,
    "power_kw": 1e5,
    "diff_temp": 1e3,
    "flow_temp": 1e3,
    "vol_flow_m3_h": 1e6,
}
MAX_BODY = 64 * 1024  # one meter's registers are a few hundred bytes


class GatewayUnreachableError(ProviderConnectionError):
    """Nothing listens at the gateway's address (refused, no route, unknown host)."""


@dataclass(frozen=True, slots=True)
class GatewayMeter:
    """A meter as the gateway knows it: its type and its bus (primary) address."""

    type: str
    address: int

    @property
    def key(self) -> str:
        """Stable key, e.g. `electricity_11`."""
        return f"{self.type}_{self.address}"

    @property
    def role(self) -> str:
        """consumption, production, introduction or battery (from its address)."""
        return role_of_address(self.address)


@dataclass(frozen=True, slots=True)
class GatewayReading:
    """One meter's registers (only the plausible numbers; `refused` counts the others that
    were numbers), its validity and its time."""

    values: Mapping[str, float]
    valid: bool
    measured_at: datetime | None
    refused: int = 0


class GatewayClient:
    """One gateway."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        user_agent: str,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Nothing is sent until the first read."""
        self._session = session
        self.host = host
        self.port = port
        self._user_agent = user_agent
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.request_count = 0

    @property
    def base_url(self) -> str:
        """`http://<host>:<port>/api/v1` (IPv6 addresses in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/api/v1"

    async def read(self, meter: GatewayMeter) -> GatewayReading:
        """GET /meter/<type>/<address>/."""
        if meter.type not in METER_TYPES:
            raise ValueError(f"Unknown meter type {meter.type!r}")
        url = f"{self.base_url}/meter/{meter.type}/{int(meter.address)}/"
        self.request_count += 1
        try:
            async with self._session.get(
                url,
                headers={"User-Agent": self._user_agent, "Accept": "application/json"},
                timeout=self._timeout,
            ) as response:
                status = response.status
                text = await read_text(response, MAX_BODY, "The gateway")
        except ValueError as err:  # what aiohttp refuses to send (the flow checks the host)
            raise RequestError(
                f"The gateway request cannot be sent ({type(err).__name__})"
            ) from err
        except aiohttp.ClientConnectorError as err:
            raise GatewayUnreachableError(
                f"The gateway at {self.host}:{self.port} cannot be reached"
            ) from err
        except TimeoutError as err:
            raise ProviderConnectionError(
                f"The gateway did not answer in time for meter {meter.key}"
            ) from err
        except aiohttp.ClientError as err:
            raise ProviderConnectionError(
                f"The gateway failed to answer for meter {meter.key} ({type(err).__name__})"
            ) from err
        return parse_reading(status, text, meter)


def parse_reading(status: int, text: str, meter: GatewayMeter) -> GatewayReading:
    """A gateway answer as a reading, or a typed error."""
    if status == 404:
        raise NoDataError(f"The gateway does not know meter {meter.key}", status=status)
    if status >= 500:
        raise UpstreamError(f"The gateway failed for meter {meter.key} ({status})", status=status)
    if status != 200:
        raise UpstreamError(f"Unexpected answer {status} from the gateway", status=status)
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise InvalidResponseError(f"The gateway's answer for {meter.key} is not JSON") from err
    if not isinstance(body, dict):
        raise InvalidResponseError(f"The gateway's answer for {meter.key} is not an object")
    values: dict[str, float] = {}
    refused = 0
    for key in REGISTERS[meter.type]:
        number = _number(body.get(key))
        if number is None:
            continue
        if -REGISTER_CAPS[key] <= number <= REGISTER_CAPS[key]:  # NaN and infinities fail
            values[key] = number
        else:
            refused += 1
    return GatewayReading(
        values=values,
        valid=body.get("valid") is not False,
        measured_at=parse_instant(body.get("ts")),
        refused=refused,
    )


def _number(value: Any) -> float | None:
    """A register's number (infinite when beyond any float); None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None
    except OverflowError:
        return math.inf


def parse_addresses(text: str) -> list[int] | None:
    """`"11, 12 101"` → [11, 12, 101]; None when something is not an address (1–250)."""
    addresses: list[int] = []
    for part in text.replace(",", " ").replace(";", " ").split():
        if not part.isdigit() or not 1 <= int(part) <= MAX_ADDRESS:
            return None
        if int(part) not in addresses:
            addresses.append(int(part))
    return addresses


def clean_host(text: str) -> str | None:
    """A host name or IP address as typed (a pasted `http://host:8080/` is accepted);
    None when it is not one (see `inputs.is_host_name`)."""
    host = text.strip()
    if has_unsafe_characters(host) or any(c.isspace() or c in "@?#" for c in host):
        return None
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0]
    if host.startswith("["):
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        host = inside
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.lower()
    return host if is_host_name(host) else None
