"""Fixtures for tool tests: a fresh sandbox per test, a server over it, an MCP client in both eras."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from mcp import Client

from fub_mcp.config import Settings
from fub_mcp.fub.client import FUBClient
from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM, SANDBOX_SYSTEM_KEY, create_app
from fub_mcp.server.build import build_context, build_server
from fub_mcp.tools import AppContext


@pytest.fixture
def sandbox_app() -> Any:
    """A freshly seeded in-memory sandbox (its object is `sandbox_app.state.sandbox`)."""
    return create_app(":memory:")


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "api_key": SANDBOX_API_KEY,
        "base_url": "http://sandbox/v1",
        "system": SANDBOX_SYSTEM,
        "system_key": SANDBOX_SYSTEM_KEY,
        "toolsets": ["all"],
        "allow_delete": True,
    }
    base.update(overrides)
    return Settings(**base)


def make_context(sandbox_app: Any, settings: Settings) -> AppContext:
    client = FUBClient.from_settings(settings, transport=httpx.ASGITransport(app=sandbox_app))
    return build_context(settings, client=client)


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both protocol eras: 2026-07-28 (auto, in-process) and the 2025-11-25 handshake clients speak."""
    return request.param


@pytest.fixture
async def client(sandbox_app: Any, mode: str) -> AsyncIterator[Client]:
    """An MCP client connected to a server with every tool enabled, over a fresh sandbox."""
    settings = make_settings()
    context = make_context(sandbox_app, settings)
    async with context.client:
        async with Client(build_server(settings, context), mode=mode, cache=None) as mcp_client:
            yield mcp_client


def requests_seen(sandbox_app: Any, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
    """What went over the wire to the sandbox, optionally filtered by method and path prefix."""
    log = sandbox_app.state.sandbox.requests
    return [
        r for r in log
        if (method is None or r["method"] == method) and (path is None or r["path"].startswith(path))
    ]


async def call(client: Client, name: str, args: dict[str, Any], **kwargs: Any) -> Any:
    """Call a tool that must succeed; its structuredContent."""
    result = await client.call_tool(name, args, **kwargs)
    assert not result.is_error, result.content
    return result.structured_content


async def error_text(client: Client, name: str, args: dict[str, Any]) -> str:
    """Call a tool that must fail; its error text."""
    result = await client.call_tool(name, args)
    assert result.is_error
    return result.content[0].text
