"""What a user may type into the fields the clients use: an API URL, a token, credentials, a
host (pure, no Home Assistant). Anything else is refused here, before it reaches aiohttp,
which would raise ValueError on it (credentials in a URL next to an Authorization header, a
line break in a header, a port out of range) instead of a typed provider error."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import yarl

MAX_URL = 2048
MAX_HOST = 253  # RFC 1035, without the final dot
MAX_CREDENTIAL = 4096
MAX_TOKEN = 64 * 1024  # a Conso API token is about 200 characters
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
# Control characters, surrogates (no UTF-8 form), line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def has_unsafe_characters(text: str) -> bool:
    """Whether `text` holds a control character, a line break or a lone surrogate."""
    if text.isprintable():  # the common case, in C: no Cc/Cf/Cs/Zl/Zp/Zs except the space
        return False
    return any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in text)


def is_clean_token(text: str) -> bool:
    """A token pasted in one piece: no whitespace or control character inside."""
    return not any(c.isspace() for c in text) and not has_unsafe_characters(text)


def is_clean_credential(text: str) -> bool:
    """A username or password: not empty, not absurdly long, no control character or line
    break (spaces are allowed inside: passwords may hold them)."""
    return 0 < len(text) <= MAX_CREDENTIAL and not has_unsafe_characters(text)


def is_host_name(host: str) -> bool:
    """An IPv4 or IPv6 address (no zone), or an ASCII host name of letters, digits, hyphens
    and underscores, labels of 1–63 characters, at most 253 in all."""
    if not host or len(host) > MAX_HOST or "%" in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    if ":" in host:
        return False
    return all(_LABEL.fullmatch(label) for label in host.removesuffix(".").split("."))


def clean_base_url(text: str) -> str | None:
    """An API base URL as typed, without the surrounding whitespace nor a trailing slash; None
    unless it is an absolute http(s) URL with a valid host (and port), without credentials,
    query, fragment, whitespace or control characters."""
    url_text = text.strip()
    if not url_text or len(url_text) > MAX_URL or has_unsafe_characters(url_text):
        return None
    if any(c.isspace() for c in url_text):
        return None
    try:
        url = yarl.URL(url_text)
        port = url.explicit_port
    except ValueError:  # UnicodeError included: a host IDNA cannot encode
        return None
    if url.scheme not in ("http", "https") or not url.is_absolute():
        return None
    if url.raw_user is not None or url.raw_password is not None or "@" in url.raw_authority:
        return None
    if url.raw_query_string or url.raw_fragment or "?" in url_text or "#" in url_text:
        return None
    host = url.raw_host or ""
    if host.startswith("[") or not is_host_name(host):
        return None
    if port is not None and not 0 < port < 65536:
        return None
    return url_text.rstrip("/")
