"""The HTTP app in-process: allowlists, the guards' order and exemptions, extra routes and lifespans.
(The transports themselves are exercised over real sockets in test_http.py.)"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fub_mcp.config import Settings
from fub_mcp.sandbox import SANDBOX_API_KEY, create_app
from fub_mcp.server.auth import check_bearer, parse_bearer
from fub_mcp.server.build import build_context
from fub_mcp.server.http import allowed_hosts, allowed_origins, build_http_app, is_loopback
from fub_mcp.server.run import InFlight

pytestmark = pytest.mark.anyio


def settings(**overrides: Any) -> Settings:
    return Settings(api_key=SANDBOX_API_KEY, base_url="http://sandbox/v1", **overrides)


def app_for(config: Settings, **kwargs: Any) -> Any:
    context = build_context(config, transport=httpx.ASGITransport(app=create_app(":memory:")))
    return build_http_app(config, context, **kwargs)


async def webhook(request: Request) -> JSONResponse:
    return JSONResponse({"received": len(await request.body())})


WEBHOOK = Route("/webhooks/fub", webhook, methods=["POST"])


def client(app: Any, host: str = "127.0.0.1:8000") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("mcp.example.com", False),
    ],
)
def test_loopback_addresses_are_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_allowlists_add_configured_names_with_any_port_and_the_public_url() -> None:
    config = settings(
        allowed_hosts=["mcp.example.com", "https://alt.example.com/", "proxy.internal:8443"],
        allowed_origins=["https://app.example.com/"],
        public_url="https://public.example.com/base",
    )
    hosts = allowed_hosts(config, bind_host="10.0.0.5")
    assert hosts[:6] == ["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"]
    assert hosts[6:] == [
        "mcp.example.com",
        "mcp.example.com:*",
        "alt.example.com",
        "alt.example.com:*",
        "proxy.internal:8443",
        "10.0.0.5",
        "10.0.0.5:*",
        "public.example.com",
        "public.example.com:*",
    ]
    assert allowed_origins(config)[-2:] == ["https://app.example.com", "https://public.example.com"]
    assert "0.0.0.0" not in allowed_hosts(config, bind_host="0.0.0.0")


def test_bearer_parsing_and_constant_time_check() -> None:
    assert parse_bearer("Bearer abc") == "abc"
    assert parse_bearer("bearer   abc ") == "abc"
    assert parse_bearer("Basic abc") is None
    assert parse_bearer("Bearer") is None
    assert parse_bearer(None) is None
    tokens = [b"first", "sécond".encode()]
    assert check_bearer("sécond", tokens) and check_bearer("first", tokens)
    assert not check_bearer("firs", tokens) and not check_bearer("", tokens)


async def test_webhook_routes_and_healthz_skip_host_and_token_checks_but_not_the_body_limit() -> None:
    app = app_for(settings(auth_tokens=[SecretStr("secret-token-1234")]), extra_routes=[WEBHOOK])
    async with client(app, host="fub-callbacks.example.com") as http:
        assert (await http.get("/healthz")).status_code == 200
        hook = await http.post("/webhooks/fub", content=b"x" * 10)
        assert hook.status_code == 200 and hook.json() == {"received": 10}
        too_big = await http.post("/webhooks/fub", content=b"x" * (1024 * 1024 + 1))
        assert too_big.status_code == 413
        assert (await http.post("/mcp", json={})).status_code == 421  # the Host guard runs before auth


async def test_the_token_check_runs_after_the_host_check_and_before_the_body_limit() -> None:
    app = app_for(settings(auth_tokens=[SecretStr("secret-token-1234")]))
    async with client(app) as http:
        unauthorized = await http.post("/mcp", content=b"x" * (2 * 1024 * 1024))
        assert unauthorized.status_code == 401
        assert unauthorized.headers["www-authenticate"] == 'Bearer realm="fub-mcp"'
        assert "FUB_MCP_AUTH_TOKENS" in unauthorized.json()["error"]
        too_big = await http.post(
            "/mcp", content=b"x" * (2 * 1024 * 1024), headers={"Authorization": "Bearer secret-token-1234"}
        )
        assert too_big.status_code == 413
        # OAuth discovery learns "no OAuth metadata here" instead of a 401 on the discovery request.
        assert (await http.get("/.well-known/oauth-protected-resource/mcp")).status_code == 404


async def test_a_streamed_body_over_the_limit_gets_413() -> None:
    app = app_for(settings(), max_body_size=100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 40

    async with client(app) as http:
        response = await http.post("/mcp", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_the_lifespan_runs_extra_lifespans_around_the_session_manager() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def first() -> AsyncIterator[None]:
        events.append("first up")
        yield
        events.append("first down")

    @contextlib.asynccontextmanager
    async def second() -> AsyncIterator[None]:
        events.append("second up")
        yield
        events.append("second down")

    app = app_for(settings(), lifespans=[first, second])
    async with app.router.lifespan_context(app):
        events.append("serving")
    assert events == ["first up", "second up", "serving", "second down", "first down"]


async def test_the_in_flight_counter_sees_tool_calls() -> None:
    from mcp import Client

    config = settings()
    app = app_for(config)
    inflight = InFlight()
    inflight.install(app.state.mcp_server)
    inflight.install(app.state.mcp_server)  # idempotent
    seen: list[tuple[str, int]] = []

    async def observe(ctx: Any, call_next: Any) -> Any:  # runs inside the counter
        seen.append((ctx.method, inflight.count))
        return await call_next(ctx)

    app.state.mcp_server.middleware.append(observe)
    async with Client(app.state.mcp_server, mode="legacy", cache=None) as mcp_client:
        result = await mcp_client.call_tool("search_people", {"query": "smith", "limit": 1})
    assert result.is_error is False
    assert app.state.mcp_server.middleware.count(inflight) == 1
    assert ("tools/call", 1) in seen and inflight.count == 0
    assert await inflight.drain(0.1) is True
