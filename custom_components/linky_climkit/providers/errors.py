"""Typed errors raised by the provider clients.

Messages never contain a token, a password or a JWT: they are safe to log.
"""

from __future__ import annotations

from datetime import datetime


class ProviderError(Exception):
    """Base class of every provider error."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthError(ProviderError):
    """The credentials (token, password) are rejected: the user must act."""


class NotAuthorisedError(ProviderError):
    """The credentials are valid but do not give access to this meter (consent, holder)."""


class NoDataError(ProviderError):
    """The provider has no data for this range yet (not published, collection disabled)."""


class HistoryLimitError(ProviderError):
    """The requested range is older than the provider keeps, or before the meter's activation."""


class QuotaError(ProviderError):
    """Rate limit or quota exceeded; retry no sooner than `retry_at` when known."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_at = retry_at


class BlockedError(QuotaError):
    """An infrastructure block (Cloudflare WAF page): back off for a long time."""


class UpstreamError(ProviderError):
    """The provider or what is behind it failed (5xx, gateway pages): transient."""


class ProviderConnectionError(UpstreamError):
    """The provider could not be reached or did not answer in time."""


class InvalidResponseError(ProviderError):
    """The answer is not what the provider documents (not JSON, wrong shape)."""


class RequestError(ProviderError):
    """The request itself was refused as invalid (a bug on our side or bad user input)."""


class RedirectError(InvalidResponseError):
    """The provider answered with a redirect. It is never followed: the request carries a
    password or a token, which would go to whatever address the redirect names."""
