"""Bearer-token auth for the HTTP transports, as pure ASGI middleware on the host app.

The SDK's own auth middleware lives on its sub-apps and is dropped when their routes are merged
into one app, so fub-mcp checks `Authorization: Bearer <token>` itself, in front of every route
except the exempt ones (`/healthz`, and the webhook routes, which FUB authenticates by signature).

Tokens come from `FUB_MCP_AUTH_TOKENS` (one or more, comma-separated: rotate by adding the new
token, moving clients over, then removing the old one). Every configured token is compared in
constant time, all of them on every request, so timing reveals neither a token nor which one matched.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerAuthMiddleware", "check_bearer", "parse_bearer"]

_log = logging.getLogger("fub_mcp.server.auth")

MISSING_TOKEN = (
    "Missing bearer token: this fub-mcp server requires 'Authorization: Bearer <token>' "
    "with one of the tokens in FUB_MCP_AUTH_TOKENS."
)
INVALID_TOKEN = "Invalid bearer token: it matches none of the tokens in FUB_MCP_AUTH_TOKENS."
MALFORMED_HEADER = "Malformed Authorization header: expected 'Authorization: Bearer <token>'."


def parse_bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None when absent or not Bearer."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


def check_bearer(token: str, accepted: Sequence[bytes]) -> bool:
    """True when `token` equals one of `accepted`; compares against every token in constant time."""
    candidate = token.encode("utf-8")
    matched = False
    for expected in accepted:
        matched |= hmac.compare_digest(candidate, expected)
    return matched


class BearerAuthMiddleware:
    """Answer 401 with a JSON `{"error": ...}` body unless the request carries an accepted token."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: Sequence[str],
        exempt: Callable[[Scope], bool] = lambda scope: False,
    ) -> None:
        if not tokens:
            raise ValueError("BearerAuthMiddleware needs at least one token")
        self.app = app
        self._tokens = [t.encode("utf-8") for t in tokens]
        self._exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope):
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization")
        token = parse_bearer(header)
        if token is not None and check_bearer(token, self._tokens):
            await self.app(scope, receive, send)
            return
        if header is None:
            message, challenge = MISSING_TOKEN, 'Bearer realm="fub-mcp"'
        elif token is None:
            message, challenge = MALFORMED_HEADER, 'Bearer realm="fub-mcp", error="invalid_request"'
        else:
            message, challenge = INVALID_TOKEN, 'Bearer realm="fub-mcp", error="invalid_token"'
        client = scope.get("client")
        _log.info(
            "401 %s %s from %s: %s",
            scope.get("method"),
            scope.get("path"),
            client[0] if client else "?",
            message.split(":")[0],
        )
        await send_json_error(send, 401, message, extra_headers=[(b"www-authenticate", challenge.encode())])


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def send_json_error(
    send: Send, status: int, message: str, *, extra_headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete `{"error": message}` JSON response (for middleware that refuses a request)."""
    body = json.dumps({"error": message}).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
