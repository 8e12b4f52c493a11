"""End to end: the sandbox delivers signed webhooks to our HTTP app; the worker processes them; the
assistant sees them through recent_changes, the resources and resource-updated notifications."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.types import ResourceUpdatedNotification

from fub_mcp.sandbox import SANDBOX_SYSTEM_KEY, create_app
from fub_mcp.server.build import build_server
from fub_mcp.server.http import build_http_app
from fub_mcp.tools import AppContext
from fub_mcp.webhooks import (
    WEBHOOK_PATH,
    SQLiteChangeQueue,
    WebhookService,
    WebhookWorker,
    http_integration,
    sign,
    webhook_service,
)
from fub_mcp.webhooks.worker import LEASE_SECONDS
from tests.tools.conftest import call, make_context, make_settings

pytestmark = pytest.mark.anyio

PUBLIC = "http://127.0.0.1:8000"


class Forward:
    """An ASGI app that forwards to `target`, set once our HTTP app exists (the sandbox is built first)."""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


@dataclass
class World:
    app: Any
    sandbox: Any
    context: AppContext
    service: WebhookService
    http: httpx.AsyncClient
    forward: Forward

    def server(self) -> Any:
        return build_server(self.context.settings, self.context)

    async def deliver(
        self, payload: dict[str, Any], *, key: str = SANDBOX_SYSTEM_KEY, path: str = WEBHOOK_PATH,
        tamper: bool = False,
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {"FUB-Signature": sign(key, body), "Content-Type": "application/json"}
        return await self.http.post(path, content=body + (b" " if tamper else b""), headers=headers)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    forward = Forward()
    sandbox_app = create_app(":memory:", outbound_transport=httpx.ASGITransport(app=forward),
                             webhook_retry_delays=(0.01, 0.01, 0.01))
    settings = make_settings(public_url=PUBLIC)
    context = make_context(sandbox_app, settings)
    routes, _ = http_integration(context)  # what `serve --transport http` mounts
    service = webhook_service(context)
    forward.target = build_http_app(settings, context, extra_routes=routes)
    transport = httpx.ASGITransport(app=forward)
    async with context.client, httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
        yield World(sandbox_app, sandbox_app.state.sandbox, context, service, http, forward)


def event(n: int, name: str = "peopleCreated", ids: list[int] | None = None) -> dict[str, Any]:
    ids = ids if ids is not None else [1]
    return {"eventId": f"evt-{n}", "eventCreated": "2026-11-23T10:00:00+00:00", "event": name,
            "resourceIds": ids, "uri": f"http://sandbox/v1/people?id={','.join(map(str, ids))}"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_new_lead_flows_from_fub_to_the_assistant(world: World, mode: str) -> None:
    async with Client(world.server(), mode=mode, cache=None) as client:
        hook = await call(client, "create_webhook", {"event": "peopleCreated"})
        assert hook["url"] == PUBLIC + WEBHOOK_PATH and hook["status"] == "Active"
        person = await call(client, "create_person", {"first_name": "Nova", "last_name": "Lead",
                                                       "emails": ["nova@example.org"]})
        await world.sandbox.join_deliveries()
        assert (await world.service.queue.counts())["pending"] == 1  # acknowledged before any processing
        assert await world.service.worker.drain() == 1
        page = await call(client, "recent_changes", {"event": "peopleCreated"})
    [change] = page["items"]
    assert change["person_id"] == person["person"]["id"] and "Nova Lead" in change["facts"]
    assert page["pending"] == 0


# resources/subscribe is deprecated at 2026-07-28 but is what handshake-era clients (Claude Desktop) send.
@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")
async def test_a_subscribed_session_hears_about_the_change_and_reads_the_resource(world: World) -> None:
    heard: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(str(message.params.uri))

    async with Client(world.server(), mode="legacy", cache=None, message_handler=on_message) as client:
        await client.subscribe_resource("fub://changes/recent")
        assert (await world.deliver(event(1, ids=[3]))).status_code == 200
        await world.service.worker.drain()
        with anyio.fail_after(5):
            while "fub://changes/recent" not in heard:
                await anyio.sleep(0.01)
        assert "fub://changes/person/3" not in heard  # not subscribed to that one
        read = await client.read_resource("fub://changes/recent")
        person = await client.read_resource("fub://changes/person/3")
    assert json.loads(read.contents[0].text)["changes"][0]["resource_id"] == 3
    assert [c["person_id"] for c in json.loads(person.contents[0].text)["changes"]] == [3]


async def test_tampered_or_wrongly_signed_deliveries_are_refused_and_not_stored(world: World) -> None:
    assert (await world.deliver(event(1), tamper=True)).status_code == 401
    assert (await world.deliver(event(2), key="not-the-system-key")).status_code == 401
    unsigned = await world.http.post(WEBHOOK_PATH, json=event(3))
    assert unsigned.status_code == 401 and "FUB-Signature" in unsigned.json()["error"]
    assert (await world.service.queue.counts())["pending"] == 0


@pytest.mark.parametrize(
    "payload",
    [{"eventId": "x"}, {"eventId": "", "event": "peopleCreated", "resourceIds": []},
     {"eventId": "x", "event": "people created!", "resourceIds": [1]},
     {"eventId": "x", "event": "peopleCreated", "resourceIds": ["1"]}, ["not", "an", "object"]],
)
async def test_malformed_deliveries_get_400_and_nothing_is_stored(world: World, payload: Any) -> None:
    response = await world.deliver(payload)
    assert response.status_code == 400 and response.json()["error"]
    assert (await world.service.queue.counts())["pending"] == 0


async def test_oversized_deliveries_get_413(world: World) -> None:
    response = await world.deliver({**event(1), "pad": "x" * 300_000})
    assert response.status_code == 413
    assert (await world.service.queue.counts())["pending"] == 0


async def test_without_a_system_key_both_receivers_refuse_and_nothing_is_stored(world: World) -> None:
    settings = make_settings(system=None, system_key=None)
    context = AppContext(settings=settings, client=world.context.client, account=world.context.account)
    routes, lifespans = http_integration(context)
    assert lifespans == [] and "webhooks" not in context.extras  # no queue opened, no worker
    app = build_http_app(settings, context, extra_routes=routes)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as http:
        for path in (WEBHOOK_PATH, "/inbox-app/subscription"):
            response = await http.post(path, json=event(1), headers={"FUB-Signature": "00"})
            assert response.status_code == 503 and "FUB_SYSTEM_KEY" in response.json()["error"]
    assert (await world.service.queue.counts())["pending"] == 0


async def test_the_same_event_id_twice_is_stored_once(world: World) -> None:
    first, again = await world.deliver(event(5)), await world.deliver(event(5))
    assert first.json() == {"ok": True, "duplicate": False}
    assert again.json() == {"ok": True, "duplicate": True}
    await world.service.worker.drain()
    assert (await world.service.queue.counts()) == {"pending": 0, "done": 1, "failed": 0, "changes": 1}


async def test_a_burst_of_1000_deliveries_is_acknowledged_and_none_is_lost(world: World) -> None:
    statuses: list[int] = []
    limiter = anyio.CapacityLimiter(32)

    async def send(n: int) -> None:
        async with limiter:
            statuses.append((await world.deliver(event(n, ids=[n % 50 + 1]))).status_code)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for n in range(1000):
                tg.start_soon(send, n)
    assert statuses == [200] * 1000
    assert (await world.service.queue.counts())["pending"] == 1000


async def test_a_worker_killed_mid_delivery_then_restarted_processes_each_delivery_exactly_once(
    world: World,
) -> None:
    for n in range(1, 6):
        assert (await world.deliver(event(n, ids=[n]))).status_code == 200
    fetching_3 = anyio.Event()

    async def hangs_on_person_3(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and b"id=3" in scope.get("query_string", b""):
            fetching_3.set()
            await anyio.sleep_forever()  # FUB never answers: the process is killed meanwhile
        await world.app(scope, receive, send)

    doomed = make_context(hangs_on_person_3, world.context.settings).client
    async with doomed, anyio.create_task_group() as tg:
        tg.start_soon(WebhookWorker(world.service.queue, doomed).run)
        with anyio.fail_after(5):
            await fetching_3.wait()
        tg.cancel_scope.cancel()  # killed in the middle of delivery 3
    world.service.queue.close()

    restarted = SQLiteChangeQueue(world.service.queue.path)  # a new process opens the same file
    assert (await restarted.counts())["done"] == 2
    def after_the_lease() -> float:  # the killed worker's lease has run out
        return time.time() + LEASE_SECONDS + 1

    after_lease = WebhookWorker(restarted, world.context.client, clock=after_the_lease)
    assert await after_lease.drain() == 3
    changes = await restarted.changes(limit=50)
    assert sorted(c.resource_id for c in changes) == [1, 2, 3, 4, 5]
    assert await restarted.counts() == {"pending": 0, "done": 5, "failed": 0, "changes": 5}
    restarted.close()


async def test_a_deleted_person_is_recorded_as_deleted_without_a_fetch(world: World) -> None:
    await world.deliver(event(9, name="peopleDeleted", ids=[42]))
    await world.service.worker.drain()
    [change] = await world.service.queue.changes()
    assert (change.event, change.person_id, change.summary) == ("peopleDeleted", 42, "deleted")


# --- Inbox Apps ------------------------------------------------------------------------------------

async def test_the_inbox_app_install_reaches_our_endpoint_and_succeeds(world: World) -> None:
    async with Client(world.server(), mode="legacy", cache=None) as client:
        installed = await call(client, "install_inbox_app", {"published_inbox_app_id": 7})
        assert installed["subscription_url"] == PUBLIC + "/inbox-app/subscription"
        assert installed["status"] == "Active" and installed["user_id"] == 0
        blocked = await client.call_tool("post_inbox_message", {
            "inbox_app_id": installed["id"], "conversation_id": "c-1", "message_id": "m-1",
            "message": "Great street, no kids around.", "is_incoming": False, "sender_name": "Agent"})
        assert blocked.is_error and "Fair Housing" in blocked.content[0].text
        posted = await call(client, "post_inbox_message", {
            "inbox_app_id": installed["id"], "conversation_id": "c-1", "message_id": "m-2",
            "message": "The showing is at 10.", "is_incoming": False, "sender_name": "Agent"})
    assert posted["conversation"] == "c-1"
    assert (await world.service.queue.counts())["pending"] == 0  # the test POST stored nothing


async def test_the_inbox_app_install_fails_with_fubs_400_when_our_endpoint_is_down(world: World) -> None:
    async def down(scope: Any, receive: Any, send: Any) -> None:
        raise httpx.ConnectError("endpoint down")

    world.forward.target = down
    async with Client(world.server(), mode="legacy", cache=None) as client:
        result = await client.call_tool("install_inbox_app", {"published_inbox_app_id": 8})
    assert result.is_error and "subscription URL" in result.content[0].text


async def test_inbox_app_events_are_verified_and_stored(world: World) -> None:
    payload = {"eventId": "in-1", "event": "messageCreated", "externalConversationId": "c-9", "personId": 4}
    assert (await world.deliver(payload, path="/inbox-app/subscription", tamper=True)).status_code == 401
    assert (await world.deliver(payload, path="/inbox-app/subscription")).status_code == 200
    await world.service.worker.drain()
    [change] = await world.service.queue.changes()
    assert (change.resource, change.person_id) == ("inboxApp", 4) and "c-9" in change.summary


async def test_the_running_service_processes_deliveries_in_the_background(world: World) -> None:
    async with world.service.running():
        assert (await world.deliver(event(11, ids=[2]))).status_code == 200
        with anyio.fail_after(5):
            while not await world.service.queue.changes():
                await anyio.sleep(0.01)
    [change] = await world.service.queue.changes()
    assert (change.event, change.resource_id, change.person_id) == ("peopleCreated", 2, 2)


async def test_a_failing_delivery_is_kept_and_retried_later(world: World) -> None:
    impatient = make_context(world.app, make_settings(max_retries=0)).client  # FUB down: fail at once
    world.sandbox.faults.inject("status", count=1, status=503, route="GET /people")
    await world.deliver(event(12, ids=[5]))
    async with impatient:
        with anyio.fail_after(30):
            assert await WebhookWorker(world.service.queue, impatient).drain() == 0
    counts = await world.service.queue.counts()
    assert counts["pending"] == 1 and counts["changes"] == 0
    world.sandbox.faults.clear()
    due = await world.service.queue.next_due()
    later = WebhookWorker(world.service.queue, world.context.client, clock=lambda: (due or 0) + 1)
    assert await later.drain() == 1


async def test_a_delivery_failing_on_every_attempt_ends_as_failed_and_is_kept(world: World) -> None:
    impatient = make_context(world.app, make_settings(max_retries=0)).client  # FUB down: fail at once
    world.sandbox.faults.inject("status", count=10, status=503, route="GET /people")
    await world.deliver(event(13, ids=[6]))
    now = [0.0]
    worker = WebhookWorker(world.service.queue, impatient, clock=lambda: now[0], max_attempts=3)
    async with impatient:
        for _ in range(5):
            now[0] += 1000.0
            await worker.drain()
    assert await world.service.queue.counts() == {"pending": 0, "done": 0, "failed": 1, "changes": 0}
    assert [f.count for f in world.sandbox.faults.pending] == [7]  # 3 attempts reached FUB, then none
