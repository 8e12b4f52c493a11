"""fub-mcp over real HTTP: /sse and /mcp in both protocol eras, stateful and stateless, plus the
DNS-rebinding, bearer-token and body-limit guards, against `fub-mcp serve --transport http` processes."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.server.conftest import AUTH_TOKENS, PUBLIC_HOST, SEARCH_ARGS, ServerProcess

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def assert_found_people(result: Any) -> None:
    assert result.is_error is False
    data = result.structured_content
    assert data["total"] >= 1 and data["items"]
    assert all("smith" in item["name"].lower() for item in data["items"])


async def test_legacy_sse_initializes_at_2025_11_25_and_calls_search_people(
    any_server: ServerProcess,
) -> None:
    with anyio.fail_after(15):
        async with sse_client(f"{any_server.url}/sse") as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                assert init.protocol_version == "2025-11-25"
                assert init.server_info.name == "fub-mcp"
                tools = await session.list_tools()
                assert "search_people" in {tool.name for tool in tools.tools}
                assert_found_people(await session.call_tool("search_people", SEARCH_ARGS))


async def test_streamable_http_auto_client_speaks_2026_07_28(any_server: ServerProcess) -> None:
    with anyio.fail_after(15):
        async with Client(f"{any_server.url}/mcp", cache=None) as client:
            assert client.protocol_version == "2026-07-28"
            tools = await client.list_tools()
            assert "search_people" in {tool.name for tool in tools.tools}
            assert_found_people(await client.call_tool("search_people", SEARCH_ARGS))


async def test_streamable_http_legacy_handshake_speaks_2025_11_25(any_server: ServerProcess) -> None:
    with anyio.fail_after(15):
        async with streamable_http_client(f"{any_server.url}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                assert init.protocol_version == "2025-11-25"
                tools = await session.list_tools()
                assert "search_people" in {tool.name for tool in tools.tools}
                assert_found_people(await session.call_tool("search_people", SEARCH_ARGS))


async def test_the_tool_switches_apply_over_http(http_servers: dict[str, ServerProcess]) -> None:
    with anyio.fail_after(15):
        for name, expect_writes in (("stateful", True), ("stateless", False)):  # stateless runs --read-only
            async with Client(f"{http_servers[name].url}/mcp", cache=None) as client:
                tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert ("create_person" in tools) is expect_writes, name
            if not expect_writes:
                assert all(tool.annotations.read_only_hint for tool in tools.values())


def test_only_the_stateful_server_hands_out_a_session_id(http_servers: dict[str, ServerProcess]) -> None:
    stateful = httpx2.post(f"{http_servers['stateful'].url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    stateless = httpx2.post(f"{http_servers['stateless'].url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert (stateful.status_code, stateless.status_code) == (200, 200)
    assert stateful.headers.get("mcp-session-id")
    assert "mcp-session-id" not in stateless.headers


def test_json_response_mode_answers_a_post_with_one_json_body(http_servers: dict[str, ServerProcess]) -> None:
    token = {"Authorization": f"Bearer {AUTH_TOKENS[0]}"}
    plain = httpx2.post(f"{http_servers['auth'].url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **token})
    streamed = httpx2.post(f"{http_servers['stateful'].url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json()["result"]["protocolVersion"] == "2025-11-25"
    assert streamed.headers["content-type"].startswith("text/event-stream")


def test_healthz_reports_ok_and_the_version(stateful: ServerProcess) -> None:
    from fub_mcp import __version__

    response = httpx2.get(f"{stateful.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


# --- DNS rebinding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/mcp"), ("GET", "/sse"), ("POST", "/messages/?session_id=abc")]
)
def test_a_foreign_host_is_refused_with_421_and_a_hint(
    stateful: ServerProcess, method: str, path: str
) -> None:
    response = httpx2.request(
        method, f"{stateful.url}{path}", json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example:80"}
    )
    assert response.status_code == 421
    assert "--allowed-hosts" in response.json()["error"]
    assert "FUB_MCP_ALLOWED_HOSTS" in stateful.log()


def test_a_foreign_origin_is_refused_with_403(stateful: ServerProcess) -> None:
    response = httpx2.post(
        f"{stateful.url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert "--allowed-origins" in response.json()["error"]


def test_loopback_hosts_and_origins_are_accepted(stateful: ServerProcess) -> None:
    for headers in (
        {"Origin": f"http://localhost:{stateful.port}"},
        {"Host": "localhost"},
        {"Host": f"[::1]:{stateful.port}"},
    ):
        response = httpx2.post(f"{stateful.url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **headers})
        assert response.status_code == 200, (headers, response.text)


# --- bearer tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/mcp", "/sse", "/messages/?session_id=abc"])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic dDE6dDI=", "Bearer"])
def test_requests_without_an_accepted_token_get_401(
    auth_server: ServerProcess, path: str, authorization: str | None
) -> None:
    headers = dict(MCP_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    method = "GET" if path == "/sse" else "POST"
    response = httpx2.request(method, f"{auth_server.url}{path}", json=INITIALIZE, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "FUB_MCP_AUTH_TOKENS" in response.json()["error"] or "Authorization" in response.json()["error"]


def test_healthz_needs_no_token(auth_server: ServerProcess) -> None:
    assert httpx2.get(f"{auth_server.url}/healthz").status_code == 200


@pytest.mark.parametrize("token", AUTH_TOKENS)
async def test_every_configured_token_works_over_streamable_http(
    auth_server: ServerProcess, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with anyio.fail_after(15):
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(10, read=30)) as http:
            async with Client(
                streamable_http_client(f"{auth_server.url}/mcp", http_client=http), cache=None
            ) as client:
                assert_found_people(await client.call_tool("search_people", SEARCH_ARGS))


async def test_a_token_works_over_legacy_sse(auth_server: ServerProcess) -> None:
    with anyio.fail_after(15):
        async with sse_client(
            f"{auth_server.url}/sse", headers={"Authorization": f"Bearer {AUTH_TOKENS[1]}"}
        ) as (
            read,
            write,
        ):
            async with ClientSession(read, write) as session:
                await session.initialize()
                assert_found_people(await session.call_tool("search_people", SEARCH_ARGS))


def test_an_allowed_public_host_is_accepted(auth_server: ServerProcess) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {AUTH_TOKENS[0]}"}
    ok = httpx2.post(f"{auth_server.url}/mcp", json=INITIALIZE, headers={**headers, "Host": PUBLIC_HOST})
    ok_port = httpx2.post(
        f"{auth_server.url}/mcp", json=INITIALIZE, headers={**headers, "Host": f"{PUBLIC_HOST}:443"}
    )
    other = httpx2.post(
        f"{auth_server.url}/mcp", json=INITIALIZE, headers={**headers, "Host": "other.example.com"}
    )
    assert (ok.status_code, ok_port.status_code, other.status_code) == (200, 200, 421)


# --- limits -------------------------------------------------------------------------------------


def test_a_body_over_one_mebibyte_gets_413(stateful: ServerProcess) -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"x" * (1024 * 1024) + b'"}}'
    response = httpx2.post(
        f"{stateful.url}/mcp", content=body, headers={**MCP_HEADERS, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "too large" in response.json()["error"]
