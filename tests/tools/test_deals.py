"""Deals tools against the sandbox, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from fub_mcp.tools import deals
from tests.tools.conftest import requests_seen
from tests.tools.test_leads import hint_table
from tests.tools.test_people import call, error_text

pytestmark = pytest.mark.anyio

def test_deal_tools_declare_honest_hints() -> None:
    assert hint_table(deals.TOOLSET) == {
        "list_deals": (True, False, True, False),
        "create_deal": (False, False, False, False),
        "update_deal": (False, True, True, False),
    }


async def test_list_deals_returns_lean_deals_with_names_and_a_working_cursor(client: Client) -> None:
    first = await call(client, "list_deals", {"limit": 5})
    assert len(first["items"]) == 5 and first["has_more"] and first["total"] > 5
    deal = first["items"][0]
    assert set(deal) <= {
        "id", "name", "pipeline", "stage", "price", "people", "users", "projected_close_date", "status",
        "entered_stage_at",
    }
    assert deal["pipeline"] in ("Buyers", "Sellers") and deal["stage"] and deal["people"][0]["name"]
    second = await call(client, "list_deals", {"cursor": first["next_cursor"]})
    assert not {d["id"] for d in first["items"]} & {d["id"] for d in second["items"]}


async def test_list_deals_by_stage_name_filters_every_pipeline_and_pages(client: Client) -> None:
    everything = await call(client, "list_deals", {"limit": 100})
    expected = {d["id"] for d in everything["items"] if d["stage"] == "Under Contract"}
    first = await call(client, "list_deals", {"stage": "under contract", "limit": 3})
    assert first["total"] == len(expected) > 3 and first["has_more"]
    second = await call(client, "list_deals", {"cursor": first["next_cursor"]})
    ids = {d["id"] for d in first["items"] + second["items"]}
    assert ids <= expected and len(ids) == len(first["items"]) + len(second["items"])
    assert {d["pipeline"] for d in everything["items"] if d["id"] in expected} == {"Buyers", "Sellers"}


async def test_list_deals_by_stage_in_one_pipeline_asks_fub_for_that_pipeline(
    client: Client, sandbox_app: Any
) -> None:
    page = await call(client, "list_deals", {"pipeline": "Sellers", "stage": "Under Contract"})
    assert page["items"]
    assert {(d["pipeline"], d["stage"]) for d in page["items"]} == {("Sellers", "Under Contract")}
    assert requests_seen(sandbox_app, "GET", "/v1/deals")[-1]["query"]["pipelineId"] == "2"


async def test_list_deals_by_agent_sends_the_user_id(client: Client, sandbox_app: Any) -> None:
    page = await call(client, "list_deals", {"user": "Diego Alvarez"})
    assert page["items"] and all(any(u["name"] == "Diego Alvarez" for u in d["users"]) for d in page["items"])
    assert requests_seen(sandbox_app, "GET", "/v1/deals")[-1]["query"]["userId"] == "4"


async def test_an_unknown_deal_stage_lists_the_valid_stages(client: Client) -> None:
    text = await error_text(client, "list_deals", {"stage": "Nonexistent"})
    assert "no deal stage matches" in text and "Buyers / Showing Homes" in text


async def test_create_deal_sends_fub_field_names(client: Client, sandbox_app: Any) -> None:
    created = await call(client, "create_deal", {
        "name": "12 Oak St (Rivera)", "stage": "Showing Homes", "people": [5],
        "users": ["Diego Alvarez", "me"], "price": 450000, "projected_close_date": "2027-01-15",
        "commission_value": 13500, "agent_commission": 9450, "team_commission": 4050,
    })
    deal = created["deal"]
    assert created["outcome"] == "created"
    assert (deal["pipeline"], deal["stage"], deal["agent_commission"]) == ("Buyers", "Showing Homes", 9450)
    assert [u["name"] for u in deal["users"]] == ["Diego Alvarez", "Olivia Owner"]
    assert requests_seen(sandbox_app, "POST", "/v1/deals")[-1]["json"] == {
        "name": "12 Oak St (Rivera)", "stageId": 2, "peopleIds": [5], "userIds": [4, 1], "price": 450000,
        "projectedCloseDate": "2027-01-15", "commissionValue": 13500, "agentCommission": 9450,
        "teamCommission": 4050,
    }


async def test_update_deal_moves_within_the_deals_own_pipeline_and_replaces_people(
    client: Client, sandbox_app: Any
) -> None:
    seller = (await call(client, "list_deals", {"pipeline": "Sellers", "limit": 1}))["items"][0]
    args = {"deal_id": seller["id"], "stage": "Closed", "people": [7, 8]}
    updated = await call(client, "update_deal", args)
    assert (updated["deal"]["pipeline"], updated["deal"]["stage"]) == ("Sellers", "Closed")
    assert [p["id"] for p in updated["deal"]["people"]] == [7, 8]
    assert requests_seen(sandbox_app, "PUT", "/v1/deals")[-1]["json"] == {"stageId": 10, "peopleIds": [7, 8]}


async def test_update_deal_of_a_missing_deal_says_not_found(client: Client) -> None:
    assert "deal 98765 not found" in await error_text(client, "update_deal", {"deal_id": 98765, "price": 1})


async def test_update_deal_without_changes_is_refused(client: Client) -> None:
    assert "nothing to update" in await error_text(client, "update_deal", {"deal_id": 1})


async def test_deal_custom_fields_go_by_fub_name_and_come_back_by_label(client: Client, sandbox_app: Any) -> None:
    args = {"deal_id": 1, "custom_fields": {"Close Price": 512000, "financing": "FHA"}}
    updated = await call(client, "update_deal", args)
    assert requests_seen(sandbox_app, "PUT", "/v1/deals/1")[-1]["json"] == {
        "customClosePrice": 512000, "customFinancing": "FHA"}
    assert updated["deal"]["custom_fields"] == {"Close Price": 512000, "Financing": "FHA"}


async def test_a_bad_deal_custom_field_value_is_fubs_400(client: Client) -> None:
    text = await error_text(client, "update_deal", {"deal_id": 1, "custom_fields": {"Financing": "Barter"}})
    assert "not one of Cash, Conventional, FHA, VA" in text


async def test_an_unknown_deal_custom_field_lists_the_fields(client: Client, sandbox_app: Any) -> None:
    args = {"deal_id": 1, "custom_fields": {"Nope": 1}}
    text = await error_text(client, "update_deal", args)
    assert "no deal custom field matches 'Nope'" in text and "Close Price" in text
    assert not requests_seen(sandbox_app, "PUT", "/v1/deals")
