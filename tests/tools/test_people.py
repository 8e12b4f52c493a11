"""People tools against the sandbox, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.tools.conftest import call, error_text, requests_seen

pytestmark = pytest.mark.anyio


async def test_search_people_returns_a_lean_page_with_a_working_cursor(client: Client) -> None:
    first = await call(client, "search_people", {"limit": 5})
    assert len(first["items"]) == 5 and first["has_more"] and first["total"] > 5
    assert set(first["items"][0]) <= {
        "id", "name", "stage", "source", "assigned_to", "email", "phone", "tags", "price", "created", "last_activity"
    }
    second = await call(client, "search_people", {"cursor": first["next_cursor"]})
    assert len(second["items"]) == 5
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}


async def test_search_people_text_summary_is_short_and_data_is_structured(client: Client) -> None:
    result = await client.call_tool("search_people", {"limit": 25})
    text = result.content[0].text
    assert text.startswith("25 of ") and len(text) < 200


async def test_search_people_routes_an_email_query_to_the_email_filter(client: Client, sandbox_app: Any) -> None:
    someone = next(p for p in (await call(client, "search_people", {"limit": 20}))["items"] if p.get("email"))
    found = await call(client, "search_people", {"query": someone["email"]})
    assert someone["id"] in [p["id"] for p in found["items"]]
    assert requests_seen(sandbox_app, "GET", "/v1/people")[-1]["query"]["email"] == someone["email"]


async def test_an_unknown_stage_lists_the_valid_stages(client: Client) -> None:
    text = await error_text(client, "search_people", {"stage": "Nonexistent Stage"})
    assert "no person stage matches" in text and "Lead" in text


async def test_get_person_full_names_custom_fields_by_label(client: Client) -> None:
    someone = (await call(client, "search_people", {"limit": 1}))["items"][0]
    person = await call(client, "get_person", {"person_id": someone["id"], "detail": "full"})
    assert person["id"] == someone["id"]
    assert all(not key.startswith("custom") for key in person.get("custom_fields", {}))


async def test_get_person_that_does_not_exist_says_so(client: Client) -> None:
    text = await error_text(client, "get_person", {"person_id": 987654})
    assert "person 987654 not found" in text


async def test_create_person_sends_fub_field_names_and_dedupes(client: Client, sandbox_app: Any) -> None:
    args = {
        "first_name": "Zed",
        "last_name": "Quill",
        "emails": ["zed.quill@example.org"],
        "phones": ["(555) 010-7788"],
        "tags": ["Buyer"],
        "assigned_to": "Olivia Owner",
    }
    created = await call(client, "create_person", args)
    assert created["outcome"] == "created" and created["person"]["name"] == "Zed Quill"
    sent = requests_seen(sandbox_app, "POST", "/v1/people")[-1]
    assert sent["json"]["firstName"] == "Zed" and sent["json"]["emails"] == [{"value": "zed.quill@example.org"}]
    assert isinstance(sent["json"]["assignedUserId"], int)
    again = await call(client, "create_person", args)
    assert again["outcome"] == "found_existing" and again["person"]["id"] == created["person"]["id"]


async def test_update_person_adds_and_removes_tags_without_losing_the_others(client: Client, sandbox_app: Any) -> None:
    created = await call(client, "create_person", {"first_name": "Tag", "last_name": "Keeper", "tags": ["A", "B"]})
    pid = created["person"]["id"]
    added = await call(client, "update_person", {"person_id": pid, "add_tags": ["C"]})
    assert sorted(added["person"]["tags"]) == ["A", "B", "C"]
    assert requests_seen(sandbox_app, "PUT", f"/v1/people/{pid}")[-1]["query"].get("mergeTags") == "true"
    removed = await call(client, "update_person", {"person_id": pid, "remove_tags": ["a"]})
    assert sorted(removed["person"]["tags"]) == ["B", "C"]


async def test_update_person_refuses_replace_and_add_tags_together(client: Client) -> None:
    text = await error_text(client, "update_person", {"person_id": 1, "tags": ["X"], "add_tags": ["Y"]})
    assert "either tags" in text


async def test_check_duplicate_finds_an_existing_email(client: Client) -> None:
    someone = next(p for p in (await call(client, "search_people", {"limit": 20}))["items"] if p.get("email"))
    check = await call(client, "check_duplicate", {"email": someone["email"]})
    assert check["found"] and check["matched_by"] == "email"
    assert someone["id"] in [m["id"] for m in check["matches"]]


async def test_a_tampered_cursor_is_a_clear_input_error_and_reaches_no_one(client: Client, sandbox_app: Any) -> None:
    before = len(requests_seen(sandbox_app, "GET", "/v1/people"))
    text = await error_text(client, "search_people", {"cursor": "not-a-cursor"})
    assert text.endswith("invalid cursor: pass next_cursor exactly as a previous page returned it, or omit it")
    assert len(requests_seen(sandbox_app, "GET", "/v1/people")) == before
