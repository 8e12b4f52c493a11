"""The HTTP app: streamable HTTP at `/mcp`, legacy SSE at `/sse` + `/messages/`, `/healthz`, in ONE app.

    app = build_http_app(settings, context, stateless=False, extra_routes=[...], lifespans=[...])

One MCPServer (from `build_server`) serves both transports and both protocol eras. Requests pass,
outermost first, through:

1. `HostOriginGuard`: DNS-rebinding protection. A Host outside the allowlist gets 421, a foreign
   Origin 403, each with a JSON body and one WARNING line naming `--allowed-hosts` /
   `--allowed-origins`, because the SDK's terse 421 is the classic failure behind a real domain.
   The same lists go to the SDK's own check, which runs after ours.
2. `BearerAuthMiddleware` (when `FUB_MCP_AUTH_TOKENS` is set): 401 without an accepted token.
3. `BodyLimitMiddleware`: 413 for a body over `max_body_size` (1 MiB by default).

`/healthz` and the `extra_routes` (the webhook receivers, authenticated by FUB's signature) skip
1 and 2, never 3; `/.well-known/*` (404: no OAuth metadata here) skips 2.

Merging the sub-apps' `.routes` drops their middleware and lifespans, so the host lifespan runs
the session manager plus every `lifespans` factory (entered first, closed last).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fub_mcp import __version__
from fub_mcp.config import Settings
from fub_mcp.server.auth import BearerAuthMiddleware, send_json_error
from fub_mcp.server.build import build_server
from fub_mcp.tools import AppContext

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "BodyLimitMiddleware",
    "HostOriginGuard",
    "allowed_hosts",
    "allowed_origins",
    "build_http_app",
    "is_loopback",
]

_log = logging.getLogger("fub_mcp.server.http")

DEFAULT_MAX_BODY_SIZE = 1024 * 1024  # 1 MiB: far above any MCP request this server needs
MCP_PATH = "/mcp"
SSE_PATH = "/sse"
MESSAGES_PATH = "/messages/"
HEALTH_PATH = "/healthz"
WELL_KNOWN_PREFIX = "/.well-known/"

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_WILDCARD_BINDS = ("0.0.0.0", "::", "")
_MAX_WARNED = 256  # distinct rejected Host/Origin values warned about once each

Lifespan = Callable[[], AbstractAsyncContextManager[Any]]


# --- allowlists ---------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _netloc(value: str) -> str:
    """`https://mcp.example.com/x` -> `mcp.example.com`; a bare host[:port] is kept."""
    value = value.strip().rstrip("/")
    return urlsplit(value).netloc if "://" in value else value


def _has_port(host: str) -> bool:
    if host.startswith("["):
        return bool(re.search(r"\]:(\d+|\*)$", host))
    return host.count(":") == 1


def _host_forms(host: str) -> list[str]:
    """A Host pattern and, when it names no port, the same host on any port."""
    if ":" in host and not host.startswith("[") and host.count(":") > 1:
        host = f"[{host}]"  # a bare IPv6 address
    return [host] if _has_port(host) else [host, f"{host}:*"]


def allowed_hosts(settings: Settings, bind_host: str | None = None) -> list[str]:
    """Loopback names (with and without a port), the bind address, `FUB_MCP_ALLOWED_HOSTS`, and the
    host of `FUB_MCP_PUBLIC_URL`; names without a port also match on any port."""
    extra = [_netloc(h) for h in settings.allowed_hosts]
    if bind_host and bind_host not in _WILDCARD_BINDS and not is_loopback(bind_host):
        extra.append(bind_host)
    if settings.public_url:
        extra.append(_netloc(settings.public_url))
    hosts: list[str] = []
    for host in [*LOOPBACK_NAMES, *extra]:
        for form in _host_forms(host):
            if form and form not in hosts:
                hosts.append(form)
    return hosts


def allowed_origins(settings: Settings) -> list[str]:
    """Loopback origins on any port, `FUB_MCP_ALLOWED_ORIGINS`, and the origin of `FUB_MCP_PUBLIC_URL`."""
    origins = [f"http://{name}" for name in LOOPBACK_NAMES] + [f"http://{name}:*" for name in LOOPBACK_NAMES]
    extra = [o.strip().rstrip("/") for o in settings.allowed_origins if o.strip()]
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        extra.append(f"{parts.scheme}://{parts.netloc}")
    for origin in extra:
        if origin not in origins:
            origins.append(origin)
    return origins


def _matches(value: str, patterns: Iterable[str]) -> bool:
    """The SDK's rule: an exact match, or `name:*` for `name` on any port."""
    for pattern in patterns:
        if value == pattern:
            return True
        if pattern.endswith(":*") and value.startswith(pattern[:-1]) and value[len(pattern) - 1 :].isdigit():
            return True
    return False


# --- middleware ---------------------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class HostOriginGuard:
    """DNS-rebinding protection with a message that says how to fix it (421 Host, 403 Origin)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: Sequence[str],
        origins: Sequence[str],
        exempt: Callable[[Scope], bool] = lambda scope: False,
    ) -> None:
        self.app = app
        self._hosts = list(hosts)
        self._origins = list(origins)
        self._exempt = exempt
        self._warned: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope):
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host") or ""
        if not _matches(host, self._hosts):
            self._warn(
                f"host:{host}",
                "Rejected Host %r on %s with 421 (DNS-rebinding protection). If this server is reached "
                "under that name, add it with --allowed-hosts or FUB_MCP_ALLOWED_HOSTS (allowed now: %s).",
                host,
                scope.get("path"),
                ", ".join(self._hosts),
            )
            await send_json_error(
                send,
                421,
                f"Host {host!r} is not allowed (DNS-rebinding protection). The server operator can allow it "
                "with --allowed-hosts or FUB_MCP_ALLOWED_HOSTS.",
            )
            return
        origin = _header(scope, b"origin")
        if origin and not _matches(origin, self._origins):
            self._warn(
                f"origin:{origin}",
                "Rejected Origin %r on %s with 403 (DNS-rebinding protection). If browsers on that origin "
                "should reach this server, add it with --allowed-origins or FUB_MCP_ALLOWED_ORIGINS.",
                origin,
                scope.get("path"),
            )
            await send_json_error(
                send,
                403,
                f"Origin {origin!r} is not allowed. The server operator can allow it with --allowed-origins "
                "or FUB_MCP_ALLOWED_ORIGINS.",
            )
            return
        await self.app(scope, receive, send)

    def _warn(self, key: str, message: str, *args: Any) -> None:
        if key in self._warned:
            _log.debug(message, *args)
            return
        if len(self._warned) < _MAX_WARNED:
            self._warned.add(key)
        _log.warning(message, *args)


class BodyLimitMiddleware:
    """Refuse request bodies over `max_body_size` bytes with 413, before the app sees them.

    A declared Content-Length is checked up front; a streamed body is buffered up to the limit and
    then replayed, so the app never starts on a request it would have to abandon.
    """

    def __init__(self, app: ASGIApp, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body_size:
            await self._refuse(send)
            return
        body = bytearray()
        pending: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                pending.append(message)  # e.g. http.disconnect: hand it on
                break
            body.extend(message.get("body", b""))
            if len(body) > self.max_body_size:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        replay: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}, *pending]

        async def replaying_receive() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()

        await self.app(scope, replaying_receive, send)

    async def _refuse(self, send: Send) -> None:
        await send_json_error(
            send, 413, f"Request body too large: this server accepts at most {self.max_body_size} bytes."
        )


# --- the app ------------------------------------------------------------------------------------


def _route_matcher(routes: Sequence[BaseRoute]) -> Callable[[Scope], bool]:
    def matches(scope: Scope) -> bool:
        return any(route.matches(scope)[0] is not Match.NONE for route in routes)

    return matches


def build_http_app(
    settings: Settings,
    context: AppContext,
    *,
    stateless: bool = False,
    extra_routes: Sequence[BaseRoute] = (),
    lifespans: Sequence[Lifespan] = (),
    bind_host: str | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Starlette:
    """One Starlette app serving `/mcp` (streamable HTTP), `/sse` + `/messages/` (legacy SSE), `/healthz`
    and `extra_routes`. `bind_host`: the address being served on; a specific non-loopback address is
    added to the Host allowlist. `app.state.mcp_server` is the MCPServer."""
    server = build_server(settings, context)
    hosts = allowed_hosts(settings, bind_host)
    origins = allowed_origins(settings)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )
    http_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=stateless,
        json_response=settings.json_response,
        max_request_body_size=max_body_size,
        transport_security=security,
    )
    sse_app = server.sse_app(
        sse_path=SSE_PATH,
        message_path=MESSAGES_PATH,
        max_request_body_size=max_body_size,
        transport_security=security,
    )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    exempt_routes: list[BaseRoute] = [Route(HEALTH_PATH, healthz, methods=["GET"]), *extra_routes]
    is_exempt = _route_matcher(exempt_routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for factory in lifespans:
                await stack.enter_async_context(factory())
            await stack.enter_async_context(server.session_manager.run())
            yield

    middleware = [Middleware(HostOriginGuard, hosts=hosts, origins=origins, exempt=is_exempt)]
    tokens = [t.get_secret_value() for t in settings.auth_tokens if t.get_secret_value()]
    if tokens:
        # /.well-known/ answers 404 without a token, so OAuth-capable clients learn that this server
        # has no OAuth metadata instead of hitting a 401 on the discovery request itself.
        def auth_exempt(scope: Scope) -> bool:
            return is_exempt(scope) or str(scope.get("path", "")).startswith(WELL_KNOWN_PREFIX)

        middleware.append(Middleware(BearerAuthMiddleware, tokens=tokens, exempt=auth_exempt))
    middleware.append(Middleware(BodyLimitMiddleware, max_body_size=max_body_size))

    app = Starlette(
        routes=[*exempt_routes, *sse_app.routes, *http_app.routes],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.mcp_server = server
    app.state.allowed_hosts = hosts
    app.state.allowed_origins = origins
    _log.debug(
        "HTTP app: hosts=%s origins=%s auth=%s stateless=%s",
        json.dumps(hosts),
        json.dumps(origins),
        bool(tokens),
        stateless,
    )
    return app
