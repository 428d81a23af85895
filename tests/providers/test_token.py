"""providers/token.py: reading a Conso API token (no I/O)."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.linky_climkit.providers.errors import AuthError
from custom_components.linky_climkit.providers.token import TokenInfo, decode_token, is_valid_prm
from tests.simulators.conso_api import make_token

PRM = "12345678901234"
PRM2 = "98765432109876"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(payload: Any, header: Any = None) -> str:
    head = b64(json.dumps(header or {"alg": "HS256"}).encode())
    body = b64(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    return f"{head}.{body}.c2lnbmF0dXJl"


def test_decode_current_token() -> None:
    iat = datetime(2026, 1, 5, 10, 20, 30, tzinfo=UTC)
    exp = datetime(2029, 1, 3, 10, 20, 30, tzinfo=UTC)
    info = decode_token(make_token([PRM, PRM2], iat=iat, exp=exp))
    assert info == TokenInfo(prms=(PRM, PRM2), expires_at=exp, issued_at=iat)
    assert info.expires_at is not None
    assert info.expires_at.tzinfo is UTC


def test_decode_legacy_token_and_default_lifetime() -> None:
    iat = datetime(2024, 3, 1, tzinfo=UTC)
    info = decode_token(make_token([PRM], iat=iat, typ=True))
    assert info.prms == (PRM,)
    assert info.issued_at == iat
    assert info.expires_at == iat + timedelta(days=1094)


def test_decode_strips_token_and_prms() -> None:
    token = jwt({"sub": [f" {PRM} ", PRM2]})
    info = decode_token(f"  {token}\n")
    assert info.prms == (PRM, PRM2)
    assert info.expires_at is None
    assert info.issued_at is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"sub": [PRM], "exp": 1893456000}, datetime(2030, 1, 1, tzinfo=UTC)),
        ({"sub": [PRM], "exp": 1893456000.5}, datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ({"sub": [PRM], "exp": True}, None),
        ({"sub": [PRM], "exp": "1893456000"}, None),
        ({"sub": [PRM], "exp": None}, None),
        ({"sub": [PRM], "exp": [1]}, None),
        ({"sub": [PRM], "exp": 10**20}, None),
        ({"sub": [PRM], "exp": -(10**20)}, None),
        ({"sub": [PRM], "exp": 1e300}, None),
        ({"sub": [PRM]}, None),
    ],
)
def test_decode_exp_parsing(payload: dict[str, Any], expected: datetime | None) -> None:
    assert decode_token(jwt(payload)).expires_at == expected


def test_decode_iat_parsing() -> None:
    assert decode_token(jwt({"sub": [PRM], "iat": 0})).issued_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert decode_token(jwt({"sub": [PRM], "iat": False})).issued_at is None
    assert decode_token(jwt({"sub": [PRM], "iat": "yesterday"})).issued_at is None


def test_decode_nan_and_infinite_timestamps() -> None:
    token = jwt(b'{"sub":["12345678901234"],"exp":NaN,"iat":Infinity}')
    info = decode_token(token)
    assert info.expires_at is None
    assert info.issued_at is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b",
        "a.b.c.d",
        "..",
        jwt([PRM]),  # payload not an object
        jwt("sub"),
        jwt({}),  # no sub
        jwt({"sub": PRM}),  # sub not a list
        jwt({"sub": []}),
        jwt({"sub": [14]}),
        jwt({"sub": [PRM, None]}),
        jwt({"sub": {"prm": PRM}}),
        jwt(b"not json"),
        jwt(b"\xff\xfe\x00garbage"),  # not UTF-8
        "eyJhbGciOiJIUzI1NiJ9.e.sig",  # base64 with a length of 1 mod 4
        "eyJhbGciOiJIUzI1NiJ9.!!!!.sig",  # no base64 character at all
        "eyJhbGciOiJIUzI1NiJ9.éàü.sig",  # not ASCII
    ],
)
def test_decode_malformed_tokens(token: str) -> None:
    with pytest.raises(AuthError) as info:
        decode_token(token)
    assert info.value.status is None
    message = str(info.value)
    if len(token) > 12:
        assert token not in message
        assert all(part not in message for part in token.split(".") if len(part) > 3)


@pytest.mark.parametrize(
    ("prm", "valid"),
    [
        (PRM, True),
        ("00000000000000", True),
        ("1234567890123", False),
        ("123456789012345", False),
        ("1234567890123a", False),
        ("1234 567890123", False),
        (" 12345678901234", False),
        ("12345678901234\n", False),
        ("", False),
        ("+2345678901234", False),
    ],
)
def test_is_valid_prm(prm: str, valid: bool) -> None:
    assert is_valid_prm(prm) is valid


@pytest.mark.parametrize("prm", ["１２３４５６７８９０１２３４", "١٢٣٤٥٦٧٨٩٠١٢٣٤"])
def test_regression_is_valid_prm_accepts_only_ascii_digits(prm: str) -> None:
    assert len(prm) == 14
    assert is_valid_prm(prm) is False
