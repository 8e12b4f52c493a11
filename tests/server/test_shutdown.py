"""Graceful shutdown: SIGTERM while tool calls are in flight on /mcp and /sse lets them finish.

fub-mcp runs against the standalone sandbox (`fub-mcp sandbox serve`) as a real account would
(FUB_API_KEY + FUB_BASE_URL), so a latency fault injected over the sandbox's control API holds the
calls open while the signal arrives."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM, SANDBOX_SYSTEM_KEY
from tests.server.conftest import SEARCH_ARGS, ServerProcess

LATENCY_MS = 1500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Any:
    port = _free_port()
    process = ServerProcess(
        ["sandbox", "serve", "--port", str(port), "--sandbox-db", ":memory:"], tmp_path / "sandbox"
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:
        while True:
            assert process.process.poll() is None, process.log()
            try:
                if httpx2.get(f"{url}/_sandbox/faults", auth=(SANDBOX_API_KEY, "")).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, process.log()
            time.sleep(0.05)
        yield url
    finally:
        process.stop()


@pytest.mark.anyio
async def test_sigterm_lets_in_flight_calls_finish_on_both_transports(
    sandbox_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(
        ["serve", "--transport", "http", "--port", "0"],
        tmp_path / "server",
        env={
            "FUB_API_KEY": SANDBOX_API_KEY,
            "FUB_BASE_URL": f"{sandbox_url}/v1",
            "FUB_SYSTEM": SANDBOX_SYSTEM,
            "FUB_SYSTEM_KEY": SANDBOX_SYSTEM_KEY,
        },
    ).wait_ready()
    results: dict[str, Any] = {}
    try:
        with anyio.fail_after(30):
            async with (
                streamable_http_client(f"{server.url}/mcp") as (r1, w1),
                sse_client(f"{server.url}/sse") as (r2, w2),
            ):
                async with ClientSession(r1, w1) as over_mcp, ClientSession(r2, w2) as over_sse:
                    for session in (over_mcp, over_sse):
                        await session.initialize()
                        # The client validates structuredContent against the tool's outputSchema and
                        # fetches tools/list first if it has not seen it: do that while the server is up.
                        await session.list_tools()
                    fault = {"kind": "latency", "latency_ms": LATENCY_MS, "count": 2, "route": "GET /people"}
                    async with httpx2.AsyncClient(base_url=sandbox_url, auth=(SANDBOX_API_KEY, "")) as admin:
                        assert (await admin.post("/_sandbox/faults", json=fault)).status_code == 201
                        await admin.delete("/_sandbox/requests")

                        async def call(name: str, session: ClientSession) -> None:
                            results[name] = await session.call_tool("search_people", SEARCH_ARGS)

                        async with anyio.create_task_group() as tg:
                            tg.start_soon(call, "mcp", over_mcp)
                            tg.start_soon(call, "sse", over_sse)
                            while (
                                len(
                                    (
                                        await admin.get("/_sandbox/requests", params={"path": "/people"})
                                    ).json()["requests"]
                                )
                                < 2
                            ):
                                await anyio.sleep(0.02)  # both calls are now waiting on FUB
                            os.kill(server.process.pid, signal.SIGTERM)
                            started = time.monotonic()
                            while server.process.poll() is None and time.monotonic() - started < 0.5:
                                await anyio.sleep(0.02)
                            assert server.process.poll() is None  # still draining
                            with pytest.raises(httpx2.HTTPError):  # but no longer accepting connections
                                await admin.get(f"{server.url}/healthz", timeout=1)
        for name in ("mcp", "sse"):
            assert results[name].is_error is False, name
            assert results[name].structured_content["items"], name
        await anyio.to_thread.run_sync(server.process.wait, 10)
        log = server.log()
        assert "in-flight MCP request" in log
        assert "still in flight" not in log
    finally:
        server.stop()
