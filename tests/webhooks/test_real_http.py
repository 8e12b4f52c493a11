"""Over real loopback ports, through the CLI's wiring: `fub-mcp serve --sandbox --transport http` is both
the MCP server and the webhook receiver; the embedded sandbox delivers its signed webhooks and its Inbox
App install check over HTTP to that same process."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import anyio
import httpx
import pytest
from mcp import Client

from fub_mcp.webhooks import INBOX_PATH, WEBHOOK_PATH
from tests.server.conftest import ServerProcess, start_http_server
from tests.tools.conftest import call, error_text

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("webhooks-http")
    data = {"FUB_MCP_DATA_DIR": str(root / "data")}
    server = start_http_server(root / "run", "--toolsets", "default,webhooks", env=data)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_new_lead_reaches_the_assistant_through_the_running_server(served: ServerProcess) -> None:
    async with Client(f"{served.url}/mcp", cache=None) as client:
        hook = await call(client, "create_webhook",
                          {"event": "peopleCreated", "url": served.url + WEBHOOK_PATH})
        assert hook["status"] == "Active"
        person = await call(client, "create_person", {"first_name": "Loop", "last_name": "Back"})
        person_id = person["person"]["id"]
        with anyio.fail_after(15):  # delivered, verified, queued, then fetched by the worker meanwhile
            while not (page := await call(client, "recent_changes", {"person_id": person_id}))["items"]:
                await anyio.sleep(0.05)
    [change] = page["items"]
    assert change["event"] == "peopleCreated" and "Loop Back" in change["facts"]


def test_unsigned_deliveries_to_the_running_server_get_401(served: ServerProcess) -> None:
    response = httpx.post(served.url + WEBHOOK_PATH, json={"eventId": "x"}, timeout=5)
    assert response.status_code == 401


async def test_an_inbox_app_installs_against_the_running_server_and_fails_when_the_endpoint_is_down(
    served: ServerProcess,
) -> None:
    async with Client(f"{served.url}/mcp", cache=None) as client:
        installed = await call(client, "install_inbox_app", {
            "published_inbox_app_id": 31, "subscription_url": served.url + INBOX_PATH})
        assert installed["status"] == "Active"
        down = f"http://127.0.0.1:{closed_port()}{INBOX_PATH}"
        error = await error_text(client, "install_inbox_app", {
            "published_inbox_app_id": 32, "subscription_url": down})
    assert "subscription URL could not be reached" in error

