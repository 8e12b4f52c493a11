"""Contract tests: webhook registration and signed deliveries, Inbox App installation and messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

import anyio
import httpx
import pytest

from fub_mcp.sandbox import SANDBOX_AGENT_API_KEY, SANDBOX_SYSTEM_KEY
from tests.sandbox.conftest import SYSTEM_HEADERS, Receiver, client_for

pytestmark = pytest.mark.anyio

HOOK = "https://receiver.example/fub"


def expected_signature(body: bytes) -> str:
    return hmac.new(SANDBOX_SYSTEM_KEY.encode(), base64.b64encode(body), hashlib.sha256).hexdigest()


async def test_webhooks_need_the_owner_key_and_a_registered_system(
    app: Any, system_client: httpx.AsyncClient
) -> None:
    body = {"event": "peopleCreated", "url": HOOK}
    async with client_for(app) as no_system:
        assert (await no_system.post("/webhooks", json=body)).status_code == 403
        assert (
            await no_system.post(
                "/webhooks", json=body, headers={"X-System": "fub-mcp-sandbox", "X-System-Key": "wrong"}
            )
        ).status_code == 403
    async with client_for(app, SANDBOX_AGENT_API_KEY, headers=SYSTEM_HEADERS) as agent:
        assert (await agent.post("/webhooks", json=body)).status_code == 403
        assert (await agent.get("/webhooks")).status_code == 403
    created = await system_client.post("/webhooks", json=body)
    assert created.status_code == 201
    hook = created.json()
    assert hook == {"id": hook["id"], "status": "Active", "event": "peopleCreated", "url": HOOK}
    listed = (await system_client.get("/webhooks")).json()
    assert listed["_metadata"]["collection"] == "webhooks" and listed["webhooks"] == [hook]
    disabled = (await system_client.put(f"/webhooks/{hook['id']}", json={"status": "Disabled"})).json()
    assert disabled["status"] == "Disabled"
    assert (await system_client.delete(f"/webhooks/{hook['id']}")).status_code == 204
    assert (await system_client.get(f"/webhooks/{hook['id']}")).status_code == 404


async def test_a_system_may_register_at_most_two_webhooks_per_event(system_client: httpx.AsyncClient) -> None:
    for n in range(2):
        assert (
            await system_client.post("/webhooks", json={"event": "notesCreated", "url": f"{HOOK}/{n}"})
        ).status_code == 201
    third = await system_client.post("/webhooks", json={"event": "notesCreated", "url": f"{HOOK}/3"})
    assert third.status_code == 400 and "2" in third.json()["errorMessage"]
    assert (
        await system_client.post("/webhooks", json={"event": "callsCreated", "url": HOOK})
    ).status_code == 201
    assert (
        await system_client.post("/webhooks", json={"event": "noSuchEvent", "url": HOOK})
    ).status_code == 400


async def test_webhook_urls_must_be_https_except_on_loopback(system_client: httpx.AsyncClient) -> None:
    plain = await system_client.post(
        "/webhooks", json={"event": "peopleCreated", "url": "http://example.com/x"}
    )
    assert plain.status_code == 400 and "https" in plain.json()["errorMessage"]
    for url in ("http://127.0.0.1:9999/hook", "http://localhost/hook"):
        assert (
            await system_client.post("/webhooks", json={"event": "peopleUpdated", "url": url})
        ).status_code == 201


async def test_a_change_is_delivered_signed_to_the_receiver(
    system_client: httpx.AsyncClient, receiver: Receiver, sandbox: Any
) -> None:
    await system_client.post("/webhooks", json={"event": "peopleCreated", "url": HOOK})
    person = (await system_client.post("/people", json={"firstName": "Web", "lastName": "Hook"})).json()
    await sandbox.join_deliveries()
    [call] = receiver.calls
    payload = call["json"]
    assert set(payload) == {"eventId", "eventCreated", "event", "resourceIds", "uri"}
    assert payload["event"] == "peopleCreated" and payload["resourceIds"] == [person["id"]]
    assert payload["uri"] == f"http://sandbox/v1/people?id={person['id']}"
    assert uuid.UUID(payload["eventId"]).version == 4
    assert call["headers"]["fub-signature"] == expected_signature(call["body"])
    fetched = await system_client.get(payload["uri"].removeprefix("http://sandbox/v1"))
    assert [p["id"] for p in fetched.json()["people"]] == [person["id"]]


async def test_failed_deliveries_are_retried_until_a_2xx(
    system_client: httpx.AsyncClient, receiver: Receiver, sandbox: Any
) -> None:
    receiver.statuses = [500, 503]
    await system_client.post("/webhooks", json={"event": "notesCreated", "url": HOOK})
    await system_client.post("/notes", json={"personId": 1, "body": "retry me"})
    await sandbox.join_deliveries()
    assert len(receiver.calls) == 3
    assert len({c["json"]["eventId"] for c in receiver.calls}) == 1  # the same event, re-sent
    assert [d["status"] for d in sandbox.deliveries] == [500, 503, 200]


async def test_deliveries_give_up_after_the_last_retry(
    system_client: httpx.AsyncClient, receiver: Receiver, sandbox: Any
) -> None:
    receiver.statuses = [500] * 10
    await system_client.post("/webhooks", json={"event": "tasksCreated", "url": HOOK})
    await system_client.post("/tasks", json={"personId": 1, "assignedUserId": 2, "name": "T"})
    await sandbox.join_deliveries()
    assert len(receiver.calls) == 4  # the first attempt and the three configured retries


async def test_stage_and_tag_changes_carry_data(
    system_client: httpx.AsyncClient, receiver: Receiver, sandbox: Any
) -> None:
    for event in ("peopleStageUpdated", "peopleTagsCreated", "peopleUpdated"):
        await system_client.post("/webhooks", json={"event": event, "url": f"{HOOK}/{event}"})
    pid = (
        await system_client.post(
            "/people", json={"firstName": "Stage", "lastName": "Hand", "tags": ["Buyer"]}
        )
    ).json()["id"]
    await system_client.put(
        f"/people/{pid}", params={"mergeTags": "true"}, json={"stage": "Prospect", "tags": ["VIP"]}
    )
    await sandbox.join_deliveries()
    by_event = {c["json"]["event"]: c["json"] for c in receiver.calls}
    assert by_event["peopleStageUpdated"]["data"] == {"stage": "Prospect"}
    assert by_event["peopleTagsCreated"]["data"] == {"tags": ["VIP"]}
    assert by_event["peopleUpdated"]["resourceIds"] == [pid] and "data" not in by_event["peopleUpdated"]


async def test_lead_intake_emits_people_and_events_webhooks(
    system_client: httpx.AsyncClient, receiver: Receiver, sandbox: Any
) -> None:
    for event in ("peopleCreated", "eventsCreated", "dealsCreated", "callsCreated", "appointmentsCreated"):
        await system_client.post("/webhooks", json={"event": event, "url": HOOK})
    person = (
        await system_client.post(
            "/events",
            json={"source": "S", "type": "Registration", "person": {"emails": [{"value": "w@example.org"}]}},
        )
    ).json()
    await system_client.post("/deals", json={"name": "D", "stageId": 1, "peopleIds": [person["id"]]})
    await system_client.post(
        "/calls", json={"personId": person["id"], "phone": "5125550100", "isIncoming": True}
    )
    await system_client.post(
        "/appointments", json={"title": "A", "start": "2026-03-12T15:00:00Z", "end": "2026-03-12T16:00:00Z"}
    )
    await sandbox.join_deliveries()
    events = sorted(c["json"]["event"] for c in receiver.calls)
    assert events == ["appointmentsCreated", "callsCreated", "dealsCreated", "eventsCreated", "peopleCreated"]
    uris = {c["json"]["event"]: c["json"]["uri"] for c in receiver.calls}
    assert "/v1/events?id=" in uris["eventsCreated"] and "/v1/deals?id=" in uris["dealsCreated"]


async def test_deliveries_also_run_inside_an_explicit_running_scope(
    system_client: httpx.AsyncClient, receiver: Receiver, sandbox: Any
) -> None:
    async with sandbox.running():
        await system_client.post("/webhooks", json={"event": "notesCreated", "url": HOOK})
        await system_client.post("/notes", json={"personId": 1, "body": "scoped"})
        with anyio.fail_after(5):
            while not receiver.calls:
                await anyio.sleep(0.005)
    assert receiver.calls[0]["json"]["event"] == "notesCreated"


# --- inbox apps -------------------------------------------------------------------------------------

SUBSCRIPTION = "https://inbox-app.example/fub"


async def test_installing_an_inbox_app_posts_a_test_to_the_subscription_url(
    system_client: httpx.AsyncClient, receiver: Receiver
) -> None:
    response = await system_client.post(
        "/inboxApps/install", json={"publishedInboxAppId": 7, "userId": 0, "subscriptionUrl": SUBSCRIPTION}
    )
    assert response.status_code == 201
    app = response.json()
    assert app["id"] and app["status"] == "Active" and app["subscriptionUrl"] == SUBSCRIPTION
    assert [c["json"] for c in receiver.calls] == [{"test": 1}]
    installed = (await system_client.get("/inboxApps/installedApps/7")).json()
    assert [a["id"] for a in installed["installedApps"]] == [app["id"]]


async def test_an_inbox_app_install_fails_unless_the_subscription_url_answers_200(
    system_client: httpx.AsyncClient, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.statuses = [204]
    refused = await system_client.post(
        "/inboxApps/install", json={"publishedInboxAppId": 8, "userId": 0, "subscriptionUrl": SUBSCRIPTION}
    )
    assert refused.status_code == 400 and "200" in refused.json()["errorMessage"]
    assert (await system_client.get("/inboxApps/installedApps/8")).json()["installedApps"] == []
    unregistered = await client.post(
        "/inboxApps/install", json={"publishedInboxAppId": 8, "userId": 0, "subscriptionUrl": SUBSCRIPTION}
    )
    assert unregistered.status_code == 403
    assert (await client.get("/inboxApps/installedApps/8")).status_code == 404


async def test_an_unreachable_subscription_url_fails_the_install(app: Any) -> None:
    async def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app.state.sandbox.outbound_transport = httpx.MockTransport(unreachable)
    async with client_for(app, headers=SYSTEM_HEADERS) as client:
        response = await client.post(
            "/inboxApps/install",
            json={"publishedInboxAppId": 9, "userId": 0, "subscriptionUrl": SUBSCRIPTION},
        )
    assert response.status_code == 400 and "reached" in response.json()["errorMessage"]


async def test_reinstalling_a_deactivated_inbox_app_reactivates_the_same_id(
    system_client: httpx.AsyncClient,
) -> None:
    body = {"publishedInboxAppId": 11, "userId": 2, "subscriptionUrl": SUBSCRIPTION}
    first = (await system_client.post("/inboxApps/install", json=body)).json()
    assert (await system_client.delete(f"/inboxApps/{first['id']}")).status_code == 204
    assert (await system_client.post(f"/inboxApps/{first['id']}/message", json={})).status_code == 404
    again = await system_client.post("/inboxApps/install", json=body)
    assert again.json()["id"] == first["id"] and again.json()["status"] == "Active"


async def test_inbox_app_messages_are_validated_and_linked_to_people(
    system_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    app = (
        await system_client.post(
            "/inboxApps/install",
            json={"publishedInboxAppId": 12, "userId": 0, "subscriptionUrl": SUBSCRIPTION},
        )
    ).json()
    missing = await system_client.post(f"/inboxApps/{app['id']}/message", json={"message": "hi"})
    assert missing.status_code == 400 and "externalConversationId" in missing.json()["errorMessage"]
    person = next(
        p for p in (await client.get("/people", params={"limit": 50})).json()["people"] if p["phones"]
    )
    message = await system_client.post(
        f"/inboxApps/{app['id']}/message",
        json={
            "externalConversationId": "c-1",
            "externalMessageId": "m-1",
            "message": "Is it available?",
            "isIncoming": True,
            "sender": {"name": "Lead", "phone": person["phones"][0]["value"]},
        },
    )
    assert message.status_code == 201 and message.json()["personId"] == person["id"]
    duplicate = await system_client.post(
        f"/inboxApps/{app['id']}/message",
        json={
            "externalConversationId": "c-1",
            "externalMessageId": "m-1",
            "message": "again",
            "isIncoming": True,
            "sender": "x",
        },
    )
    assert duplicate.status_code == 400
    note = await system_client.post(
        f"/inboxApps/{app['id']}/note", json={"externalConversationId": "c-1", "body": "Lead prefers texts"}
    )
    assert note.status_code == 201 and note.json()["personId"] == person["id"]
    notes = (await client.get("/notes", params={"personId": person["id"], "limit": 100})).json()["notes"]
    assert "Lead prefers texts" in [n["body"] for n in notes]
    conversation = await system_client.put(f"/inboxApps/{app['id']}/conversations/c-1", json={"isRead": True})
    assert conversation.status_code == 200 and conversation.json()["isRead"] is True
