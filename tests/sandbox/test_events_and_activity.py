"""Contract tests: POST /events (lead intake and dedupe) and the activity resources."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import SYSTEM_HEADERS, FakeClock

pytestmark = pytest.mark.anyio


def lead(
    first: str = "Nina",
    last: str = "Newlead",
    email: str | None = "nina@example.org",
    phone: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    person: dict[str, Any] = {"firstName": first, "lastName": last}
    if email:
        person["emails"] = [{"value": email}]
    if phone:
        person["phones"] = [{"value": phone}]
    return {"source": "MyWebsite.com", "system": "Tests", "type": "Registration", "person": person, **extra}


async def test_an_event_for_a_new_lead_creates_the_person_with_201_and_returns_the_person(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/events", json=lead(message="Hi"))
    assert response.status_code == 201
    person = response.json()
    assert (
        person["name"] == "Nina Newlead" and person["source"] == "MyWebsite.com" and person["stage"] == "Lead"
    )
    assert "personId" not in person and person["emails"][0]["value"] == "nina@example.org"
    events = (await client.get("/events", params={"personId": person["id"]})).json()["events"]
    assert [e["type"] for e in events] == ["Registration"] and events[0]["message"] == "Hi"


async def test_an_event_matching_an_email_updates_the_existing_person_with_200(
    client: httpx.AsyncClient,
) -> None:
    first = (await client.post("/events", json=lead())).json()
    body = lead(first="Someone", last="Else", email="NINA@example.org", phone="555-555-0123")
    body["person"]["tags"] = ["Buyer"]
    second = await client.post("/events", json=body)
    assert second.status_code == 200
    person = second.json()
    assert person["id"] == first["id"] and person["firstName"] == "Nina"  # names are not overwritten
    assert "Buyer" in person["tags"] and person["phones"][0]["normalized"] == "5555550123"
    assert len((await client.get("/events", params={"personId": first["id"]})).json()["events"]) == 2


async def test_an_event_matches_a_phone_only_together_with_first_and_last_name(
    client: httpx.AsyncClient,
) -> None:
    original = (
        await client.post("/events", json=lead("Pat", "Phone", email=None, phone="(512) 555-0177"))
    ).json()
    same = await client.post("/events", json=lead("pat", "PHONE", email=None, phone="512.555.0177"))
    assert same.status_code == 200 and same.json()["id"] == original["id"]
    relative = await client.post("/events", json=lead("Sam", "Phone", email=None, phone="512-555-0177"))
    assert relative.status_code == 201 and relative.json()["id"] != original["id"]


async def test_an_event_for_an_archived_lead_flow_answers_204_and_stores_nothing(
    client: httpx.AsyncClient, sandbox: Any
) -> None:
    before = (await client.get("/events")).json()["_metadata"]["total"]
    response = await client.post("/events", json=lead(source="Archived Lead Source"))
    assert response.status_code == 204 and response.content == b""
    assert (await client.get("/events")).json()["_metadata"]["total"] == before
    sandbox.archived_sources.add("Old Portal")
    assert (await client.post("/events", json=lead(source="old portal"))).status_code == 204


async def test_an_event_naming_an_unknown_person_id_answers_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/events", json={"source": "X", "type": "General Inquiry", "person": {"id": 999999}}
    )
    assert response.status_code == 404 and response.json()["errorMessage"]
    known = await client.post("/events", json={"source": "X", "type": "General Inquiry", "person": {"id": 1}})
    assert known.status_code == 200 and known.json()["id"] == 1


async def test_inquiry_is_shorthand_for_property_or_general_inquiry(client: httpx.AsyncClient) -> None:
    prop = {
        "street": "1234 High Oak St",
        "city": "Rochester",
        "state": "WA",
        "code": "98579",
        "price": 449000,
    }
    with_property = (await client.post("/events", json=lead(type="Inquiry", property=prop))).json()
    without = (
        await client.post("/events", json=lead("Gene", "Ral", "gene@example.org", type="Inquiry"))
    ).json()
    events = (
        await client.get("/events", params={"personId": f"{with_property['id']},{without['id']}"})
    ).json()
    kinds = {e["personId"]: e for e in events["events"]}
    assert kinds[with_property["id"]]["type"] == "Property Inquiry"
    assert kinds[with_property["id"]]["property"]["code"] == "98579"
    assert kinds[without["id"]]["type"] == "General Inquiry"
    bad = await client.post("/events", json=lead(type="Inquiry", property={"zip": "98579"}))
    assert bad.status_code == 400 and "property.zip" in bad.json()["errorMessage"]
    assert (await client.post("/events", json=lead(type="Walked By"))).status_code == 400


async def test_events_can_be_filtered_by_type_and_property(client: httpx.AsyncClient) -> None:
    page = (
        await client.get("/events", params={"type": "Property Inquiry,Seller Inquiry", "limit": 50})
    ).json()
    assert page["events"] and {e["type"] for e in page["events"]} <= {"Property Inquiry", "Seller Inquiry"}
    assert all(e["property"] for e in page["events"])
    no_property = (await client.get("/events", params={"hasProperty": "false", "limit": 50})).json()["events"]
    assert all(e["property"] is None for e in no_property)


async def test_notes_calls_and_texts_are_logged_and_move_last_activity(
    client: httpx.AsyncClient, system_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    pid = (
        await client.post(
            "/people", json={"firstName": "Act", "lastName": "Ivity", "phones": [{"value": "512-555-0150"}]}
        )
    ).json()["id"]
    clock.advance(60)
    note = await client.post(
        "/notes", json={"personId": pid, "subject": "Hi", "body": "Called", "isHtml": False}
    )
    assert note.status_code == 201 and note.json()["createdBy"] == "Olivia Owner"
    after_note = (await client.get(f"/people/{pid}")).json()
    assert after_note["lastActivity"] == note.json()["created"] != after_note["updated"]
    clock.advance(60)
    call = await client.post(
        "/calls",
        json={
            "personId": pid,
            "phone": "512-555-0150",
            "isIncoming": False,
            "outcome": "Left Message",
            "duration": 30,
            "note": "vm",
        },
    )
    assert call.status_code == 201 and call.json()["isIncoming"] is False
    assert (
        await client.post(
            "/calls", json={"personId": pid, "phone": "1", "isIncoming": True, "outcome": "connected"}
        )
    ).status_code == 400
    clock.advance(60)
    text = await system_client.post(
        "/textMessages",
        json={
            "personId": pid,
            "message": "Hello",
            "toNumber": "5125550150",
            "fromNumber": "5125550111",
            "isIncoming": False,
        },
    )
    assert text.status_code == 201
    assert (await client.get(f"/people/{pid}")).json()["lastActivity"] == text.json()["created"]
    notes = (await client.get("/notes", params={"personId": pid})).json()["notes"]
    assert [n["id"] for n in notes] == [note.json()["id"]]


async def test_text_messages_need_a_filter_and_logging_one_needs_a_registered_system(
    client: httpx.AsyncClient,
) -> None:
    unfiltered = await client.get("/textMessages")
    assert unfiltered.status_code == 400
    assert unfiltered.json()["errorMessage"] == (
        "personId, threadId, phone, toNumber, fromNumber, sharedInboxId, "
        "groupTextId, participants, or id list must be specified"
    )
    unregistered = await client.post(
        "/textMessages", json={"personId": 1, "message": "x", "toNumber": "1", "fromNumber": "2"}
    )
    assert unregistered.status_code == 403
    someone = next(t for t in (await client.get("/calls", params={"limit": 50})).json()["calls"])
    texts = (await client.get("/textMessages", params={"personId": someone["personId"]})).json()
    assert texts["_metadata"]["collection"] == "textmessages"
    assert all(t["personId"] == someone["personId"] for t in texts["textmessages"])


async def test_tasks_are_due_today_overdue_or_upcoming_in_the_account_time_zone(
    client: httpx.AsyncClient,
) -> None:
    today = (await client.get("/tasks", params={"due": "today", "limit": 100})).json()["tasks"]
    overdue = (await client.get("/tasks", params={"due": "overdue", "limit": 100})).json()["tasks"]
    upcoming = (await client.get("/tasks", params={"due": "upcoming", "limit": 100})).json()["tasks"]
    assert today and overdue and upcoming
    day = today[0]["dueDate"]
    assert all(t["dueDate"] == day for t in today)
    assert all(t["dueDate"] < day and not t["isCompleted"] for t in overdue)
    assert all(t["dueDate"] > day for t in upcoming)
    completed = (await client.get("/tasks", params={"isCompleted": "true", "limit": 5})).json()["tasks"]
    assert completed and all(t["isCompleted"] and t["completed"] for t in completed)
    assert (await client.get("/tasks", params={"due": "someday"})).status_code == 400


async def test_tasks_are_created_completed_and_shaped_like_fubs(client: httpx.AsyncClient) -> None:
    missing_assignee = await client.post("/tasks", json={"personId": 1, "name": "Call"})
    assert missing_assignee.status_code == 400
    task = await client.post(
        "/tasks",
        json={
            "personId": 1,
            "assignedUserId": 2,
            "name": "Call back",
            "type": "Call",
            "dueDateTime": "2026-03-11T10:00:00-05:00",
            "remindSecondsBefore": 900,
        },
    )
    assert task.status_code == 201
    created = task.json()
    assert created["AssignedTo"] == "Marcus Reed" and created["dueDate"] == "2026-03-11"
    assert created["dueDateTime"] == "2026-03-11T15:00:00Z" and created["person"]["id"] == 1
    done = (await client.put(f"/tasks/{created['id']}", json={"isCompleted": True})).json()
    assert done["isCompleted"] is True and done["completed"]
    assert (
        await client.post("/tasks", json={"personId": 1, "assignedUserId": 2, "name": "X", "type": "Nap"})
    ).status_code == 400


async def test_appointments_need_start_and_end_and_invitees_are_resolved(client: httpx.AsyncClient) -> None:
    body = {
        "title": "Showing",
        "start": "2026-03-12T15:00:00Z",
        "end": "2026-03-12T16:00:00Z",
        "invitees": [{"userId": 2}, {"personId": 1}],
        "typeId": 1,
    }
    created = await client.post("/appointments", json=body)
    assert created.status_code == 201
    appointment = created.json()
    assert appointment["type"] == "Showing" and appointment["invitees"][0]["name"] == "Marcus Reed"
    assert (
        await client.put(f"/appointments/{appointment['id']}", json={"title": "Moved"})
    ).status_code == 400
    moved = await client.put(f"/appointments/{appointment['id']}", json={**body, "title": "Moved"})
    assert moved.status_code == 200 and moved.json()["title"] == "Moved"
    mine = (await client.get("/appointments", params={"personId": 1})).json()["appointments"]
    assert appointment["id"] in [a["id"] for a in mine]


async def test_deals_use_people_ids_user_ids_stage_id_and_agent_commission(client: httpx.AsyncClient) -> None:
    pipelines = (await client.get("/pipelines")).json()["pipelines"]
    assert {p["name"] for p in pipelines} == {"Buyers", "Sellers"}
    for pipeline in pipelines:
        assert sum(1 for s in pipeline["stages"] if s["closedStage"]) == 1
    buyers = next(p for p in pipelines if p["name"] == "Buyers")
    stage = buyers["stages"][0]
    created = await client.post(
        "/deals",
        json={
            "name": "12 Elm",
            "stageId": stage["id"],
            "peopleIds": [1],
            "userIds": [2],
            "price": 500000,
            "agentCommission": 10500,
            "teamCommission": 4500,
            "projectedCloseDate": "2026-06-01",
        },
    )
    assert created.status_code == 201
    deal = created.json()
    assert deal["pipelineId"] == buyers["id"] and deal["stageId"] == stage["id"]
    assert deal["people"][0]["id"] == 1 and deal["users"] == [{"id": 2, "name": "Marcus Reed"}]
    assert deal["agentCommission"] == 10500
    moved = (await client.put(f"/deals/{deal['id']}", json={"stageId": buyers["stages"][-1]["id"]})).json()
    assert moved["stageName"] == "Closed"
    in_pipeline = (await client.get("/deals", params={"pipelineId": buyers["id"], "limit": 100})).json()[
        "deals"
    ]
    assert in_pipeline and all(d["pipelineId"] == buyers["id"] for d in in_pipeline)


async def test_account_endpoints_describe_the_brokerage(client: httpx.AsyncClient) -> None:
    me = (await client.get("/me")).json()
    assert me["name"] == "Olivia Owner" and me["isOwner"] and me["role"] == "Broker"
    assert me["timeZone"] == "America/Chicago"
    identity = (await client.get("/identity")).json()
    assert identity["account"]["owner"]["name"] == "Olivia Owner" and identity["user"]["id"] == me["id"]
    users = (await client.get("/users")).json()["users"]
    assert sorted(u["role"] for u in users) == ["Agent"] * 4 + ["Broker", "Lender"]
    assert [u["name"] for u in (await client.get("/users", params={"role": "Lender"})).json()["users"]] == [
        "Lena Brooks"
    ]
    stages = [s["name"] for s in (await client.get("/stages", params={"limit": 100})).json()["stages"]]
    assert stages[:2] == ["Lead", "Prospect"] and "Trash" in stages and "Past Client" in stages


async def test_action_plans_can_be_started_and_paused_for_a_person(client: httpx.AsyncClient) -> None:
    plans = (await client.get("/actionPlans")).json()["actionPlans"]
    assert len(plans) == 3
    pid = (await client.post("/people", json={"firstName": "Plan", "lastName": "Ned"})).json()["id"]
    started = await client.post("/actionPlansPeople", json={"personId": pid, "actionPlanId": plans[0]["id"]})
    assert started.status_code == 201 and started.json()["status"] == "Running"
    paused = await client.put(f"/actionPlansPeople/{started.json()['id']}", json={"status": "Paused"})
    assert paused.json()["status"] == "Paused"
    listed = (await client.get("/actionPlansPeople", params={"personId": pid})).json()["actionPlansPeople"]
    assert [r["actionPlanId"] for r in listed] == [plans[0]["id"]]


async def test_person_rollups_follow_calls_texts_and_events(client: httpx.AsyncClient) -> None:
    fields = {"fields": "id,callsIncoming,callsOutgoing,lastIncomingCall,textsReceived,lastReceivedText,"
                        "propertiesViewed,lastLeadActivity"}
    before = (await client.get("/people/5", params=fields)).json()
    assert set(before) == {"id", *fields["fields"].split(",")[1:]}  # named rollups only, nothing else
    call = (await client.post("/calls", json={"personId": 5, "phone": "5125550100", "isIncoming": True,
                                               "duration": 60})).json()
    text = (await client.post("/textMessages", json={"personId": 5, "message": "hi", "isIncoming": True,
                                                     "toNumber": "5125550101", "fromNumber": "5125550100"},
                              headers=SYSTEM_HEADERS)).json()
    after = (await client.get("/people/5", params=fields)).json()
    assert after["callsIncoming"] == before["callsIncoming"] + 1 and after["callsOutgoing"] == before["callsOutgoing"]
    assert after["lastIncomingCall"] == call["created"] and after["lastReceivedText"] == text["created"]
    assert after["textsReceived"] == before["textsReceived"] + 1
    assert "callsIncoming" not in (await client.get("/people/5")).json()  # not in the default fields
    assert "propertiesViewed" in (await client.get("/people/5", params={"fields": "allFields"})).json()
