"""Offline simulator of Conso API (https://conso.boris.sh), for tests of our client.

Ground truth: ``/work/shared/docs/conso-api.md``. The simulator reproduces what Conso API
itself does (request handling order, zod error bodies, HS256 user tokens, wrapping of the
Enedis errors) and plays the Enedis "mesure synchrone v2" API behind it with deterministic
synthetic data (publication time, history depth, activation date, 7-day load-curve window,
DST days, corrected/null/partial days, other steps) plus switchable faults.

Only aiohttp and the standard library are used; nothing from Home Assistant or from
``custom_components`` is imported.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import math
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.simulators.conso_api_index import ORIGIN, IndexBook, RegisterPlan, index_body, split_day

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_SECRET = "conso-api-simulator-secret"
TOKEN_LIFETIME = timedelta(days=364 + 365 + 365)

# Order of lib/url.ts (S2): the 5 legacy types, then the 7 v2 types; the zod enum lists them so.
LEGACY_TYPES: tuple[str, ...] = (
    "daily_consumption",
    "consumption_load_curve",
    "consumption_max_power",
    "daily_production",
    "production_load_curve",
)
V2_TYPES: tuple[str, ...] = (
    "index_consommation",
    "index_production",
    "consommation_quotidienne",
    "production_quotidienne",
    "puissance_conso_max_quotidienne",
    "courbe_de_charge_consommation",
    "courbe_de_charge_production",
)
ALL_TYPES: tuple[str, ...] = LEGACY_TYPES + V2_TYPES
DAILY_TYPES = frozenset({"consommation_quotidienne", "production_quotidienne"})
CURVE_TYPES = frozenset({"courbe_de_charge_consommation", "courbe_de_charge_production"})
MAX_POWER_TYPE = "puissance_conso_max_quotidienne"
INDEX_TYPES = frozenset({"index_consommation", "index_production"})
PRODUCTION_TYPES = frozenset({"production_quotidienne", "courbe_de_charge_production"})

FAULT_KINDS: tuple[str, ...] = (
    "quota_900807",
    "quota_900804",
    "technical_error",
    "enedis_raw_500",
    "token_refresh",
    "unknown_error",
    "not_titulaire",
    "no_consent",
    "gateway_900908",
    "cloudflare_403",
    "cloudflare_502_html",
    "cloudflare_502_json",
    "html_200",
    "truncated_json",
    "wrong_shape",
    "unauthorized",
    "no_data",
    "history_limit",
    "bad_request",
    "redirect",
)

# --- exact bodies (conso-api.md §3) ---------------------------------------------------------

MSG_METHOD = "Seule la méthode GET est autorisée"
MSG_INVALID_PARAMS = "Paramètres invalides"
MSG_AUTH_HEADER = "Le header 'Authorization' est manquant ou invalide"
MSG_BAD_TOKEN = "Votre token est invalide ou ne permet pas d'accéder à ce PRM"
MSG_TOKEN_REFRESH = "Impossible de rafraîchir le token. Réessayez plus tard"
MSG_UNKNOWN = "Erreur inconnue. Réessayez plus tard"
MSG_ENEDIS = "The Enedis API returned an error"

ERR_NO_DATA: dict[str, Any] = {
    "error": "no_data_found",
    "error_description": "no measure found for this usage point",
}
ERR_DATES_ORDER: dict[str, Any] = {
    "error": "ADAM-ERR0002",
    "error_description": "La date de fin doit être supérieure à la date de début.",
}
ERR_BEFORE_ACTIVATION: dict[str, Any] = {
    "error": "ADAM-ERR0123",
    "error_description": (
        "La demande ne peut pas aboutir, la période demandée est antérieure à la date de "
        "dernière mise en service du point."
    ),
}
# [I] only the legacy English texts of ERR0125/ERR0126 are known; v2 texts are French.
ERR_HISTORY: dict[str, Any] = {
    "error": "ADAM-ERR0125",
    "error_description": "La date de début doit être postérieure à la date limite d'historique.",
}
ERR_CURVE_WINDOW: dict[str, Any] = {
    "error": "ADAM-ERR0126",
    "error_description": (
        "La période demandée doit être inférieure ou égale à 7 jours pour un accès à la "
        "courbe de charge."
    ),
}
# [I] no limit of the index types is documented; this is the refusal `index_max_days` gives.
ERR_INDEX_WINDOW: dict[str, Any] = {
    "error": "ADAM-ERR0126",
    "error_description": "La période demandée est trop longue pour un accès aux index.",
}
# [I] Enedis' answer to a date passing Conso API's unanchored regex but not being a real
# YYYY-MM-DD date is unknown; the v2 swagger documents errors as {"code","message"}.
ERR_DATE_FORMAT: dict[str, Any] = {
    "code": "400",
    "message": "Le format des dates est invalide, format attendu : AAAA-MM-JJ.",
}
ERR_NOT_TITULAIRE: dict[str, Any] = {
    "error": "ADAM-DC-0007",
    "error_description": "Le client n'est pas titulaire du point demandé.",
}
ERR_NO_CONSENT: dict[str, Any] = {
    "error": "ADAM-DC-0008",
    "error_description": "No consent can be found for this customer and this usage point.",
}
ERR_LEGACY_RETIRED: dict[str, Any] = {"code": "404", "message": "Resource not found"}
ERR_GATEWAY_900908: dict[str, Any] = {
    "code": "900908",
    "message": "Resource forbidden ",
    "description": (
        "User is NOT authorized to access the Resource. API Subscription validation failed."
    ),
}
ERR_QUOTA_900807: dict[str, Any] = {
    "fault": {
        "code": 900807,
        "message": "Message throttled out",
        "description": "You have exceeded your quota",
    }
}
ERR_TECHNICAL: dict[str, Any] = {
    "error": "technical_error",
    "error_description": "Technical error. Please try later.",
}

CLOUDFLARE_403_HTML = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if IE 7]>    <html class="no-js ie7 oldie" lang="en-US"> <![endif]-->
<!--[if IE 8]>    <html class="no-js ie8 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/cf.errors.css" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="cf-error-details-wrapper">
    <div class="cf-wrapper cf-header cf-error-overview">
      <h1 data-translate="block_headline">Sorry, you have been blocked</h1>
      <h2 class="cf-subheadline"><span data-translate="unable_to_access">You are unable to
      access</span> boris.sh</h2>
    </div>
    <div class="cf-section cf-wrapper">
      <h2 data-translate="blocked_why_headline">Why have I been blocked?</h2>
      <p data-translate="blocked_why_detail">This website is using a security service to
      protect itself from online attacks.</p>
    </div>
    <div class="cf-error-footer cf-wrapper">
      <p><span>Cloudflare Ray ID: <strong class="font-semibold">8f2a61c0d9e4b7a1</strong>
      </span> &bull; <span>Performance &amp; security by Cloudflare</span></p>
    </div>
  </div>
</div>
</body>
</html>
"""

CLOUDFLARE_502_HTML = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if IE 7]>    <html class="no-js ie7 oldie" lang="en-US"> <![endif]-->
<!--[if IE 8]>    <html class="no-js ie8 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>

<title>boris.sh | 502: Bad gateway</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta http-equiv="X-UA-Compatible" content="IE=Edge" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/main.css" />
</head>
<body>
<div id="cf-wrapper">
    <div id="cf-error-details" class="p-0">
        <header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
            <h1 class="inline-block sm:block sm:mb-2 font-light text-60 leading-tight mr-2">
                <span class="inline-block">Bad gateway</span>
                <span class="code-label">Error code 502</span>
            </h1>
        </header>
        <div class="w-240 lg:w-full mx-auto mb-8 lg:px-8">
            <h2 class="text-3xl leading-tight font-normal mb-4">What happened?</h2>
            <p>The web server reported a bad gateway error.</p>
        </div>
    </div>
</div>
</body>
</html>
"""

CLOUDFLARE_502_JSON: dict[str, Any] = {
    "type": (
        "https://developers.cloudflare.com/support/troubleshooting/http-status-codes/"
        "cloudflare-5xx-errors/error-502/"
    ),
    "title": "Error 502: Bad gateway",
    "status": 502,
    "detail": (
        "The origin web server returned an invalid or incomplete response to Cloudflare. "
        "This typically indicates the origin is overloaded or misconfigured."
    ),
    "instance": "a08b13c16da65038",
    "error_code": 502,
    "error_name": "origin_bad_gateway",
    "error_category": "origin",
    "ray_id": "a08b13c16da65038",
}

HTML_200 = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Conso API</title>
</head>
<body>
<div id="__nuxt"><h1>Conso API</h1><p>Accédez à vos données Linky.</p></div>
</body>
</html>
"""

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE_RE = re.compile(r"20[0-9]{2}-[0-9]{2}-[0-9]{2}")
_STRICT_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_HASHES: dict[str, Callable[..., Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
_FINE = timedelta(minutes=5)
_ALLOWED_STEPS = frozenset({5, 10, 15, 20, 30, 60})


# --- JWT ------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes | None:
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def make_token(
    prms: list[str],
    *,
    secret: str = DEFAULT_SECRET,
    iat: datetime | None = None,
    exp: datetime | None = None,
    typ: bool = False,
) -> str:
    """Build a user token signed like Conso API's (HS256 JWT, ``sub`` = list of PRMs).

    ``typ=False``: current ``jose`` token, header ``{"alg":"HS256"}``, payload
    ``{"iat","exp","sub"}``. ``typ=True``: 2023-2024 ``jsonwebtoken`` token, header
    ``{"alg":"HS256","typ":"JWT"}``, payload ``{"sub","exp","iat"}`` (that library's order).
    """
    issued = iat if iat is not None else datetime.now(UTC)
    expires = exp if exp is not None else issued + TOKEN_LIFETIME
    iat_s, exp_s = int(issued.timestamp()), int(expires.timestamp())
    header: dict[str, str] = {"alg": "HS256", "typ": "JWT"} if typ else {"alg": "HS256"}
    payload: dict[str, Any] = (
        {"sub": list(prms), "exp": exp_s, "iat": iat_s}
        if typ
        else {"iat": iat_s, "exp": exp_s, "sub": list(prms)}
    )
    signing_input = (
        f"{_b64url(_compact_json(header).encode())}.{_b64url(_compact_json(payload).encode())}"
    )
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def verify_token(token: str, secret: str, now: datetime) -> dict[str, Any] | None:
    """Payload of a valid token (like ``jose.jwtVerify`` with a symmetric key), else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    raw_header, raw_payload, raw_sig = (_b64url_decode(p) for p in parts)
    if raw_header is None or raw_payload is None or raw_sig is None:
        return None
    try:
        header = json.loads(raw_header)
        payload = json.loads(raw_payload)
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    digest = _HASHES.get(header.get("alg", ""))
    if digest is None or "crit" in header or header.get("b64") is False:
        return None
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode("ascii"), digest)
    if not hmac.compare_digest(expected.digest(), raw_sig):
        return None
    now_s = math.floor(now.timestamp())
    for claim in ("exp", "nbf", "iat"):
        value = payload.get(claim)
        if claim in payload and (isinstance(value, bool) or not isinstance(value, int | float)):
            return None
    if "exp" in payload and payload["exp"] <= now_s:
        return None
    if "nbf" in payload and payload["nbf"] > now_s:
        return None
    return payload


# --- zod (3.20.2) issue serialization -------------------------------------------------------


def _js_length(text: str) -> int:
    """String length as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _enum_issue(received: str, options: Iterable[str], path: str) -> dict[str, Any]:
    opts = list(options)
    joined = " | ".join(f"'{o}'" for o in opts)
    return {
        "received": received,
        "code": "invalid_enum_value",
        "options": opts,
        "path": [path],
        "message": f"Invalid enum value. Expected {joined}, received '{received}'",
    }


def _null_issue(path: str) -> dict[str, Any]:
    return {
        "code": "invalid_type",
        "expected": "string",
        "received": "null",
        "path": [path],
        "message": "Expected string, received null",
    }


def zod_issues(type_: str, params: dict[str, str | None]) -> list[dict[str, Any]]:
    """Issues of Conso API's zod schema, in schema order (type, pointId, dates, enums)."""
    issues: list[dict[str, Any]] = []
    if type_ not in ALL_TYPES:
        issues.append(_enum_issue(type_, ALL_TYPES, "type"))
    point_id = params["pointId"]
    if point_id is None:
        issues.append(_null_issue("pointId"))
    else:
        length = _js_length(point_id)
        if length != 14:
            bound = "maximum" if length > 14 else "minimum"
            issues.append(
                {
                    "code": "too_big" if length > 14 else "too_small",
                    bound: 14,
                    "type": "string",
                    "inclusive": True,
                    "exact": True,
                    "message": "String must contain exactly 14 character(s)",
                    "path": ["pointId"],
                }
            )
    for name in ("dateDebut", "dateFin"):
        value = params[name]
        if value is None:
            issues.append(_null_issue(name))
        elif not _DATE_RE.search(value):
            issues.append(
                {
                    "validation": "regex",
                    "code": "invalid_string",
                    "message": "Invalid",
                    "path": [name],
                }
            )
    for name, options in (("mesuresPas", ("P1D", "P1M")), ("grandeurPhysique", ("PMA", "TOUT"))):
        value = params[name]
        if value is not None and value not in options:
            issues.append(_enum_issue(value, options, name))
    return issues


# --- data model -----------------------------------------------------------------------------


@dataclass
class MeterProfile:
    """A metering point served by the simulator."""

    prm: str
    seed: int = 1
    activation: date = date(2020, 1, 1)  # ADAM-ERR0123 for ranges entirely before this
    has_production: bool = False
    production_consent: bool = True  # False -> 403 ADAM-DC-0008 on production types
    hourly_since: date | None = date(2020, 1, 1)  # load curve exists from this day; None = never
    base_watts: float = 400.0  # scale of consumption
    peak_watts_solar: float = 3000.0
    twin_of: str | None = None  # serve the same values as that PRM (comparison tests)
    # The supplier calendar its registers follow (index types; conso_api_index.py).
    registers: RegisterPlan = field(default_factory=RegisterPlan)

    @property
    def data_key(self) -> str:
        """The PRM whose values this meter serves."""
        return self.twin_of or self.prm


@dataclass
class Fault:
    """A forced answer; ``remaining`` = number of responses affected (None = forever)."""

    kind: str
    types: set[str] | None = None  # None = every type
    remaining: int | None = None
    prms: set[str] | None = None  # None = every PRM


@dataclass
class CallRecord:
    """One request received on /api/*."""

    at: datetime  # aware UTC, from the simulator clock
    type: str
    params: dict[str, str]
    status: int


@dataclass
class _Resp:
    status: int
    body: bytes
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def to_web(self) -> web.Response:
        if self.content_type is None:
            return web.Response(status=self.status, headers=self.headers)
        return web.Response(
            status=self.status, body=self.body, content_type=self.content_type, headers=self.headers
        )


def _json_resp(status: int, body: Any) -> _Resp:
    return _Resp(status, _compact_json(body).encode())


def _wrapped(status: int, error: Any) -> _Resp:
    return _json_resp(status, {"status": status, "message": MSG_ENEDIS, "error": error})


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def _stamp(end_utc: datetime) -> str:
    """Paris wall clock of an interval end; the fall-back instant keeps the old offset."""
    before = (end_utc - timedelta(seconds=1)).astimezone(PARIS).utcoffset()
    local = end_utc.astimezone(PARIS)
    offset = local.utcoffset()
    if before is not None and offset is not None and offset < before:
        wall = (end_utc + before).replace(tzinfo=None)
    else:
        wall = local.replace(tzinfo=None)
    return wall.strftime("%Y-%m-%d %H:%M:%S")


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


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


_REGULAR_PROFILE = [_consumption_profile((i * 5 + 2.5) / 60) for i in range(24 * 12)]


# --- the simulator --------------------------------------------------------------------------


class ConsoApiSimulator:
    """aiohttp application playing Conso API + the Enedis v2 API behind it."""

    def __init__(
        self,
        meters: list[MeterProfile],
        *,
        secret: str = DEFAULT_SECRET,
        clock: Callable[[], datetime] | None = None,
        publish_hour: int = 8,
    ) -> None:
        self.meters: dict[str, MeterProfile] = {m.prm: m for m in meters}
        self.secret = secret
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.publish_hour = publish_hour
        self.calls: list[CallRecord] = []
        self.faults: list[Fault] = []
        self.late_days: dict[date, int] = {}
        self.null_days: set[date] = set()
        self.partial_days: dict[date, int] = {}
        self.step_override: dict[date, int] = {}
        self.corrections: dict[date, float] = {}
        # A correction of the evening only (local hours from 18:00): the day's figure and the
        # shape of its load curve change (a meter reading fixed for part of the day).
        self.evening_corrections: dict[date, float] = {}
        # Rewrites a 200 body (its type, the body) before it is sent: hostile answers.
        self.body_hook: Callable[[str, dict[str, Any]], None] | None = None
        self.curve_holes: set[date] = set()  # days Enedis has no load curve for (daily only)
        # [I] ADAM-ERR0123: refused when the range *starts* before the activation (True), or
        # only when it lies entirely before it, the days since activation served (False).
        self.activation_refuses_start = False
        # [I] the index types' longest range per call is undocumented: None serves any range,
        # a number refuses longer ones (400, as the load curve's 7 days are refused).
        self.index_max_days: int | None = None
        self.delay_seconds: float = 0.0
        # Hostile answers: every request redirected (``redirect_status``, Location =
        # ``redirect_to`` + the request's path and query); the ``quota_900804`` fault's
        # ``nextAccessTime`` text (e.g. in year 9999) instead of now + 1 h.
        self.redirect_to: str | None = None
        self.redirect_status = 307
        self.next_access_time: str | None = None
        self._fine_cache: dict[tuple[Any, ...], list[float]] = {}
        self._books: dict[tuple[str, bool], IndexBook] = {}
        self._runner: web.AppRunner | None = None

    # -- configuration helpers --

    def add_fault(
        self,
        kind: str,
        types: Iterable[str] | str | None = None,
        remaining: int | None = None,
        prms: Iterable[str] | None = None,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        type_set = {types} if isinstance(types, str) else (set(types) if types else None)
        self.faults.append(Fault(kind, type_set, remaining, set(prms) if prms else None))

    def clear_faults(self) -> None:
        self.faults.clear()

    def calls_of(self, type_: str | None = None) -> list[CallRecord]:
        return [c for c in self.calls if type_ is None or c.type == type_]

    # -- time --

    def now(self) -> datetime:
        current = self.clock()
        if current.tzinfo is None:
            current = current.replace(tzinfo=UTC)
        return current.astimezone(UTC)

    def today(self) -> date:
        return self.now().astimezone(PARIS).date()

    def is_published(self, day: date) -> bool:
        delay = 1 + self.late_days.get(day, 0)
        published_at = datetime.combine(
            day + timedelta(days=delay), time(self.publish_hour), tzinfo=PARIS
        )
        return self.now() >= published_at

    # -- ground truth --

    def _meter(self, prm: str) -> MeterProfile:
        try:
            return self.meters[prm]
        except KeyError:
            raise KeyError(f"unknown PRM {prm}") from None

    def _fine_watts(self, meter: MeterProfile, day: date, production: bool) -> list[float]:
        """Mean watts of every real 5-minute interval of local day ``day``."""
        key = (
            meter.data_key,
            meter.seed,
            meter.base_watts,
            meter.peak_watts_solar,
            day,
            production,
        )
        cached = self._fine_cache.get(key)
        if cached is not None:
            return cached
        start = _local_midnight_utc(day)
        count = (_local_midnight_utc(day + timedelta(days=1)) - start) // _FINE
        kind = "prod" if production else "cons"
        rng = random.Random(f"{meter.seed}|{meter.data_key}|{day.isoformat()}|{kind}")
        doy = day.timetuple().tm_yday
        seasonal = math.sin(2 * math.pi * (doy - 80) / 365.25)  # +1 mid-June, -1 mid-December
        values: list[float] = []
        if production:
            day_length = 12.2 + 4.0 * seasonal  # hours of daylight in Paris
            amplitude = meter.peak_watts_solar * (0.62 + 0.38 * seasonal)
            sky = 0.15 + 0.85 * rng.random() ** 0.6
            noon = 11.83  # solar noon in Paris, UTC hours
            # UTC hours at local midnight, relative to the calendar day (-1.0 or -2.0)
            utc_midnight = datetime.combine(day, time(0), tzinfo=UTC)
            hour0 = (start - utc_midnight).total_seconds() / 3600
            for i in range(count):
                hour = hour0 + (i * 5 + 2.5) / 60
                jitter = 0.85 + 0.25 * rng.random()
                dip = 0.3 + 0.4 * rng.random() if rng.random() < 0.06 else 1.0
                x = (hour - noon) / (day_length / 2)
                if abs(x) >= 1:
                    values.append(0.0)
                    continue
                bell = math.cos(math.pi * x / 2) ** 1.6
                values.append(amplitude * sky * bell * jitter * dip)
        else:
            season = 1 + 0.5 * math.cos(2 * math.pi * (doy - 20) / 365.25)  # winter x1.5
            weekend = 1.12 if day.weekday() >= 5 else 1.0
            level = meter.base_watts * season * weekend * (0.85 + 0.3 * rng.random())
            appliance_left, appliance_watts = 0, 0.0
            scale = meter.base_watts / 400.0
            regular = count == 24 * 12  # not a DST day: wall clock = elapsed time
            for i in range(count):
                if regular:
                    profile = _REGULAR_PROFILE[i]
                else:
                    mid = (start + i * _FINE + _FINE / 2).astimezone(PARIS)
                    profile = _consumption_profile(mid.hour + mid.minute / 60 + mid.second / 3600)
                noise = 0.8 + 0.4 * rng.random()
                if appliance_left == 0 and rng.random() < 0.01 * profile:
                    appliance_watts = (700 + 1800 * rng.random()) * scale  # oven, kettle...
                    appliance_left = 1 + int(rng.random() * 8)
                watts = level * profile * noise
                if appliance_left > 0:
                    watts += appliance_watts
                    appliance_left -= 1
                values.append(max(watts, 0.2 * meter.base_watts))
        self._fine_cache[key] = values
        return values

    def _raw_curve(
        self, meter: MeterProfile, day: date, production: bool, step: int, factor: float = 1.0
    ) -> list[tuple[datetime, int]]:
        """[(interval start UTC, watts)] of the day at ``step`` minutes."""
        if step not in _ALLOWED_STEPS:
            raise ValueError(f"unsupported step {step} min (allowed: {sorted(_ALLOWED_STEPS)})")
        fine = self._fine_watts(meter, day, production)
        per = step // 5
        per_hour = 60 // step
        start = _local_midnight_utc(day)
        out: list[tuple[datetime, int]] = []
        evening = self.evening_corrections.get(day, 1.0)
        for i in range(0, len(fine) - per + 1, per):
            mean = sum(fine[i : i + per]) / per
            if evening != 1.0 and (start + i * _FINE).astimezone(PARIS).hour >= 18:
                mean *= evening
            energy = round(mean * factor / per_hour)  # Wh of the interval, integer like Enedis
            if not production:
                energy = max(energy, 1)
            out.append((start + i * _FINE, energy * per_hour))
        return out

    def _daily_factor(self, meter: MeterProfile, day: date, production: bool) -> float:
        kind = "prod" if production else "cons"
        rng = random.Random(f"{meter.seed}|{meter.data_key}|{day.isoformat()}|{kind}|index")
        return rng.uniform(0.985, 1.015)

    def curve_points(
        self, prm: str, day: date, production: bool = False
    ) -> list[tuple[str, int, int]]:
        """[(end stamp, watts, step minutes)] as served (step override, correction, partial).

        Days of ``null_days`` are served as "null"; this returns their hidden values.
        """
        meter = self._meter(prm)
        step = self.step_override.get(day, 30)
        factor = self.corrections.get(day, 1.0)
        length = timedelta(minutes=step)
        points = [
            (_stamp(begin + length), watts, step)
            for begin, watts in self._raw_curve(meter, day, production, step, factor)
        ]
        if day in self.partial_days:
            points = points[: self.partial_days[day]]
        return points

    def curve_wh(self, prm: str, day: date, production: bool = False) -> float:
        return sum(w * step / 60 for _, w, step in self.curve_points(prm, day, production))

    def daily_wh(self, prm: str, day: date, production: bool = False) -> int:
        """Daily index energy: the full 30-min curve's energy x a factor in [0.985, 1.015]."""
        meter = self._meter(prm)
        curve = self._raw_curve(meter, day, production, 30)
        energy = sum(w for _, w in curve) / 2
        factor = self._daily_factor(meter, day, production) * self.corrections.get(day, 1.0)
        return round(energy * factor)

    def _max_power_details(self, meter: MeterProfile, day: date) -> tuple[int, str, list[int]]:
        curve = self._raw_curve(meter, day, False, 30)
        best = max(range(len(curve)), key=lambda i: curve[i][1])
        begin, watts = curve[best]
        rng = random.Random(f"{meter.seed}|{meter.data_key}|{day.isoformat()}|pmax")
        va = round(watts * rng.uniform(1.2, 1.8))
        at = (begin + timedelta(seconds=rng.randrange(30 * 60))).astimezone(PARIS)
        phases = [
            round(va * rng.uniform(lo, hi)) for lo, hi in ((0.5, 0.8), (0.3, 0.6), (0.2, 0.5))
        ]
        return va, at.strftime("%Y-%m-%d %H:%M:%S"), phases

    def index_book(self, prm: str, production: bool = False) -> IndexBook:
        """The meter's register readings (production: one register)."""
        key = (prm, production)
        if key not in self._books:
            meter = self._meter(prm)
            plan = RegisterPlan(calendar="base") if production else meter.registers
            self._books[key] = IndexBook(
                plan,
                max(ORIGIN, meter.activation),
                lambda day: split_day(
                    plan,
                    day,
                    self._raw_curve(meter, day, production, 30),
                    self.daily_wh(prm, day, production),
                ),
                lambda day: self.daily_wh(prm, day, production),
            )
        return self._books[key]

    def max_power(self, prm: str, day: date) -> tuple[int, str]:
        """(VA, local "YYYY-MM-DD HH:MM:SS" of the peak) of day ``day``."""
        va, stamp, _ = self._max_power_details(self._meter(prm), day)
        return va, stamp

    # -- HTTP --

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_route("*", "/api/{type}", self._handle)
        return application

    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (a free port unless `port`); returns the base URL."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        if self.delay_seconds > 0:
            await asyncio.sleep(self.delay_seconds)
        at = self.now()
        type_ = request.match_info["type"]
        params = {key: request.query[key] for key in request.query}
        resp = self._respond(request, type_)
        self.calls.append(CallRecord(at, type_, params, resp.status))
        return resp.to_web()

    def _respond(self, request: web.Request, type_: str) -> _Resp:
        if self.redirect_to is not None:
            location = self.redirect_to + request.path_qs
            return _Resp(self.redirect_status, b"", None, {"Location": location})
        # 1. method
        if request.method == "OPTIONS":
            return _Resp(200, b"", None)
        if request.method != "GET":
            return _json_resp(405, {"status": 405, "message": MSG_METHOD})
        # 2. parameters (aliases: the new name wins when present, even empty)
        query = request.query
        params: dict[str, str | None] = {
            "pointId": query.get("pointId", query.get("prm")),
            "dateDebut": query.get("dateDebut", query.get("start")),
            "dateFin": query.get("dateFin", query.get("end")),
            "mesuresPas": query.get("mesuresPas"),
            "grandeurPhysique": query.get("grandeurPhysique"),
        }
        issues = zod_issues(type_, params)
        if issues:
            error = {"issues": issues, "name": "ZodError"}
            return _json_resp(400, {"status": 400, "message": MSG_INVALID_PARAMS, "error": error})
        # 3. Authorization header: second space-separated word
        words = (request.headers.get("Authorization") or "").split(" ")
        token = words[1] if len(words) > 1 else ""
        if not token:
            return _json_resp(400, {"status": 400, "message": MSG_AUTH_HEADER})
        # 4. user token
        point_id = params["pointId"] or ""
        payload = verify_token(token, self.secret, self.now())
        sub = payload.get("sub") if payload is not None else None
        if not isinstance(sub, list) or point_id not in sub:
            return _json_resp(401, {"status": 401, "message": MSG_BAD_TOKEN})
        # 5./6. faults, then Enedis
        fault = self._take_fault(type_, point_id)
        if fault is not None:
            return self._fault_response(fault, type_, params)
        return self._enedis(type_, params)

    def _take_fault(self, type_: str, point_id: str) -> Fault | None:
        for fault in self.faults:
            if fault.types is not None and type_ not in fault.types:
                continue
            if fault.prms is not None and point_id not in fault.prms:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def _fault_response(self, fault: Fault, type_: str, params: dict[str, str | None]) -> _Resp:
        kind = fault.kind
        simple: dict[str, tuple[int, Any]] = {
            "quota_900807": (429, ERR_QUOTA_900807),
            "technical_error": (500, ERR_TECHNICAL),
            "enedis_raw_500": (500, "500 Internal Server Error"),
            "not_titulaire": (400, ERR_NOT_TITULAIRE),
            "no_consent": (403, ERR_NO_CONSENT),
            "gateway_900908": (403, ERR_GATEWAY_900908),
            "no_data": (404, ERR_NO_DATA),
            "history_limit": (400, ERR_HISTORY),
            "bad_request": (400, ERR_DATES_ORDER),
        }
        if kind in simple:
            status, error = simple[kind]
            return _wrapped(status, error)
        if kind == "quota_900804":
            t = self.now() + timedelta(hours=1)
            when = (
                f"{t.year:04d}-{_MONTHS_EN[t.month - 1]}-{t.day:02d} "
                f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}+0000 UTC"
            )
            if self.next_access_time is not None:
                when = self.next_access_time
            error = {
                "code": "900804",
                "message": "Message throttled out",
                "description": f"You have exceeded your quota .You can access API after {when}",
                "nextAccessTime": when,
            }
            return _wrapped(429, error)
        if kind == "redirect":
            return _Resp(307, b"", None, {"Location": "http://elsewhere.invalid/api"})
        if kind == "token_refresh":
            return _json_resp(500, {"status": 500, "message": MSG_TOKEN_REFRESH})
        if kind == "unknown_error":
            return _json_resp(500, {"status": 500, "message": MSG_UNKNOWN})
        if kind == "unauthorized":
            return _json_resp(401, {"status": 401, "message": MSG_BAD_TOKEN})
        if kind == "cloudflare_403":
            return _Resp(403, CLOUDFLARE_403_HTML.encode(), "text/html")
        if kind == "cloudflare_502_html":
            return _Resp(502, CLOUDFLARE_502_HTML.encode(), "text/html")
        if kind == "cloudflare_502_json":
            return _json_resp(502, CLOUDFLARE_502_JSON)
        if kind == "html_200":
            return _Resp(200, HTML_200.encode(), "text/html")
        if kind == "truncated_json":
            body = self._enedis(type_, params).body
            return _Resp(200, body[: len(body) // 2])
        if kind == "wrong_shape":
            return _json_resp(200, {"idPrm": params["pointId"], "foo": []})
        raise AssertionError(f"unhandled fault kind {kind}")  # pragma: no cover

    # -- Enedis side --

    def _enedis(self, type_: str, params: dict[str, str | None]) -> _Resp:
        if type_ in LEGACY_TYPES:
            return _wrapped(404, ERR_LEGACY_RETIRED)
        point_id = params["pointId"] or ""
        meter = self.meters.get(point_id)
        if meter is None:
            return _wrapped(400, ERR_NOT_TITULAIRE)
        production = type_ in PRODUCTION_TYPES or type_ == "index_production"
        if production and not (meter.has_production and meter.production_consent):
            return _wrapped(403, ERR_NO_CONSENT)
        start_s, end_s = params["dateDebut"] or "", params["dateFin"] or ""
        start, end = _parse_day(start_s), _parse_day(end_s)
        if start is None or end is None:
            return _wrapped(400, ERR_DATE_FORMAT)
        if end <= start:
            return _wrapped(400, ERR_DATES_ORDER)
        curve = type_ in CURVE_TYPES
        if curve and (end - start).days > 7:
            return _wrapped(400, ERR_CURVE_WINDOW)
        limit_days = self.index_max_days
        if type_ in INDEX_TYPES and limit_days is not None and (end - start).days > limit_days:
            return _wrapped(400, ERR_INDEX_WINDOW)
        today = self.today()
        limit = _months_back(today, 24 if curve else 36) - timedelta(days=15)
        if start < limit:
            return _wrapped(400, ERR_HISTORY)
        if end <= meter.activation or (self.activation_refuses_start and start < meter.activation):
            return _wrapped(400, ERR_BEFORE_ACTIVATION)
        days = self._served_days(meter, start, end, curve)
        if type_ in INDEX_TYPES:  # a day's opening reading is known once the day before is
            published = self._served_days(meter, start - timedelta(days=1), end, False)
            after = (day + timedelta(days=1) for day in published)
            days = [day for day in after if start <= day < end]
        if not days:
            return _wrapped(404, ERR_NO_DATA)
        periode = {"dateDebut": start_s, "dateFin": end_s}
        if type_ in INDEX_TYPES:
            book = self.index_book(meter.prm, production)
            body = index_body(meter.prm, book, days, periode, production)
        elif type_ in DAILY_TYPES:
            body = self._daily_body(meter, days, periode, production)
        elif curve:
            body = self._curve_body(meter, days, periode, production)
        else:
            body = self._max_power_body(
                meter,
                days,
                periode,
                params["mesuresPas"] or "P1D",
                params["grandeurPhysique"] or "PMA",
            )
        if self.body_hook is not None:
            self.body_hook(type_, body)
        return _json_resp(200, body)

    def _served_days(self, meter: MeterProfile, start: date, end: date, curve: bool) -> list[date]:
        first = max(start, meter.activation)
        if curve:
            if meter.hourly_since is None:
                return []
            first = max(first, meter.hourly_since)
        last = min(end, self.today() + timedelta(days=1))  # later days cannot be published
        days: list[date] = []
        day = first
        while day < last:
            if self.is_published(day) and not (curve and day in self.curve_holes):
                days.append(day)
            day += timedelta(days=1)
        return days

    def _etape(self, days: list[date]) -> str:
        corrected = self.corrections.keys() | self.evening_corrections.keys()
        return "BEST" if any(d in corrected for d in days) else "BRUT"

    def _daily_body(
        self, meter: MeterProfile, days: list[date], periode: dict[str, str], production: bool
    ) -> dict[str, Any]:
        points = [
            {"v": str(self.daily_wh(meter.prm, d, production)), "d": d.isoformat()} for d in days
        ]
        return {
            "idPrm": meter.prm,
            "etapeMetier": self._etape(days),
            "periode": periode,
            "typeValeur": "GLOBALE",
            "modeCalcul": "DIFF.INDEX",
            "pas": "P1D",
            "grandeur": [
                {
                    "grandeurMetier": "PROD" if production else "CONS",
                    "grandeurPhysique": "EA",
                    "unite": "Wh",
                    "points": points,
                    "calendrier": [],
                }
            ],
            "contexte": [],
        }

    def _curve_body(
        self, meter: MeterProfile, days: list[date], periode: dict[str, str], production: bool
    ) -> dict[str, Any]:
        points: list[dict[str, str]] = []
        for day in days:
            null = day in self.null_days
            points.extend(
                {
                    "v": "null" if null else str(watts),
                    "d": stamp,
                    "p": f"PT{step}M",
                    "n": "B",
                    "iv": "0",
                    "ec": "0",
                }
                for stamp, watts, step in self.curve_points(meter.prm, day, production)
            )
        return {
            "idPrm": meter.prm,
            "etapeMetier": self._etape(days),
            "periode": periode,
            "modeCalcul": "MESURE",
            "grandeur": [
                {
                    "grandeurMetier": "PROD" if production else "CONS",
                    "grandeurPhysique": "PA",
                    "unite": "W",
                    "points": points,
                    "calendrier": [],
                }
            ],
            "contexte": [],
        }

    def _max_power_body(
        self,
        meter: MeterProfile,
        days: list[date],
        periode: dict[str, str],
        step: str,
        physique: str,
    ) -> dict[str, Any]:
        rows = [self._max_power_details(meter, d) for d in days]
        if step == "P1M":  # [I] one point per month, at the month's peak
            best: dict[tuple[int, int], tuple[int, str, list[int]]] = {}
            for day, row in zip(days, rows, strict=True):
                month = (day.year, day.month)
                if month not in best or row[0] > best[month][0]:
                    best[month] = row
            rows = list(best.values())
        names = ["PMA", "PMA1", "PMA2", "PMA3"] if physique == "TOUT" else ["PMA"]
        grandeur = []
        for index, name in enumerate(names):
            points = [
                {"v": str(va if index == 0 else phases[index - 1]), "d": stamp}
                for va, stamp, phases in rows
            ]
            grandeur.append(
                {
                    "grandeurMetier": "CONS",
                    "grandeurPhysique": name,
                    "unite": "VA",
                    "points": points,
                    "calendrier": [],
                }
            )
        return {
            "idPrm": meter.prm,
            "etapeMetier": "BRUT",
            "periode": periode,
            "modeCalcul": "MESURE",
            "pas": step,
            "grandeur": grandeur,
            "contexte": [],
        }


def _parse_day(text: str) -> date | None:
    if not _STRICT_DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


async def _demo() -> None:  # pragma: no cover - manual use: python -m tests.simulators.conso_api
    prm = "12345678901234"
    simulator = ConsoApiSimulator([MeterProfile(prm, has_production=True)])
    url = await simulator.start()
    print(f"Conso API simulator on {url}")
    print(f"token for {prm}: {make_token([prm])}")
    print(
        f"try: curl -H 'Authorization: Bearer <token>' '{url}/api/consommation_quotidienne?"
        f"pointId={prm}&dateDebut=2026-01-01&dateFin=2026-01-08'"
    )
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_demo())
