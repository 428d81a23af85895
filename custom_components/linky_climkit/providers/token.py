"""Read a JWT's claims without checking its signature (only the service that issued it can):
a Conso API token's PRMs and expiry, a Climkit token's expiry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from .errors import AuthError

PRM_PATTERN = re.compile(r"^[0-9]{14}$")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a Conso API token says about itself."""

    prms: tuple[str, ...]
    expires_at: datetime | None
    issued_at: datetime | None


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified; AuthError (never echoing the token) when unreadable."""
    try:
        payload = jwt.decode(token.strip(), options={"verify_signature": False})
    except (jwt.PyJWTError, RecursionError, ValueError) as err:
        raise AuthError("The token is not a readable JWT") from err
    if not isinstance(payload, dict):
        raise AuthError("The token payload is not an object")
    return payload


def decode_token(token: str) -> TokenInfo:
    """Return the PRMs (`sub`) and expiry (`exp`) of a Conso API JWT.

    Raises AuthError (without echoing the token) when it is not a JWT whose `sub` is a
    non-empty list of strings.
    """
    payload = claims(token)
    sub = payload.get("sub")
    if not isinstance(sub, list) or not sub or not all(isinstance(p, str) for p in sub):
        raise AuthError("The token does not list any PRM")
    return TokenInfo(
        prms=tuple(p.strip() for p in sub),
        expires_at=epoch_seconds(payload.get("exp")),
        issued_at=epoch_seconds(payload.get("iat")),
    )


def epoch_seconds(value: object) -> datetime | None:
    """A JWT time claim (seconds since the epoch) as aware UTC; None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except OverflowError, OSError, ValueError:
        return None


def is_valid_prm(prm: str) -> bool:
    """A PRM is exactly 14 digits."""
    return PRM_PATTERN.fullmatch(prm) is not None


def token_expiry(token: str) -> datetime | None:
    """A Conso API token's expiry; None when it has none or cannot be read."""
    try:
        return decode_token(token).expires_at
    except AuthError:
        return None
