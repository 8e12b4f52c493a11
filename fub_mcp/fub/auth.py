"""FUB authentication as an `httpx.Auth`: HTTP Basic with the API key, plus the registered-system headers.

FUB: "Use API Key as the username and leave the password blank" -> `Authorization: Basic
base64(API_KEY + ":")`. A registered system identifies itself with `X-System` and `X-System-Key` on
every request (higher rate limits; required for webhooks, text messages, attachments, ...).

The secrets live only inside this object; its repr shows neither.
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

__all__ = ["FUBAuth", "basic_authorization"]


def basic_authorization(api_key: str) -> str:
    """The `Authorization` header value for an API key: `Basic base64(key + ":")`."""
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")


class FUBAuth(httpx.Auth):
    """Adds `Authorization` and, when configured, `X-System` / `X-System-Key` to every request."""

    __slots__ = ("_authorization", "_system", "_system_key")

    def __init__(self, api_key: str, *, system: str | None = None, system_key: str | None = None) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self._authorization = basic_authorization(api_key)
        self._system = system or None
        self._system_key = system_key or None

    @property
    def system(self) -> str | None:
        """The registered system name (not a secret)."""
        return self._system

    @property
    def registered(self) -> bool:
        """True when both X-System headers are sent."""
        return bool(self._system and self._system_key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._authorization
        if self._system:
            request.headers["X-System"] = self._system
        if self._system_key:
            request.headers["X-System-Key"] = self._system_key
        yield request

    def __repr__(self) -> str:
        key = "***" if self._system_key else None
        return f"FUBAuth(api_key='***', system={self._system!r}, system_key={key!r})"
