"""The sandbox over a real loopback port (uvicorn, lifespan on): a request, injected faults that only
real sockets show (a dropped connection, a read timeout) and a webhook delivered to a real receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import uvicorn

from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM_KEY, create_app
from tests.sandbox.conftest import SYSTEM_HEADERS, Receiver

pytestmark = pytest.mark.anyio


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def served(app: Any, sock: socket.socket) -> AsyncIterator[str]:
    """Run `app` with uvicorn on `sock` in this event loop until the block exits."""
    config = uvicorn.Config(
        app,
        lifespan="on",
        http="h11",
        ws="none",
        proxy_headers=False,
        log_config=None,
        access_log=False,
        log_level="critical",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(5):
            while not server.started:
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
    sock.close()


async def test_the_sandbox_over_a_real_loopback_port(tmp_path: Any) -> None:
    receiver = Receiver()
    sandbox_sock, receiver_sock = bound_socket(), bound_socket()
    port = sandbox_sock.getsockname()[1]
    app = create_app(
        str(tmp_path / "fub.sqlite3"), base_url=f"http://127.0.0.1:{port}/v1", webhook_retry_delays=(0.05,)
    )
    with anyio.fail_after(20):
        async with served(receiver, receiver_sock) as receiver_url, served(app, sandbox_sock) as url:
            async with httpx.AsyncClient(
                base_url=f"{url}/v1", auth=(SANDBOX_API_KEY, ""), timeout=5, headers=SYSTEM_HEADERS
            ) as client:
                response = await client.get("/people", params={"limit": 3})
                assert response.status_code == 200 and len(response.json()["people"]) == 3
                assert response.headers["X-RateLimit-Limit"] == "250"  # registered system

                added = await client.post(f"{url}/_sandbox/faults", json={"kind": "drop"})
                assert added.status_code == 201
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.get("/me")
                assert (await client.get("/me")).status_code == 200  # the server is fine afterwards

                app.state.sandbox.faults.inject("latency", latency_ms=400)
                with pytest.raises(httpx.ReadTimeout):
                    await client.get("/me", timeout=0.1)

                receiver.statuses = [503]  # the first attempt fails, the retry succeeds
                hook = await client.post(
                    "/webhooks", json={"event": "peopleCreated", "url": f"{receiver_url}/hook"}
                )
                assert hook.status_code == 201
                person = (
                    await client.post("/people", json={"firstName": "Real", "lastName": "Socket"})
                ).json()
                while len(receiver.calls) < 2:
                    await anyio.sleep(0.01)
    first, retry = receiver.calls
    assert first["body"] == retry["body"]
    assert retry["json"]["resourceIds"] == [person["id"]]
    assert retry["json"]["uri"] == f"http://127.0.0.1:{port}/v1/people?id={person['id']}"
    expected = hmac.new(
        SANDBOX_SYSTEM_KEY.encode(), base64.b64encode(retry["body"]), hashlib.sha256
    ).hexdigest()
    assert retry["headers"]["fub-signature"] == expected
    app.state.sandbox.close()
