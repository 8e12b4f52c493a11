"""Contract tests: auth, the list envelope and pagination, errors, and people."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from fub_mcp.sandbox import SANDBOX_AGENT_API_KEY
from tests.sandbox.conftest import client_for

pytestmark = pytest.mark.anyio


async def test_a_missing_or_wrong_api_key_is_refused_with_401(app: Any) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox/v1"
    ) as anonymous:
        missing = await anonymous.get("/people")
        wrong = await anonymous.get("/people", auth=("not-a-key", ""))
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["errorMessage"]
        assert response.headers["X-RateLimit-Context"] == "global"


async def test_any_password_is_accepted_with_the_right_key(app: Any) -> None:
    async with client_for(app) as client:
        response = await client.get("/me", auth=("sandbox-owner-key", "whatever"))
    assert response.status_code == 200 and response.json()["name"] == "Olivia Owner"


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/people", "people"),
        ("/events", "events"),
        ("/notes", "notes"),
        ("/tasks", "tasks"),
        ("/calls", "calls"),
        ("/textMessages?personId=1", "textmessages"),
        ("/appointments", "appointments"),
        ("/appointmentTypes", "appointmenttypes"),
        ("/deals", "deals"),
        ("/pipelines", "pipelines"),
        ("/stages", "stages"),
        ("/users", "users"),
        ("/customFields", "customfields"),
        ("/smartLists", "smartlists"),
        ("/actionPlans", "actionPlans"),
        ("/actionPlansPeople", "actionPlansPeople"),
    ],
)
async def test_lists_use_fubs_envelope_and_exact_collection_key_casing(
    client: httpx.AsyncClient, path: str, key: str
) -> None:
    body = (await client.get(path)).json()
    assert set(body) == {"_metadata", key}
    meta = body["_metadata"]
    assert meta["collection"] == key
    assert {"collection", "offset", "limit", "total"} <= set(meta)
    assert isinstance(body[key], list)


async def test_the_default_page_is_ten_newest_first_and_limit_is_capped_at_100(
    client: httpx.AsyncClient,
) -> None:
    default = (await client.get("/people")).json()
    ids = [p["id"] for p in default["people"]]
    assert len(ids) == 10 and ids == sorted(ids, reverse=True)
    assert default["_metadata"]["limit"] == 10 and default["_metadata"]["offset"] == 0
    big = (await client.get("/people", params={"limit": 500})).json()
    assert big["_metadata"]["limit"] == 100 and len(big["people"]) == 100


async def test_next_cursors_walk_a_collection_to_the_end_without_gaps(client: httpx.AsyncClient) -> None:
    first = (await client.get("/people", params={"limit": 100, "includeTrash": "true"})).json()
    total = first["_metadata"]["total"]
    seen = [p["id"] for p in first["people"]]
    meta = first["_metadata"]
    cursor = meta["next"]
    assert (
        json.loads(base64.urlsafe_b64decode(cursor + "=="))["sinceId"] == seen[-1]
    )  # an opaque keyset cursor
    assert (
        meta["nextLink"].startswith("http://sandbox/v1/people?") and "includeTrash=true" in meta["nextLink"]
    )
    while "next" in meta:
        page = (await client.get(meta["nextLink"].removeprefix("http://sandbox/v1"))).json()
        seen += [p["id"] for p in page["people"]]
        meta = page["_metadata"]
    assert "nextLink" not in meta
    assert len(seen) == len(set(seen)) == total == 300
    assert seen == sorted(seen, reverse=True)


async def test_offset_paging_works_but_a_deep_offset_is_refused_with_a_hint_to_use_next(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/people", params={"offset": 10, "limit": 5})).json()
    assert page["_metadata"]["offset"] == 10 and len(page["people"]) == 5
    deep = await client.get("/people", params={"offset": 2001})
    assert deep.status_code == 400 and "next" in deep.json()["errorMessage"]
    bad = await client.get("/people", params={"next": "not-a-cursor"})
    assert bad.status_code == 400


async def test_unknown_body_fields_are_refused_with_fubs_message(client: httpx.AsyncClient) -> None:
    response = await client.post("/people", json={"firstName": "Ann", "wait_for_previous": True, "zip": "1"})
    assert response.status_code == 400
    assert response.json() == {"errorMessage": "Invalid fields in the request body: wait_for_previous, zip"}
    deal = await client.post(
        "/deals", json={"name": "X", "stageId": 1, "agentCommision": 5, "teamComission": 1}
    )
    assert deal.json()["errorMessage"] == "Invalid fields in the request body: agentCommision, teamComission"


async def test_an_unknown_collection_or_record_answers_404_with_an_error_message(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get("/peoplez")
    assert unknown.status_code == 404
    assert unknown.json() == {"errorMessage": "Collection name 'peoplez' in the URL is not valid"}
    missing = await client.get("/people/987654")
    assert missing.status_code == 404 and "does not exist" in missing.json()["errorMessage"]
    assert (await client.patch("/people/1", json={})).status_code == 405


async def test_a_person_has_fubs_shape_with_0_or_1_flags_and_code_for_postal_codes(
    client: httpx.AsyncClient,
) -> None:
    people = (await client.get("/people", params={"limit": 100})).json()["people"]
    person = next(p for p in people if p["emails"] and p["phones"] and p["addresses"])
    assert person["contacted"] in (0, 1) and not isinstance(person["contacted"], bool)
    assert person["emails"][0]["isPrimary"] == 1 and person["phones"][0]["isPrimary"] == 1
    assert person["phones"][0]["normalized"].isdigit()
    assert "code" in person["addresses"][0] and "zip" not in person["addresses"][0]
    stages = {
        s["name"]: s["id"] for s in (await client.get("/stages", params={"limit": 100})).json()["stages"]
    }
    assert person["stageId"] == stages[person["stage"]]
    users = {u["id"]: u["name"] for u in (await client.get("/users")).json()["users"]}
    assert person["assignedTo"] == users.get(person["assignedUserId"])


async def test_put_overwrites_tags_emails_and_phones_but_merge_tags_adds(client: httpx.AsyncClient) -> None:
    created = (
        await client.post(
            "/people",
            json={
                "firstName": "Tess",
                "lastName": "Tagg",
                "tags": ["A", "B"],
                "emails": [{"value": "tess@example.org"}, {"value": "tess2@example.org"}],
                "phones": [{"value": "(512) 555-0190"}],
            },
        )
    ).json()
    pid = created["id"]
    replaced = (
        await client.put(
            f"/people/{pid}",
            json={
                "tags": ["C"],
                "emails": [{"value": "new@example.org"}],
                "phones": [{"value": "737-555-0191"}],
            },
        )
    ).json()
    assert replaced["tags"] == ["C"]
    assert [e["value"] for e in replaced["emails"]] == ["new@example.org"]
    assert [p["normalized"] for p in replaced["phones"]] == ["7375550191"]
    merged = (
        await client.put(f"/people/{pid}", params={"mergeTags": "true"}, json={"tags": ["d", "c"]})
    ).json()
    assert merged["tags"] == ["C", "d"]
    unchanged_source = await client.put(f"/people/{pid}", json={"source": "Zillow"})
    assert unchanged_source.status_code == 400  # source is only settable at creation


async def test_trash_is_hidden_unless_include_trash(client: httpx.AsyncClient) -> None:
    visible = (await client.get("/people", params={"limit": 100, "fields": "id,stage"})).json()
    everyone = (await client.get("/people", params={"limit": 100, "includeTrash": "true"})).json()
    trash = (await client.get("/people", params={"stage": "Trash", "limit": 100})).json()
    trash_count = trash["_metadata"]["total"]
    assert trash_count > 0
    assert visible["_metadata"]["total"] + trash_count == everyone["_metadata"]["total"] == 300
    assert all(p["stage"] != "Trash" for p in visible["people"])


async def test_custom_fields_appear_only_with_all_fields_or_all_custom(client: httpx.AsyncClient) -> None:
    fields = (await client.get("/customFields")).json()["customfields"]
    names = {f["name"] for f in fields}
    assert {"customClosingDate", "customLeadGrade", "customLeadScore"} <= names
    assert {f["type"] for f in fields} >= {"text", "date", "dropdown"}
    plain = (await client.get("/people/1")).json()
    assert not any(k.startswith("custom") for k in plain)
    full = (await client.get("/people/1", params={"fields": "allFields"})).json()
    assert names <= set(full) and "emails" in full
    custom_only = (await client.get("/people/1", params={"fields": "allCustom"})).json()
    assert set(custom_only) == names | {"id"}
    some = (await client.get("/people/1", params={"fields": "name,customLeadGrade"})).json()
    assert set(some) == {"id", "name", "customLeadGrade"}


async def test_custom_field_values_are_validated_and_null_clears(client: httpx.AsyncClient) -> None:
    pid = (await client.post("/people", json={"firstName": "Cu", "lastName": "Stom"})).json()["id"]
    ok = await client.put(
        f"/people/{pid}",
        params={"fields": "allFields"},
        json={"customLeadGrade": "A", "customClosingDate": "2026-05-01", "customLeadScore": 87},
    )
    assert ok.status_code == 200
    person = (await client.get(f"/people/{pid}", params={"fields": "allCustom"})).json()
    assert person["customLeadGrade"] == "A" and person["customLeadScore"] == 87
    assert (await client.put(f"/people/{pid}", json={"customLeadGrade": "Z"})).status_code == 400
    assert (await client.put(f"/people/{pid}", json={"customClosingDate": "May 1"})).status_code == 400
    assert (await client.put(f"/people/{pid}", json={"customNoSuchField": "x"})).status_code == 400
    await client.put(f"/people/{pid}", json={"customLeadGrade": None})
    assert (await client.get(f"/people/{pid}", params={"fields": "allCustom"})).json()[
        "customLeadGrade"
    ] is None


async def test_people_filters_match_fubs_parameters(client: httpx.AsyncClient) -> None:
    everyone = (await client.get("/people", params={"limit": 100, "includeTrash": "true"})).json()["people"]
    someone = next(p for p in everyone if p["emails"] and p["phones"])

    async def ids(**params: Any) -> set[int]:
        body = (await client.get("/people", params={"limit": 100, "includeTrash": "true", **params})).json()
        return {p["id"] for p in body["people"]}

    assert someone["id"] in await ids(email=someone["emails"][0]["value"].upper())
    assert someone["id"] in await ids(phone=someone["phones"][0]["normalized"])
    assert someone["id"] in await ids(name=someone["lastName"][:4].lower())
    tagged = await ids(tags="Investor,Luxury")
    assert tagged and all({"Investor", "Luxury"} & set(p["tags"]) for p in everyone if p["id"] in tagged)
    zillow = await ids(source="zillow")
    assert zillow and all(p["source"] == "Zillow" for p in everyone if p["id"] in zillow)
    marcus = await ids(assignedUserId=2)
    assert marcus and all(p["assignedUserId"] == 2 for p in everyone if p["id"] in marcus)
    assert await ids(assignedTo="Marcus Reed") == marcus
    assert await ids(stage="No Such Stage") == set()


async def test_smart_list_id_applies_the_lists_stored_filter(client: httpx.AsyncClient) -> None:
    lists = (await client.get("/smartLists")).json()["smartlists"]
    hot = next(s for s in lists if s["name"] == "Hot Leads")
    page = (await client.get("/people", params={"smartListId": hot["id"], "limit": 100})).json()
    assert page["people"] and all("Hot Lead" in p["tags"] for p in page["people"])
    assert (await client.get("/people", params={"smartListId": 999})).status_code == 400


async def test_sorting_people_and_cursors_keep_the_sort(client: httpx.AsyncClient) -> None:
    first = (await client.get("/people", params={"sort": "name", "limit": 50})).json()
    second = (await client.get("/people", params={"next": first["_metadata"]["next"], "limit": 50})).json()
    names = [p["name"].lower() for p in first["people"] + second["people"]]
    assert names == sorted(names)
    by_price = (await client.get("/people", params={"sort": "-price", "limit": 20})).json()["people"]
    prices = [p["price"] for p in by_price]
    assert prices == sorted(prices, reverse=True)
    assert (await client.get("/people", params={"sort": "favouriteColour"})).status_code == 400


async def test_post_people_deduplicate_returns_the_existing_person_unchanged(
    client: httpx.AsyncClient,
) -> None:
    body = {"firstName": "Dee", "lastName": "Dupe", "emails": [{"value": "dee.dupe@example.org"}]}
    created = await client.post("/people", params={"deduplicate": "true"}, json=body)
    assert created.status_code == 201
    again = await client.post(
        "/people",
        params={"deduplicate": "true"},
        json={**body, "firstName": "Changed", "emails": [{"value": "DEE.DUPE@example.org"}]},
    )
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert again.json()["firstName"] == "Dee"
    plain = await client.post("/people", json=body)  # without deduplicate FUB creates a duplicate
    assert plain.status_code == 201 and plain.json()["id"] != created.json()["id"]


async def test_check_duplicate_says_how_a_person_matched(client: httpx.AsyncClient) -> None:
    person = next(
        p
        for p in (await client.get("/people", params={"limit": 50})).json()["people"]
        if p["emails"] and p["phones"]
    )
    by_email = (
        await client.get("/people/checkDuplicate", params={"email": person["emails"][0]["value"]})
    ).json()
    assert by_email == {"found": True, "matchedBy": "email", "assignedTo": person["assignedTo"]}
    by_phone = (
        await client.get("/people/checkDuplicate", params={"phone": person["phones"][0]["value"]})
    ).json()
    assert by_phone["found"] and by_phone["matchedBy"] == "phone"
    nobody = (await client.get("/people/checkDuplicate", params={"email": "nobody@nowhere.example"})).json()
    assert nobody["found"] is False
    assert (await client.get("/people/checkDuplicate")).status_code == 400


async def test_an_agent_key_sees_only_the_agents_people(app: Any) -> None:
    async with client_for(app, SANDBOX_AGENT_API_KEY) as agent, client_for(app) as owner:
        me = (await agent.get("/me")).json()
        mine = (await agent.get("/people", params={"limit": 100})).json()
        assert mine["people"] and all(
            p["assignedUserId"] == me["id"] or any(c["id"] == me["id"] for c in p["collaborators"])
            for p in mine["people"]
        )
        other = (await owner.get("/people", params={"assignedUserId": 3, "limit": 1})).json()["people"][0]
        assert (await agent.get(f"/people/{other['id']}")).status_code == 404
        assert mine["_metadata"]["total"] < (await owner.get("/people")).json()["_metadata"]["total"]


async def test_delete_person_removes_them(client: httpx.AsyncClient) -> None:
    pid = (await client.post("/people", json={"firstName": "Gone", "lastName": "Soon"})).json()["id"]
    assert (await client.delete(f"/people/{pid}")).status_code == 204
    assert (await client.get(f"/people/{pid}")).status_code == 404


async def test_a_contact_created_with_an_agent_key_belongs_to_that_agent(app: Any) -> None:
    async with client_for(app, SANDBOX_AGENT_API_KEY) as agent:
        created = await agent.post("/people", json={"firstName": "Agent", "lastName": "Own"})
        assert created.json()["assignedTo"] == "Marcus Reed"
        assert (await agent.get(f"/people/{created.json()['id']}")).status_code == 200


async def test_deal_custom_fields_are_listed_and_type_checked_on_deals(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/dealCustomFields")).json()
    assert listed["_metadata"]["collection"] == "dealCustomfields" and "next" not in listed["_metadata"]
    names = {f["name"]: f for f in listed["dealCustomfields"]}
    assert names["customClosePrice"]["type"] == "number" and "FHA" in names["customFinancing"]["choices"]
    created = await client.post("/deals", json={"name": "12 Elm", "stageId": 1, "customClosePrice": 410000})
    assert created.status_code == 201 and created.json()["customClosePrice"] == 410000
    wrong = await client.put(f"/deals/{created.json()['id']}", json={"customFinancing": "Barter"})
    assert wrong.status_code == 400 and "customFinancing" in wrong.json()["errorMessage"]
    unknown = await client.put(f"/deals/{created.json()['id']}", json={"customNope": 1})
    assert unknown.status_code == 400 and "Invalid fields" in unknown.json()["errorMessage"]
