"""Offline simulator of the Climkit cloud API (``https://api.climkit.io/api/v1``), for tests.

Ground truth: ``/work/shared/docs/climkit.md`` (§2 verified behaviour, §4 payloads, §5 data
model). Real captures (one day of ``site_data`` and the 2022 ``meter_info``) are copied into
``tests/fixtures/climkit/`` and served verbatim by a site built with ``real_capture=True``.

Only aiohttp and the standard library are used; nothing from Home Assistant or from
``custom_components`` is imported. Every time decision (token expiry, rate limit, data
availability) uses ``clock`` (default ``datetime.now(UTC)``, so freezegun applies).

Endpoints (under ``/api/v1``)::

    POST /auth                                  {"username","password"} -> token
    GET  /all_installations                     ["<site id>", ...] or [{"_id","name","site_ref"}]
    GET  /installation_infos/<site>             §4.3
    GET  /meter_info/<site>                     §4.4 ("current" or "2022" schema)
    POST /site_data/<site>/<meter_type>         {"t_s","t_e"?,"sampling_frequency"?} -> rows
    POST /meter_data/<site>/<meter>             same body -> {ext,timestamp,self,total} rows
    GET  /<site>/sensors_list                   §4.8
    GET  /<site>/sensor_data/<sensor>?t_s=&t_e= §4.8 (epoch-ms timestamps)

Order of request handling: (0) ``redirect_to`` (every request redirected there: a hostile
server); (1) rate limit (every request, ``/auth`` included, counted for the whole account: a
request less than ``rate_limit_interval`` after the last *accepted* one gets 429 ``{"msg": "Too
many requests"}`` + ``Retry-After`` (``retry_after`` overrides its text); rejected requests do
not restart the window); (2) routing (unknown route -> 404 ``Not found``, wrong method -> 405);
(3) "request" faults (``server_error``, ``bad_gateway``, ``rate_limited``, ``html_200``,
``wrong_shape``, ``timeout`` which only delays; ``unauthorized`` on data endpoints only); (4)
bearer token (401 ``Missing Authorization Header`` / ``Token has expired``); (5) ids (not 24
hex, unknown, or a site with ``owned=False`` -> 404 ``Not found``), then the ``site_gone``
fault; (6) body (not JSON, or no JSON content type -> 400 ``Bad request``; bad ``t_s``/``t_e``
-> 400 ``Invalid date``; unknown ``sampling_frequency`` -> 400, unknown meter type -> 400); (7)
on a 200 answer, the ``nulls``/``drop_rows`` faults (``site_data``/``meter_data`` only), then
``truncated_json``. Error bodies and codes are [ASSUMED] (no public capture exists).

Data model (§5). The timeline is the UTC 15-minute grid; each UTC day is generated on its own
(``random.Random`` seeded with ``seed|meter id|day``), so any window is computed without
walking from the site's creation. Per meter, integer index steps (0.01 kWh, 0.001 m³ for
water) are accumulated on a float index and differenced, which reproduces the 2022 float
noise; ``round3=True`` rounds every served value to 3 decimals (2026 style). Consumers follow
a daily profile in site-local time with appliance bursts; PV follows a bell around solar noon
(``12 - longitude/15`` UTC) that widens and grows in summer, with a random sky factor per day,
and is ``0`` to ``pv_night_min`` (default -0.04, in 0.01 steps) at night. Per interval::

    conso_total = Σ total_c          prod_total = Σ total_pv
    direct      = min(prod_total, conso_total)          (negative at night)
    self        = direct + storage_discharging_total
    from_ext    = conso_total - self
    to_ext      = prod_total - direct - storage_charging_total
    self_c      = max(self, 0) * total_c / conso_total  (0 if conso_total == 0)
    ext_c       = total_c - self_c

Battery (``SiteSpec.battery``; [ASSUMED], no public sample): capacity ``battery_kwh``, at most
``battery_kw / 4`` kWh per interval, efficiency 1. It starts every UTC day (01:00/02:00 in
Zurich) empty; whatever is left at the end of the UTC day is dropped. It charges only from
surplus (``prod_total > conso_total``): ``storage_charging_total = storage_charging_self =
min(surplus, power, room)``; it discharges only from 17:00 to 06:00 site-local time, to cover
``conso_total - direct``: ``storage_discharging_total = min(need, power, stored)``. Hence
``prod_total = self + to_ext + storage_charging_total - storage_discharging_total``. A battery
meter (``mode="battery"``) has no ``site_data`` column, like the introduction meter and rule
meters; ``meter_data`` for those meters answers ``[]``.

Non-electric types (``heating``, ``cooling``, ``cold_water``, ``hot_water``,
``charge_point``): same keys, ``conso_total`` and ``total_<id>`` in the type's unit (kWh,
m³ for water), every production/self/ext/storage key 0 (so ``from_ext`` is 0 too), no
``ext_``/``self_`` per-meter keys; ``meter_data`` gives ``ext = self = 0``.

Frequencies: ``15T`` rows are stamped with the END of the interval, ``H``/``D``/``M``/``Y``
rows with the START of the site-local calendar period (DST days have 92/100 quarters). An
aggregated row is the plain sum of the period's available quarter-hour rows (a period only
partly available, at the site's creation or at "now", is served with its partial sum), and
it is served when its start is within ``[t_s, t_e]``. Request times are naive, read as UTC
(``naive_as_local=True``: as site-local time), in the forms ``YYYY-MM-DD HH:MM:SS`` or
``YYYY-MM-DDTHH:MM:SS`` only (a ``Z``, an offset or fractions -> 400 ``Invalid date``). A row
is served when ``t_s <= stamp <= t_e`` (instants, both inclusive; ``end_inclusive=False``:
``stamp < t_e``), its interval starts at or after ``creation`` and ends at or before
``clock() - latency``. Those two switches are the open readings of §9 Q1 and Q2. Gaps
(``SiteSpec.gaps``): each quarter fully inside a gap gets the mean of the gap's deltas
(identical rows, like the 2022 capture). Missing quarters (``SiteSpec.missing``, keyed by the
UTC end of the quarter): the row is not served (any meter type, any frequency: an aggregated
row sums the quarters that are there) until ``clock()`` reaches the given instant, or never
(``None``); ground truth (``interval_values``) leaves it out the same way. The real-capture site
serves, for the rows stamped on 2022-05-14 (local), the captured rows as-is (never rounded);
``full_capture_site()`` serves the whole 2022 answer (1,438 rows) and nothing else.
"""

import asyncio
import base64
import contextlib
import functools
import gzip
import hashlib
import hmac
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

API_PREFIX = "/api/v1"
QUARTER = timedelta(minutes=15)
FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "climkit"
CAPTURE_SITE_FILE = "site_data_electricity_15T_2022-05-14.json"
CAPTURE_FULL_FILE = "site_data_electricity_15T_2022-05-05_2022-05-20.json.gz"
CAPTURE_METER_INFO_FILE = "meter_info_2022.json"
CAPTURE_SITE_ID = "61dfca84eba4e3564021f366"
CAPTURE_DAY = date(2022, 5, 14)
DEMO_SITE_ID = "65f0a1b2c3d4e5f607182930"
DEFAULT_CREATION = datetime(2022, 1, 13, 6, 45, 24, tzinfo=UTC)
DEFAULT_SECRET = "climkit-simulator-secret"

METER_TYPES: tuple[str, ...] = (
    "electricity",
    "heating",
    "cooling",
    "cold_water",
    "hot_water",
    "charge_point",
)
UNITS: dict[str, str] = {
    "electricity": "kWh",
    "heating": "kWh",
    "cooling": "kWh",
    "charge_point": "kWh",
    "cold_water": "m³",
    "hot_water": "m³",
}
WATER_TYPES = frozenset({"cold_water", "hot_water"})
FREQUENCIES: dict[str, str] = {
    "15T": "15T",
    "15min": "15T",
    "H": "H",
    "h": "H",
    "1H": "H",
    "D": "D",
    "1D": "D",
    "M": "M",
    "MS": "M",
    "Y": "Y",
    "YS": "Y",
}
STORAGE_KEYS = ("storage_charging_self", "storage_charging_total", "storage_discharging_total")

FAULT_KINDS: tuple[str, ...] = (
    "server_error",
    "bad_gateway",
    "timeout",
    "rate_limited",
    "unauthorized",
    "html_200",
    "truncated_json",
    "wrong_shape",
    "site_gone",
    "nulls",
    "drop_rows",
)
_REQUEST_FAULTS = frozenset(
    {"server_error", "bad_gateway", "timeout", "rate_limited", "html_200", "wrong_shape"}
)
_ROW_FAULTS = frozenset({"nulls", "drop_rows"})
ROW_ENDPOINTS = frozenset({"site_data", "meter_data"})

MSG_BAD_CREDENTIALS = "Bad username or password"
MSG_BAD_REQUEST = "Bad request"
MSG_MISSING_AUTH = "Missing Authorization Header"
MSG_NOT_BEARER = (
    "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"
)
MSG_EXPIRED = "Token has expired"
MSG_TOO_MANY = "Too many requests"
MSG_NOT_FOUND = "Not found"
MSG_METHOD = "Method not allowed"
MSG_INVALID_DATE = "Invalid date"
MSG_INVALID_FREQUENCY = "Invalid sampling_frequency"
MSG_INVALID_TYPE = "Invalid meter type"

SERVER_ERROR_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error "
    "in the application.</p>\n"
)
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
HTML_200 = (
    '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
    "<title>Climkit</title>\n</head>\n<body>\n<noscript>You need to enable JavaScript to run "
    'this app.</noscript>\n<div id="root"></div>\n</body>\n</html>\n'
)

_ID_RE = re.compile(r"[0-9a-f]{24}")
_TIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


# --- data model (§5) ------------------------------------------------------------------------


@dataclass
class MeterSpec:
    """One meter of a site."""

    id: str  # 24 hex
    type: str  # electricity | heating | cooling | cold_water | hot_water | charge_point
    mode: str  # consumption | production | introduction | battery
    prim_ad: int
    name: str
    is_rule_meter: bool = False


@dataclass
class SiteSpec:
    """One installation. Fields after ``real_capture`` are simulator extras."""

    id: str
    name: str
    timezone: str = "Europe/Zurich"
    creation: datetime = DEFAULT_CREATION  # aware
    meters: list[MeterSpec] = field(default_factory=list)
    seed: int = 1
    battery: bool = False
    pv_kwp: float = 10.0
    real_capture: bool = False
    capture_file: str = CAPTURE_SITE_FILE
    capture_only: bool = False  # serve the captured rows and nothing else
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    # UTC end of a quarter -> served from that instant on (None: never served)
    missing: dict[datetime, datetime | None] = field(default_factory=dict)
    pv_night_min: float = -0.04  # most negative night value per PV meter (0.01 steps)
    consumer_kw: float = 0.4  # mean base load of a consumer
    battery_kwh: float = 10.0
    battery_kw: float = 5.0
    owned: bool = True  # False: exists, but the account cannot see it (404)
    site_ref: str = ""  # "" -> derived from the id
    street_name: str = "Rue du Lac"
    street_number: str = "12"
    city: str = "Yverdon-les-Bains"
    postal_code: int = 1400
    latitude: float = 46.7785
    longitude: float = 6.6412

    @property
    def ref(self) -> str:
        return self.site_ref or f"CK-{int(self.id[-4:], 16) % 10000:04d}"


def derive_id(*parts: object) -> str:
    """Deterministic 24-hex id."""
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


def demo_site(
    site_id: str = DEMO_SITE_ID,
    *,
    consumers: int = 4,
    water: bool = True,
    heat: bool = True,
    battery: bool = False,
    rule_meter: bool = False,
    creation: datetime = DEFAULT_CREATION,
    name: str = "Résidence du Lac",
    seed: int = 1,
    pv_kwp: float = 10.0,
    timezone: str = "Europe/Zurich",
) -> SiteSpec:
    """Introduction 10, consumers 11.., PV 101, battery 201, rule meter 90, heat 40, water 50."""

    def meter(prim: int, type_: str, mode: str, label: str, rule: bool = False) -> MeterSpec:
        return MeterSpec(derive_id(site_id, prim), type_, mode, prim, label, rule)

    meters = [meter(10, "electricity", "introduction", "Introduction réseau")]
    meters += [
        meter(11 + i, "electricity", "consumption", f"Appartement {i + 1}")
        for i in range(consumers)
    ]
    meters.append(meter(101, "electricity", "production", "PV toiture"))
    if battery:
        meters.append(meter(201, "electricity", "battery", "Batterie"))
    if rule_meter:
        meters.append(meter(90, "electricity", "consumption", "Services généraux", True))
    if heat:
        meters.append(meter(40, "heating", "consumption", "Chaleur App. 1"))
    if water:
        meters.append(meter(50, "cold_water", "consumption", "Eau froide App. 1"))
    return SiteSpec(
        site_id, name, timezone, creation, meters, seed=seed, battery=battery, pv_kwp=pv_kwp
    )


def real_capture_site(*, creation: datetime = DEFAULT_CREATION, seed: int = 1) -> SiteSpec:
    """The 2022 site of the capture: its real meters, a tiny PV (max ~0.04 kWh/15 min)."""
    raw = json.loads((FIXTURES_DIR / CAPTURE_METER_INFO_FILE).read_text(encoding="utf-8"))
    meters: list[MeterSpec] = []
    for item in raw:
        prim = int(item["prim_ad"])
        if prim == 10:
            mode, label = "introduction", "Introduction réseau"
        elif prim >= 100:
            mode, label = "production", f"PV {prim - 100}"
        else:
            mode, label = "consumption", f"Appartement {prim - 10}"
        meters.append(MeterSpec(item["id"], item["type"], mode, prim, label, bool(item["virtual"])))
    return SiteSpec(
        CAPTURE_SITE_ID,
        "Installation 2022",
        "Europe/Zurich",
        creation,
        meters,
        seed=seed,
        pv_kwp=0.16,
        real_capture=True,
        consumer_kw=0.3,
    )


def full_capture_site() -> SiteSpec:
    """The 2022 site serving its whole real answer (2022-05-05 17:00 to 2022-05-20 16:15
    +02:00) and nothing else: its first and last local days are partial."""
    site = real_capture_site(creation=datetime(2022, 5, 5, 14, 45, tzinfo=UTC))
    site.capture_file = CAPTURE_FULL_FILE
    site.capture_only = True
    return site


@functools.cache
def _capture_rows(file: str = CAPTURE_SITE_FILE) -> dict[datetime, dict[str, Any]]:
    """Captured rows by UTC end instant, values in file order (``timestamp`` removed)."""
    out: dict[datetime, dict[str, Any]] = {}
    for row in capture_rows(file):
        end = datetime.fromisoformat(row["timestamp"]).astimezone(UTC)
        out[end] = {k: v for k, v in row.items() if k != "timestamp"}
    return out


def capture_rows(file: str = CAPTURE_SITE_FILE) -> list[dict[str, Any]]:
    """A captured file's rows, as in the file (``.gz`` files are gzipped JSON)."""
    path = FIXTURES_DIR / file
    raw = gzip.decompress(path.read_bytes()) if file.endswith(".gz") else path.read_bytes()
    rows: list[dict[str, Any]] = json.loads(raw.decode("utf-8"))
    return rows


@dataclass
class Fault:
    """A forced answer; ``remaining`` = number of responses affected (None = forever).

    ``paths`` = None matches every request; otherwise an entry matches an endpoint name
    ("site_data"), a path segment (a site id, a meter id, "electricity") or a path prefix
    ("/site_data/<id>", with or without "/api/v1").
    """

    kind: str
    paths: set[str] | None = None
    remaining: int | None = None


@dataclass
class CallRecord:
    """One request received (every request, ``/auth`` and rejected ones included)."""

    at: datetime  # aware UTC, from the simulator clock, at arrival
    method: str
    path: str  # request path, e.g. "/api/v1/site_data/<site>/electricity"
    body: Any  # parsed JSON body, else its text, None when empty
    status: int  # 499 when the client went away before the answer
    query: dict[str, str] = field(default_factory=dict)
    endpoint: str = ""  # auth, all_installations, site_data, ... ("" = unknown route)


@dataclass
class _Resp:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def to_web(self) -> web.Response:
        return web.Response(
            status=self.status, body=self.body, content_type=self.content_type, headers=self.headers
        )


@dataclass
class _Ok:
    data: Any


@dataclass
class _Row:
    start: datetime  # UTC
    values: dict[str, Any]
    capture: bool = False


def _compact_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _json_resp(status: int, body: Any, headers: dict[str, str] | None = None) -> _Resp:
    return _Resp(status, _compact_json(body).encode(), headers=headers or {})


def _msg(status: int, msg: str) -> _Resp:
    return _json_resp(status, {"msg": msg})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unit(*parts: object) -> float:
    """Deterministic number in [0, 1)."""
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _rng(*parts: object) -> random.Random:
    return random.Random("|".join(str(p) for p in parts))


def _utc(dt: datetime) -> datetime:
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).astimezone(UTC)


def _floor_q(dt: datetime) -> datetime:
    seconds = math.floor(_utc(dt).timestamp() / 900) * 900
    return datetime.fromtimestamp(seconds, UTC)


def _ceil_q(dt: datetime) -> datetime:
    seconds = math.ceil(_utc(dt).timestamp() / 900) * 900
    return datetime.fromtimestamp(seconds, UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _r3(value: Any) -> Any:
    if value is None:
        return None
    return round(value, 3) + 0.0  # + 0.0 turns -0.0 into 0.0


def _r3_int(value: Any) -> Any:
    """3 decimals; integral values as JSON integers (``0``, not ``0.0``), like meter_data."""
    rounded = _r3(value)
    if rounded is not None and float(rounded).is_integer():
        return int(rounded)
    return rounded


def _gauss(x: float, mu: float, sigma: float) -> float:
    return math.exp(-0.5 * ((x - mu) / sigma) ** 2)


def _consumption_profile(hour: float) -> float:
    return (
        0.55
        + 0.8 * _gauss(hour, 7.25, 1.0)
        + 0.45 * _gauss(hour, 12.75, 1.1)
        + 1.25 * _gauss(hour, 19.75, 1.5)
        + 0.25 * _gauss(hour, 22.5, 0.8)
    )


def _water_profile(hour: float) -> float:
    return 0.05 + 0.9 * _gauss(hour, 7.0, 0.8) + 0.6 * _gauss(hour, 20.0, 1.5)


def period_floor(dt: datetime, tz: ZoneInfo, frequency: str) -> datetime:
    """UTC start of the site-local calendar period (H/D/M/Y) holding instant ``dt``."""
    local = _utc(dt).astimezone(tz)
    if frequency == "H":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    if frequency == "D":
        day = local.date()
    elif frequency == "M":
        day = local.date().replace(day=1)
    elif frequency == "Y":
        day = date(local.year, 1, 1)
    else:
        raise ValueError(f"unsupported frequency {frequency!r}")
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def period_next(start: datetime, tz: ZoneInfo, frequency: str) -> datetime:
    """UTC start of the period after the one starting at ``start``."""
    if frequency == "H":
        return start + timedelta(hours=1)
    day = start.astimezone(tz).date()
    if frequency == "D":
        nxt = day + timedelta(days=1)
    elif frequency == "M":
        nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    elif frequency == "Y":
        nxt = date(day.year + 1, 1, 1)
    else:
        raise ValueError(f"unsupported frequency {frequency!r}")
    return datetime.combine(nxt, time(0), tzinfo=tz).astimezone(UTC)


# --- the simulator --------------------------------------------------------------------------


class ClimkitSimulator:
    """aiohttp application playing the Climkit cloud API for one account."""

    def __init__(
        self,
        sites: list[SiteSpec],
        *,
        username: str = "cktDevUser_123",
        password: str = "s3cret",
        clock: Callable[[], datetime] | None = None,
        token_lifetime: float = 900.0,
        legacy_auth: bool = False,
        installations_mode: str = "strings",
        address_mode: str = "current",
        meter_info_mode: str = "current",
        latency: timedelta = timedelta(minutes=20),
        rate_limit: bool = True,
        rate_limit_interval: float = 1.0,
        round3: bool = False,
        naive_as_local: bool = False,
        end_inclusive: bool = True,
        delay_seconds: float = 30.0,
        secret: str = DEFAULT_SECRET,
    ) -> None:
        if installations_mode not in ("strings", "objects"):
            raise ValueError(f"installations_mode {installations_mode!r}")
        if address_mode not in ("current", "2022"):
            raise ValueError(f"address_mode {address_mode!r}")
        if meter_info_mode not in ("current", "2022"):
            raise ValueError(f"meter_info_mode {meter_info_mode!r}")
        self.sites: dict[str, SiteSpec] = {s.id: s for s in sites}
        self.username = username
        self.password = password
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.token_lifetime = token_lifetime
        self.legacy_auth = legacy_auth
        self.installations_mode = installations_mode
        self.address_mode = address_mode
        self.meter_info_mode = meter_info_mode
        self.latency = latency
        self.rate_limit = rate_limit
        self.rate_limit_interval = rate_limit_interval
        self.round3 = round3
        self.naive_as_local = naive_as_local
        self.end_inclusive = end_inclusive
        self.delay_seconds = delay_seconds  # the "timeout" fault's delay
        # Hostile answers: the text of every 429's Retry-After (e.g. "86400", "inf"); every
        # request redirected (``redirect_status``, Location = ``redirect_to`` + its path).
        self.retry_after: str | None = None
        self.redirect_to: str | None = None
        self.redirect_status = 307
        self.secret = secret
        self.calls: list[CallRecord] = []
        self.faults: list[Fault] = []
        self.url: str | None = None  # "http://127.0.0.1:<port>" once started
        self.base_url: str | None = None  # url + "/api/v1"
        self._tokens: dict[str, datetime] = {}
        self._issued = 0
        self._last_accepted: datetime | None = None
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._deltas: dict[tuple[Any, ...], list[float]] = {}
        self._days: dict[tuple[Any, ...], list[_Row]] = {}
        self._hours: dict[tuple[str, date], list[float]] = {}
        self._gap_means: dict[tuple[Any, ...], float] = {}
        self._sensor_days: dict[tuple[str, date], list[float]] = {}

    # -- configuration helpers --

    def add_fault(
        self,
        kind: str,
        paths: Iterable[str] | str | None = None,
        remaining: int | None = None,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        path_set = {paths} if isinstance(paths, str) else (set(paths) if paths else None)
        self.faults.append(Fault(kind, path_set, remaining))

    def clear_faults(self) -> None:
        self.faults.clear()

    def calls_to(self, endpoint: str | None = None) -> list[CallRecord]:
        return [c for c in self.calls if endpoint is None or c.endpoint == endpoint]

    def forget_cache(self) -> None:
        """Recompute served rows (after changing a site's meters in a test)."""
        self._deltas.clear()
        self._days.clear()
        self._hours.clear()
        self._gap_means.clear()

    def revoke_tokens(self) -> None:
        """Forget every issued token (next data request: 401 Token has expired)."""
        self._tokens.clear()

    def issue_token(self) -> str:
        """A valid token as /auth would give it (no request, no rate limit)."""
        token, _ = self._new_token(self.now())
        return token

    # -- time --

    def now(self) -> datetime:
        return _utc(self.clock())

    def available_until(self) -> datetime:
        """Latest interval end served now (``clock - latency``, floored to 15 min)."""
        return _floor_q(self.now() - self.latency)

    # -- ids --

    @staticmethod
    def sensor_id(site_id: str) -> str:
        return derive_id(site_id, "sensor")

    def _site(self, site_id: str) -> SiteSpec | None:
        site = self.sites.get(site_id) if _ID_RE.fullmatch(site_id) else None
        return site if site is not None and site.owned else None

    @staticmethod
    def _meter_of(site: SiteSpec, meter_id: str) -> MeterSpec | None:
        if not _ID_RE.fullmatch(meter_id):
            return None
        return next((m for m in site.meters if m.id == meter_id), None)

    # -- ground truth --

    def interval_values(
        self, site_id: str, meter_type: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """15T rows as served for ends in ``[start, end]`` (creation applies, latency and
        faults do not): ``{"end": <aware, site tz>, **values}`` without ``timestamp``."""
        site = self.sites[site_id]
        tz = ZoneInfo(site.timezone)
        return [
            {"end": stamp.astimezone(tz), **self._present(values, capture)}
            for stamp, values, capture in self._series(site, meter_type, start, end, "15T", None)
        ]

    def period_values(
        self, site_id: str, meter_type: str, start: datetime, end: datetime, frequency: str
    ) -> list[dict[str, Any]]:
        """H/D/M/Y rows as served for period starts in ``[start, end]`` (no latency):
        ``{"start": <aware, site tz>, **values}``."""
        site = self.sites[site_id]
        tz = ZoneInfo(site.timezone)
        return [
            {"start": stamp.astimezone(tz), **self._present(values, capture)}
            for stamp, values, capture in self._series(
                site, meter_type, start, end, frequency, None
            )
        ]

    def sensor_values(
        self, site_id: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, float]]:
        """(UTC instant, °C) samples in ``[start, end]`` (from the site's creation)."""
        site = self.sites[site_id]
        first = max(_ceil_q(start), _ceil_q(site.creation))
        last = _floor_q(end)
        out: list[tuple[datetime, float]] = []
        day = first.date()
        while day <= last.date():
            base = _day_start(day)
            for j, value in enumerate(self._sensor_day(site, day)):
                at = base + j * QUARTER
                if first <= at <= last:
                    out.append((at, value))
            day += timedelta(days=1)
        return out

    def _present(self, values: dict[str, Any], capture: bool) -> dict[str, Any]:
        if self.round3 and not capture:
            return {k: _r3(v) for k, v in values.items()}
        return dict(values)

    def _columns(self, site: SiteSpec, meter_type: str) -> tuple[list[MeterSpec], list[MeterSpec]]:
        """(consumers with ext/self/total columns or total only, producers with total)."""
        metered = [m for m in site.meters if m.type == meter_type and not m.is_rule_meter]
        if meter_type == "electricity":
            consumers = [m for m in metered if m.mode == "consumption"]
            producers = [m for m in metered if m.mode == "production"]
            return consumers, producers
        return [m for m in metered if m.mode not in ("introduction", "battery")], []

    def _local_hours(self, site: SiteSpec, day: date) -> list[float]:
        """Site-local hour of the middle of each quarter of UTC day ``day``."""
        key = (site.timezone, day)
        hours = self._hours.get(key)
        if hours is None:
            tz = ZoneInfo(site.timezone)
            base = _day_start(day) + QUARTER / 2
            hours = []
            for j in range(96):
                mid = (base + j * QUARTER).astimezone(tz)
                hours.append(mid.hour + mid.minute / 60 + mid.second / 3600)
            self._hours[key] = hours
        return hours

    def _steps(self, site: SiteSpec, meter: MeterSpec, day: date) -> list[int]:
        """Index steps (units of the meter's resolution) of the 96 quarters of UTC day."""
        doy = day.timetuple().tm_yday
        hours = self._local_hours(site, day)
        rng = _rng(site.seed, meter.id, day.isoformat())
        personal = _unit(site.seed, meter.id)
        if meter.type == "electricity" and meter.mode == "production":
            producers = self._columns(site, "electricity")[1]
            kwp = site.pv_kwp / max(len(producers), 1)
            seasonal = math.sin(2 * math.pi * (doy - 80) / 365.25)  # +1 June, -1 December
            day_length = 12.2 + 3.8 * seasonal
            amplitude = kwp * 0.25 * (0.62 + 0.3 * seasonal)  # kWh per clear-noon quarter
            sky = 0.15 + 0.85 * rng.random() ** 0.6
            noon = 12.0 - site.longitude / 15.0  # solar noon, UTC hours
            night = max(0, round(-site.pv_night_min * 100))
            pv: list[int] = []
            for j in range(96):
                x = (j * 0.25 + 0.125 - noon) / (day_length / 2)
                if abs(x) >= 1:
                    pv.append(-min(night, int(rng.random() ** 2 * (night + 1))))
                    continue
                dip = rng.uniform(0.3, 0.7) if rng.random() < 0.08 else 1.0
                kwh = amplitude * sky * math.cos(math.pi * x / 2) ** 1.5 * dip
                pv.append(round(kwh * rng.uniform(0.9, 1.08) * 100))
            return pv
        if meter.type in ("heating", "cooling"):
            season = math.cos(2 * math.pi * (doy - 15) / 365.25)  # +1 January
            need = max(0.0, season if meter.type == "heating" else -season)
            kw = 4.0 * (0.5 + personal)
            steps = []
            for hour in hours:
                shape = 1.25 if 5 <= hour < 9 or 17 <= hour < 22 else 0.85
                value = kw * (0.08 + need) * shape * rng.uniform(0.8, 1.2)
                steps.append(round(value * 0.25 * 100))
            return steps
        if meter.type in WATER_TYPES:
            litres = 25 if meter.type == "cold_water" else 12
            return [
                rng.randint(1, litres) if rng.random() < 0.6 * _water_profile(hour) else 0
                for hour in hours
            ]
        # consumption (electricity, charge_point): base load x daily profile + appliances
        season = 1 + 0.35 * math.cos(2 * math.pi * (doy - 20) / 365.25)
        weekend = 1.1 if day.weekday() >= 5 else 1.0
        level = site.consumer_kw * (0.6 + 0.8 * personal) * season * weekend
        level *= rng.uniform(0.85, 1.15)
        left, extra = 0, 0.0
        steps = []
        for hour in hours:
            profile = _consumption_profile(hour)
            kw = level * profile * rng.uniform(0.75, 1.25)
            if left == 0 and rng.random() < 0.03 * profile:
                extra, left = rng.uniform(1.0, 2.5), rng.randint(1, 4)
            if left > 0:
                kw += extra
                left -= 1
            steps.append(max(0, round(kw * 0.25 * 100)))
        return steps

    def _meter_deltas(self, site: SiteSpec, meter: MeterSpec, day: date) -> list[float]:
        """Raw 15-min deltas of UTC day ``day``: differences of a float index."""
        key = (site.id, site.seed, meter.id, day)
        cached = self._deltas.get(key)
        if cached is not None:
            return cached
        digits = 3 if meter.type in WATER_TYPES else 2
        scale = 10**digits
        # a small index (tens of units) gives float noise of the 2022 capture's order (1e-14)
        anchor = round(10 + 90 * _unit(meter.id, day.isoformat()), digits)
        total, previous, deltas = 0, anchor, []
        for step in self._steps(site, meter, day):
            total += step
            index = round(anchor + total / scale, digits)
            deltas.append(index - previous)
            previous = index
        self._deltas[key] = deltas
        return deltas

    def _delta(self, site: SiteSpec, meter: MeterSpec, start: datetime) -> float:
        for number, (g_start, g_end) in enumerate(site.gaps):
            if _utc(g_start) <= start and start + QUARTER <= _utc(g_end):
                return self._gap_mean(site, meter, number)
        return self._meter_deltas(site, meter, start.date())[
            (start - _day_start(start.date())) // QUARTER
        ]

    def _gap_mean(self, site: SiteSpec, meter: MeterSpec, number: int) -> float:
        key = (site.id, meter.id, number)
        if key not in self._gap_means:
            g_start, g_end = site.gaps[number]
            at, last = _ceil_q(g_start), _floor_q(g_end) - QUARTER
            values = []
            while at <= last:
                index = (at - _day_start(at.date())) // QUARTER
                values.append(self._meter_deltas(site, meter, at.date())[index])
                at += QUARTER
            self._gap_means[key] = sum(values) / len(values) if values else 0.0
        return self._gap_means[key]

    def _day_rows(self, site: SiteSpec, meter_type: str, day: date) -> list[_Row]:
        """The 96 raw quarter rows (values without timestamp) of UTC day ``day``."""
        key = (site.id, site.seed, meter_type, day)
        cached = self._days.get(key)
        if cached is not None:
            return cached
        consumers, producers = self._columns(site, meter_type)
        base = _day_start(day)
        starts = [base + j * QUARTER for j in range(96)]
        deltas = {m.id: [self._delta(site, m, s) for s in starts] for m in consumers + producers}
        capture = (
            _capture_rows(site.capture_file)
            if site.real_capture and meter_type == "electricity"
            else {}
        )
        hours = self._local_hours(site, day)
        capacity, power = site.battery_kwh, site.battery_kw / 4
        stored = 0.0
        rows: list[_Row] = []
        for j, start in enumerate(starts):
            captured = capture.get(start + QUARTER)
            if captured is not None:
                rows.append(_Row(start, captured, True))
                continue
            if site.capture_only:
                continue
            conso = 0.0
            for m in consumers:
                conso += deltas[m.id][j]
            values: dict[str, float] = {}
            if meter_type != "electricity":
                values = {"conso_total": conso, "from_ext": 0.0, "prod_total": 0.0, "self": 0.0}
                values |= dict.fromkeys(STORAGE_KEYS, 0.0) | {"to_ext": 0.0}
                values |= {f"total_{m.id}": deltas[m.id][j] for m in consumers}
                rows.append(_Row(start, dict(sorted(values.items()))))
                continue
            prod = 0.0
            for m in producers:
                prod += deltas[m.id][j]
            direct = min(prod, conso)
            charge = discharge = 0.0
            if site.battery:
                if prod > conso:
                    charge = min(prod - conso, power, capacity - stored)
                    stored += charge
                elif (hours[j] >= 17 or hours[j] < 6) and stored > 0:
                    discharge = min(conso - direct, power, stored)
                    stored -= discharge
            self_ = direct + discharge
            values = {
                "conso_total": conso,
                "from_ext": conso - self_,
                "prod_total": prod,
                "self": self_,
                "storage_charging_self": charge,
                "storage_charging_total": charge,
                "storage_discharging_total": discharge,
                "to_ext": prod - direct - charge,
            }
            share = max(self_, 0.0)
            for m in consumers:
                total = deltas[m.id][j]
                own = share * total / conso if conso else 0.0
                values[f"ext_{m.id}"] = total - own
                values[f"self_{m.id}"] = own
                values[f"total_{m.id}"] = total
            for m in producers:
                values[f"total_{m.id}"] = deltas[m.id][j]
            rows.append(_Row(start, dict(sorted(values.items()))))
        self._days[key] = rows
        return rows

    def _quarters(
        self, site: SiteSpec, meter_type: str, first: datetime, last: datetime
    ) -> list[_Row]:
        """Quarter rows whose start is in ``[first, last]`` (both UTC, on the grid), without
        the missing quarters not served yet."""
        rows: list[_Row] = []
        day = first.date()
        while day <= last.date():
            rows.extend(
                r for r in self._day_rows(site, meter_type, day) if first <= r.start <= last
            )
            day += timedelta(days=1)
        if site.missing:
            now = self.now()
            rows = [r for r in rows if not self._withheld(site, r.start + QUARTER, now)]
        return rows

    @staticmethod
    def _withheld(site: SiteSpec, end: datetime, now: datetime) -> bool:
        if end not in site.missing:
            return False
        served_from = site.missing[end]
        return served_from is None or now < served_from

    def _series(
        self,
        site: SiteSpec,
        meter_type: str,
        t_s: datetime,
        t_e: datetime | None,
        frequency: str,
        available: datetime | None,
    ) -> list[tuple[datetime, dict[str, Any], bool]]:
        """(UTC stamp, raw values, verbatim capture?) of the rows served for this window.

        ``available``: latest interval end that exists (None = no limit; then ``t_e`` is
        required)."""
        if not any(m.type == meter_type for m in site.meters):
            return []
        t_s = _utc(t_s)
        first_start = _ceil_q(site.creation)
        ends = [x for x in (None if t_e is None else _floor_q(t_e), available) if x is not None]
        if frequency == "15T":
            last_end = min(ends)
            first = max(_ceil_q(t_s) - QUARTER, first_start)
            rows = self._quarters(site, meter_type, first, last_end - QUARTER)
            return [(r.start + QUARTER, r.values, r.capture) for r in rows]
        tz = ZoneInfo(site.timezone)
        last_quarter = None if available is None else available - QUARTER
        limit = min(x for x in (None if t_e is None else _utc(t_e), last_quarter) if x is not None)
        period = period_floor(max(t_s, _utc(site.creation)), tz, frequency)
        if period < t_s:
            period = period_next(period, tz, frequency)
        out: list[tuple[datetime, dict[str, Any], bool]] = []
        while period <= limit:
            following = period_next(period, tz, frequency)
            high = following - QUARTER
            if last_quarter is not None:
                high = min(high, last_quarter)
            rows = self._quarters(site, meter_type, max(period, first_start), high)
            if rows:
                summed = {key: sum(r.values[key] for r in rows) for key in rows[0].values}
                out.append((period, summed, False))
            period = following
        return out

    def _sensor_day(self, site: SiteSpec, day: date) -> list[float]:
        key = (site.id, day)
        values = self._sensor_days.get(key)
        if values is None:
            rng = _rng(site.seed, self.sensor_id(site.id), day.isoformat())
            season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)
            values = [
                round(
                    20.0
                    + 2.5 * math.sin(2 * math.pi * (hour - 9) / 24)
                    + 1.5 * season
                    + rng.uniform(-0.3, 0.3),
                    1,
                )
                for hour in self._local_hours(site, day)
            ]
            self._sensor_days[key] = values
        return values

    # -- HTTP --

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_route("*", "/{tail:.*}", self._handle)
        return application

    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (free port); returns ``http://127.0.0.1:<port>`` (the API is
        under ``/api/v1``; ``self.base_url`` holds the full API base)."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._wake = asyncio.Event()
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self.base_url = self.url + API_PREFIX
        return self.url

    async def stop(self) -> None:
        self._wake.set()  # requests held by the "timeout" fault answer now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        at = self.now()
        raw = await request.read()
        record = CallRecord(at, request.method, request.path, _log_body(raw), 0)
        record.query = dict(request.query)
        self.calls.append(record)
        try:
            resp = await self._respond(request, raw, at, record)
        except asyncio.CancelledError:
            record.status = 499
            raise
        record.status = resp.status
        return resp.to_web()

    def _rate_limited(self, at: datetime) -> bool:
        if not self.rate_limit:
            return False
        last = self._last_accepted
        if last is not None and timedelta(0) <= at - last < timedelta(
            seconds=self.rate_limit_interval
        ):
            return True
        self._last_accepted = at
        return False

    def _too_many(self) -> _Resp:
        retry = str(max(1, math.ceil(self.rate_limit_interval)))
        if self.retry_after is not None:
            retry = self.retry_after
        return _json_resp(429, {"msg": MSG_TOO_MANY}, {"Retry-After": retry})

    async def _respond(
        self, request: web.Request, raw: bytes, at: datetime, record: CallRecord
    ) -> _Resp:
        path = request.path
        segments = [s for s in path[len(API_PREFIX) :].split("/") if s]
        if path.startswith(API_PREFIX + "/"):
            route = _route(request.method, segments)
        else:
            route = _msg(404, MSG_NOT_FOUND)
        if isinstance(route, str):
            record.endpoint = route
        if self.redirect_to is not None:
            location = self.redirect_to + request.path_qs
            return _Resp(self.redirect_status, b"", "text/plain", {"Location": location})
        if self._rate_limited(at):
            return self._too_many()
        if isinstance(route, _Resp):
            return route
        endpoint = route
        kinds = _REQUEST_FAULTS if endpoint == "auth" else _REQUEST_FAULTS | {"unauthorized"}
        fault = self._take_fault(kinds, endpoint, segments)
        if fault is not None:
            if fault.kind != "timeout":
                return self._fault_response(fault.kind)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.delay_seconds)
        if endpoint == "auth":
            result = self._auth(request, raw)
        else:
            denied = self._check_token(request)
            if denied is not None:
                return denied
            result = self._data(endpoint, segments, request, raw)
        if isinstance(result, _Resp):
            return result
        data = result.data
        if endpoint in ROW_ENDPOINTS and isinstance(data, list):
            row_fault = self._take_fault(_ROW_FAULTS, endpoint, segments)
            if row_fault is not None:
                data = _alter_rows(row_fault.kind, data)
        body = _compact_json(data).encode()
        if self._take_fault({"truncated_json"}, endpoint, segments) is not None:
            body = body[: len(body) // 2]
        return _Resp(200, body)

    def _take_fault(self, kinds: Iterable[str], endpoint: str, segments: list[str]) -> Fault | None:
        wanted = set(kinds)
        relative = "/" + "/".join(segments)
        for fault in self.faults:
            if fault.kind not in wanted:
                continue
            if fault.paths is not None and not any(
                p in (endpoint, *segments)
                or relative.startswith("/" + p.strip("/"))
                or (API_PREFIX + relative).startswith(p)
                for p in fault.paths
            ):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def _fault_response(self, kind: str) -> _Resp:
        if kind == "server_error":
            return _Resp(500, SERVER_ERROR_HTML.encode(), "text/html")
        if kind == "bad_gateway":
            return _Resp(502, BAD_GATEWAY_HTML.encode(), "text/html")
        if kind == "rate_limited":
            return self._too_many()
        if kind == "html_200":
            return _Resp(200, HTML_200.encode(), "text/html")
        if kind == "wrong_shape":
            return _json_resp(200, {"foo": 1})
        if kind == "unauthorized":
            return _msg(401, MSG_EXPIRED)
        raise AssertionError(f"unhandled fault kind {kind}")  # pragma: no cover

    # -- auth --

    def _new_token(self, now: datetime) -> tuple[str, datetime]:
        self._issued += 1
        expires = now + timedelta(seconds=self.token_lifetime)
        iat = int(now.timestamp())
        jti = uuid.UUID(hashlib.sha256(f"{self.username}|{self._issued}".encode()).hexdigest()[:32])
        header = {"typ": "JWT", "alg": "HS256"}
        payload = {
            "fresh": False,
            "iat": iat,
            "jti": str(jti),
            "type": "access",
            "sub": self.username,
            "nbf": iat,
            "exp": int(expires.timestamp()),
        }
        signing_input = (
            f"{_b64url(_compact_json(header).encode())}.{_b64url(_compact_json(payload).encode())}"
        )
        signature = hmac.new(self.secret.encode(), signing_input.encode(), hashlib.sha256)
        token = f"{signing_input}.{_b64url(signature.digest())}"
        self._tokens[token] = expires
        return token, expires

    def _auth(self, request: web.Request, raw: bytes) -> _Resp | _Ok:
        body = _json_body(request, raw)
        if not isinstance(body, dict):
            return _msg(400, MSG_BAD_REQUEST)
        if body.get("username") != self.username or body.get("password") != self.password:
            return _msg(401, MSG_BAD_CREDENTIALS)
        token, expires = self._new_token(self.now())
        answer: dict[str, Any] = {"access_token": token}
        if not self.legacy_auth:
            answer["valid_until"] = {"$date": int(expires.timestamp() * 1000)}
        return _Ok(answer)

    def _check_token(self, request: web.Request) -> _Resp | None:
        header = request.headers.get("Authorization", "")
        if not header.strip():
            return _msg(401, MSG_MISSING_AUTH)
        parts = header.split(None, 1)
        if len(parts) != 2 or parts[0] != "Bearer":
            return _msg(401, MSG_NOT_BEARER)
        expires = self._tokens.get(parts[1].strip())
        if expires is None or self.now() >= expires:
            return _msg(401, MSG_EXPIRED)
        return None

    # -- data endpoints --

    def _parse_time(self, value: Any, site: SiteSpec) -> datetime | None:
        if not isinstance(value, str):
            return None
        match = _TIME_RE.fullmatch(value)
        if match is None:
            return None
        try:
            naive = datetime(*(int(g) for g in match.groups()))
        except ValueError:
            return None
        tz = ZoneInfo(site.timezone) if self.naive_as_local else UTC
        return naive.replace(tzinfo=tz).astimezone(UTC)

    def _window(
        self, site: SiteSpec, t_s_raw: Any, t_e_raw: Any
    ) -> _Resp | tuple[datetime, datetime | None]:
        t_s = self._parse_time(t_s_raw, site)
        t_e = None if t_e_raw is None else self._parse_time(t_e_raw, site)
        if t_s is None or (t_e_raw is not None and t_e is None):
            return _msg(400, MSG_INVALID_DATE)
        return t_s, t_e

    def _data(
        self, endpoint: str, segments: list[str], request: web.Request, raw: bytes
    ) -> _Resp | _Ok:
        if endpoint == "all_installations":
            owned = [s for s in self.sites.values() if s.owned]
            if self.installations_mode == "strings":
                return _Ok([s.id for s in owned])
            return _Ok([{"_id": s.id, "name": s.name, "site_ref": s.ref} for s in owned])
        site_id = segments[0] if endpoint in ("sensors_list", "sensor_data") else segments[1]
        site = self._site(site_id)
        meter: MeterSpec | None = None
        if site is not None and endpoint == "meter_data":
            meter = self._meter_of(site, segments[2])
            if meter is None:
                return _msg(404, MSG_NOT_FOUND)
        if site is None or (endpoint == "sensor_data" and segments[2] != self.sensor_id(site.id)):
            return _msg(404, MSG_NOT_FOUND)
        if self._take_fault({"site_gone"}, endpoint, segments) is not None:
            return _msg(404, MSG_NOT_FOUND)
        if endpoint == "installation_infos":
            return _Ok(self._installation_infos(site))
        if endpoint == "meter_info":
            return _Ok([self._meter_info(m) for m in site.meters])
        if endpoint == "sensors_list":
            return _Ok(
                [
                    {
                        "id": self.sensor_id(site.id),
                        "name": "Température chaufferie",
                        "type": "temperature",
                        "unit": "°C",
                        "model": "PT1000",
                    }
                ]
            )
        if endpoint == "sensor_data":
            window = self._window(site, request.query.get("t_s"), request.query.get("t_e"))
            if isinstance(window, _Resp):
                return window
            t_s, t_e = window
            end = self.now() if t_e is None else min(t_e, self.now())
            return _Ok(
                [
                    {"timestamp": int(at.timestamp() * 1000), "value": value}
                    for at, value in self.sensor_values(site.id, t_s, end)
                ]
            )
        # site_data / meter_data
        body = _json_body(request, raw)
        if not isinstance(body, dict):
            return _msg(400, MSG_BAD_REQUEST)
        window = self._window(site, body.get("t_s"), body.get("t_e"))
        if isinstance(window, _Resp):
            return window
        t_s, t_e = window
        if t_e is not None and not self.end_inclusive:
            t_e -= timedelta(microseconds=1)  # a row (or period) stamped t_e is not served
        frequency_raw = body.get("sampling_frequency")
        frequency = "15T" if frequency_raw is None else FREQUENCIES.get(str(frequency_raw))
        if frequency is None:
            return _msg(400, MSG_INVALID_FREQUENCY)
        available = self.available_until()
        tz = ZoneInfo(site.timezone)
        if endpoint == "site_data":
            meter_type = segments[2]
            if meter_type not in METER_TYPES:
                return _msg(400, MSG_INVALID_TYPE)
            series = self._series(site, meter_type, t_s, t_e, frequency, available)
            return _Ok(
                [
                    {**self._present(values, capture), "timestamp": _stamp(stamp, tz)}
                    for stamp, values, capture in series
                ]
            )
        assert meter is not None
        consumers, producers = self._columns(site, meter.type)
        if meter not in consumers and meter not in producers:
            return _Ok([])  # introduction, battery and rule meters have no series
        series = self._series(site, meter.type, t_s, t_e, frequency, available)
        total_key = f"total_{meter.id}"
        if meter in producers:
            return _Ok(
                [
                    {"total": _r3_int(values[total_key]), "timestamp": _stamp(stamp, tz)}
                    for stamp, values, _ in series
                ]
            )
        return _Ok(
            [
                {
                    "ext": _r3_int(values.get(f"ext_{meter.id}", 0)),
                    "timestamp": _stamp(stamp, tz),
                    "self": _r3_int(values.get(f"self_{meter.id}", 0)),
                    "total": _r3_int(values[total_key]),
                }
                for stamp, values, _ in series
            ]
        )

    def _installation_infos(self, site: SiteSpec) -> dict[str, Any]:
        address: dict[str, Any] = {
            "street_name": site.street_name,
            "street_number": site.street_number,
        }
        if self.address_mode == "current":
            address |= {"city": site.city, "postal_code": site.postal_code}
        else:
            address |= {"city_name": site.city, "city_ref": site.postal_code}
        creation = _utc(site.creation).replace(tzinfo=None, microsecond=0)
        return {
            "site_ref": site.ref,
            "name": site.name,
            "address": address,
            "creation_date": creation.isoformat(),
            "latitude": site.latitude,
            "longitude": site.longitude,
            "timezone": site.timezone,
        }

    def _meter_info(self, meter: MeterSpec) -> dict[str, Any]:
        if self.meter_info_mode == "2022":
            return {
                "id": meter.id,
                "type": meter.type,
                "prim_ad": str(meter.prim_ad),
                "virtual": meter.is_rule_meter,
            }
        return {
            "id": meter.id,
            "type": meter.type,
            "name": meter.name,
            "mode": meter.mode,
            "prim_ad": meter.prim_ad,
            "is_rule_meter": meter.is_rule_meter,
        }


def _stamp(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).isoformat(sep=" ")


def _route(method: str, segments: list[str]) -> str | _Resp:
    """Endpoint name of a path below /api/v1, or a 404/405 answer."""
    shapes: list[tuple[str, str, bool]] = [
        ("auth", "POST", segments == ["auth"]),
        ("all_installations", "GET", segments == ["all_installations"]),
        (
            "installation_infos",
            "GET",
            len(segments) == 2 and segments[0] == "installation_infos",
        ),
        ("meter_info", "GET", len(segments) == 2 and segments[0] == "meter_info"),
        ("site_data", "POST", len(segments) == 3 and segments[0] == "site_data"),
        ("meter_data", "POST", len(segments) == 3 and segments[0] == "meter_data"),
        ("sensors_list", "GET", len(segments) == 2 and segments[1] == "sensors_list"),
        ("sensor_data", "GET", len(segments) == 3 and segments[1] == "sensor_data"),
    ]
    for name, wanted, matched in shapes:
        if matched:
            return name if method == wanted else _msg(405, MSG_METHOD)
    return _msg(404, MSG_NOT_FOUND)


def _json_body(request: web.Request, raw: bytes) -> Any:
    """Parsed JSON body; None when the content type is not JSON or the body does not parse."""
    if request.content_type != "application/json":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _log_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _alter_rows(kind: str, rows: list[Any]) -> list[Any]:
    """``nulls``: values of rows 1, 5, 9... become null; ``drop_rows``: those rows go."""
    if kind == "drop_rows":
        return [row for i, row in enumerate(rows) if i % 4 != 1]
    return [
        {k: (v if k == "timestamp" or i % 4 != 1 else None) for k, v in row.items()}
        for i, row in enumerate(rows)
    ]


async def _demo() -> None:  # pragma: no cover - manual use: python -m tests.simulators.climkit
    simulator = ClimkitSimulator([demo_site(battery=True), real_capture_site()], rate_limit=False)
    url = await simulator.start()
    print(f"Climkit simulator on {simulator.base_url}")
    print(
        f"try: curl -X POST -H 'Content-Type: application/json' "
        f'-d \'{{"username":"cktDevUser_123","password":"s3cret"}}\' {url}/api/v1/auth'
    )
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_demo())
