"""The leads toolset (log_event, FUB's lead intake) against the sandbox, in both protocol eras."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client

from fub_mcp.tools import Toolset, leads
from tests.tools.conftest import requests_seen
from tests.tools.test_people import call, error_text

pytestmark = pytest.mark.anyio

JANE = {
    "first_name": "Jane",
    "last_name": "Rivera",
    "emails": ["jane.rivera@example.org"],
    "phones": ["512-555-0199"],
}


def hint_table(toolset: Toolset) -> dict[str, tuple[bool | None, ...]]:
    """Each tool's (read-only, destructive, idempotent, open-world) hints."""
    return {
        t.name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
        for t in toolset.tools
        for a in [t.annotations]
    }


def test_log_event_is_an_open_world_write_that_may_overwrite_fields() -> None:
    assert hint_table(leads.TOOLSET) == {"log_event": (False, True, False, True)}


async def test_a_new_lead_is_sent_with_fub_field_names(client: Client, sandbox_app: Any) -> None:
    result = await call(client, "log_event", {
        "type": "Inquiry",
        "source": "MyWebsite.com",
        "message": "Is 12 Oak St still available?",
        "person": {**JANE, "tags": ["Buyer"], "custom_fields": {"Preferred Neighborhood": "Mueller"}},
        "property": {"street": "12 Oak St", "city": "Austin", "state": "TX", "code": "78701",
                     "mls_number": "MLS-1", "price": 450000, "for_rent": False, "bedrooms": 3},
    })
    assert result["outcome"] == "created_person"
    assert result["person"]["name"] == "Jane Rivera"
    assert result["person"]["email"] == "jane.rivera@example.org"
    sent = requests_seen(sandbox_app, "POST", "/v1/events")[-1]["json"]
    assert (sent["type"], sent["source"], sent["system"]) == ("Inquiry", "MyWebsite.com", "fub-mcp-sandbox")
    assert sent["person"]["firstName"] == "Jane"
    assert sent["person"]["emails"] == [{"value": "jane.rivera@example.org"}]
    assert sent["person"]["customPreferredNeighborhood"] == "Mueller"
    assert sent["property"] == {"street": "12 Oak St", "city": "Austin", "state": "TX", "code": "78701",
                                "mlsNumber": "MLS-1", "price": 450000, "forRent": False, "bedrooms": 3}


async def test_a_second_event_for_the_same_email_updates_the_existing_person(client: Client) -> None:
    first = await call(client, "log_event", {"type": "Registration", "source": "Web", "person": JANE})
    again = await call(client, "log_event", {"type": "Viewed Property", "person": {"emails": JANE["emails"]}})
    assert again["outcome"] == "updated_existing_person"
    assert again["person"]["id"] == first["person"]["id"]


async def test_an_event_on_a_person_id_sends_that_id(client: Client, sandbox_app: Any) -> None:
    someone = (await call(client, "search_people", {"limit": 1}))["items"][0]
    result = await call(client, "log_event", {"type": "Visited Open House", "person_id": someone["id"]})
    assert result["outcome"] == "updated_existing_person" and result["person"]["id"] == someone["id"]
    assert requests_seen(sandbox_app, "POST", "/v1/events")[-1]["json"]["person"] == {"id": someone["id"]}


async def test_an_archived_source_is_reported_without_a_person(client: Client) -> None:
    args = {"type": "Registration", "source": "Archived Lead Source", "person": JANE}
    result = await client.call_tool("log_event", args)
    assert result.is_error is False
    assert result.structured_content == {"outcome": "source_archived"}
    assert "archived" in result.content[0].text


async def test_an_old_occurred_at_is_flagged_as_history(client: Client, sandbox_app: Any) -> None:
    when = datetime.now(UTC) - timedelta(days=3)
    args = {"type": "General Inquiry", "person": JANE, "occurred_at": when.isoformat()}
    result = await call(client, "log_event", args)
    assert "history" in result["note"]
    sent = requests_seen(sandbox_app, "POST", "/v1/events")[-1]["json"]
    assert sent["occurredAt"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_an_unknown_person_id_says_the_person_was_not_found(client: Client) -> None:
    text = await error_text(client, "log_event", {"type": "Inquiry", "person_id": 987654})
    assert "person 987654 not found" in text


async def test_an_event_needs_a_person_or_a_person_id(client: Client, sandbox_app: Any) -> None:
    assert "person_id" in await error_text(client, "log_event", {"type": "Inquiry", "source": "x"})
    assert not requests_seen(sandbox_app, "POST", "/v1/events")


async def test_an_unknown_custom_field_lists_the_valid_ones(client: Client) -> None:
    person = {**JANE, "custom_fields": {"Shoe Size": "9"}}
    text = await error_text(client, "log_event", {"type": "Registration", "person": person})
    assert "no custom field matches" in text and "Closing Date" in text


async def test_a_time_without_a_utc_offset_is_refused(client: Client, sandbox_app: Any) -> None:
    args = {"type": "Registration", "person": JANE, "occurred_at": "2026-01-01T10:00:00"}
    assert "timezone" in await error_text(client, "log_event", args)
    assert not requests_seen(sandbox_app, "POST", "/v1/events")
