"""Read a Conso API token's payload (no signature check: only the service can verify it)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import AuthError

PRM_PATTERN = re.compile(r"^[0-9]{14}$")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a Conso API token says about itself."""

    prms: tuple[str, ...]
    expires_at: datetime | None
    issued_at: datetime | None


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_token(token: str) -> TokenInfo:
    """Return the PRMs (`sub`) and expiry (`exp`) of a Conso API JWT.

    Raises AuthError (without echoing the token) when it is not a JWT whose `sub` is a
    non-empty list of strings.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise AuthError("The token is not a JWT")
    try:
        payload = json.loads(_b64url_decode(parts[1]))
    except (binascii.Error, ValueError, UnicodeDecodeError) as err:
        raise AuthError("The token payload cannot be read") from err
    if not isinstance(payload, dict):
        raise AuthError("The token payload is not an object")
    sub = payload.get("sub")
    if not isinstance(sub, list) or not sub or not all(isinstance(p, str) for p in sub):
        raise AuthError("The token does not list any PRM")
    return TokenInfo(
        prms=tuple(p.strip() for p in sub),
        expires_at=_timestamp(payload.get("exp")),
        issued_at=_timestamp(payload.get("iat")),
    )


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except OverflowError, OSError, ValueError:
        return None


def is_valid_prm(prm: str) -> bool:
    """A PRM is exactly 14 digits."""
    return PRM_PATTERN.fullmatch(prm) is not None
