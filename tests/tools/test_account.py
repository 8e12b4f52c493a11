"""Account tools (workspace context, action plans) against the sandbox, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from fub_mcp.server.build import build_server
from fub_mcp.tools import account
from tests.tools.conftest import make_context, make_settings, requests_seen
from tests.tools.test_leads import hint_table
from tests.tools.test_people import call, error_text

pytestmark = pytest.mark.anyio


def test_assigning_an_action_plan_is_the_open_world_write() -> None:
    assert hint_table(account.TOOLSET) == {
        "workspace_context": (True, False, True, False),
        "list_action_plans": (True, False, True, False),
        "assign_action_plan": (False, False, False, True),
    }


async def test_workspace_context_names_everything_a_tool_accepts(client: Client) -> None:
    ws = await call(client, "workspace_context", {})
    assert ws["me"] == {"id": 1, "name": "Olivia Owner", "role": "Broker", "timezone": "America/Chicago"}
    assert {"name": "Diego Alvarez", "id": 4, "role": "Agent"} in ws["users"]
    assert ws["person_stages"][0] == "Lead" and "Trash" in ws["person_stages"]
    buyers = next(p for p in ws["pipelines"] if p["name"] == "Buyers")
    assert [s["name"] for s in buyers["stages"]][:2] == ["Buyer Consultation", "Showing Homes"]
    grade = next(f for f in ws["custom_fields"] if f["label"] == "Lead Grade")
    assert grade == {
        "label": "Lead Grade", "name": "customLeadGrade", "type": "dropdown", "choices": ["A", "B", "C", "D"]
    }
    assert {"id": 1, "name": "Hot Leads"} in ws["smart_lists"]


async def test_workspace_context_lists_deal_custom_fields(client: Client) -> None:
    ws = await call(client, "workspace_context", {})
    assert "Close Price" in str(ws["deal_custom_fields"]) and "note" not in ws


async def test_workspace_context_still_answers_when_deal_custom_fields_cannot_be_read(sandbox_app: Any) -> None:
    async def forbid_deal_fields(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/dealCustomFields"):
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"errorMessage": "Access denied"}'})
            return
        await sandbox_app(scope, receive, send)

    settings = make_settings()
    context = make_context(forbid_deal_fields, settings)
    async with context.client, Client(build_server(settings, context), mode="legacy", cache=None) as client:
        ws = await call(client, "workspace_context", {})
    assert "deal_custom_fields" not in ws and "deal custom fields unavailable" in ws["note"]


async def test_workspace_context_text_is_one_short_line(client: Client) -> None:
    result = await client.call_tool("workspace_context", {})
    assert result.content[0].text.startswith("you are Olivia Owner") and len(result.content[0].text) < 200


async def test_list_action_plans_lists_active_plans(client: Client, sandbox_app: Any) -> None:
    page = await call(client, "list_action_plans", {})
    assert page["total"] == 3 and not page["has_more"]
    assert {p["name"] for p in page["items"]} >= {"New Buyer Lead Nurture", "Past Client Check-ins"}
    assert requests_seen(sandbox_app, "GET", "/v1/actionPlans")[-1]["query"]["status"] == "Active"


async def test_assign_action_plan_by_name_posts_fub_ids(client: Client, sandbox_app: Any) -> None:
    result = await call(client, "assign_action_plan", {"person_id": 5, "action_plan": "seller listing"})
    assert (result["person_id"], result["action_plan"]) == (5, "Seller Listing Follow-up")
    assert result["status"] == "Running"
    sent = requests_seen(sandbox_app, "POST", "/v1/actionPlansPeople")[-1]["json"]
    assert sent == {"personId": 5, "actionPlanId": 2}


async def test_an_unknown_action_plan_lists_the_plans_and_sends_nothing(
    client: Client, sandbox_app: Any
) -> None:
    text = await error_text(client, "assign_action_plan", {"person_id": 5, "action_plan": "Nope"})
    assert "no action plan matches 'Nope'" in text and "New Buyer Lead Nurture" in text
    assert not requests_seen(sandbox_app, "POST", "/v1/actionPlansPeople")


async def test_assigning_to_a_missing_person_reports_fubs_reason(client: Client) -> None:
    text = await error_text(client, "assign_action_plan", {"person_id": 99999, "action_plan": "1"})
    assert "person 99999 does not exist" in text
