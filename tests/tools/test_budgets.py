"""Context budgets: what the default surface and a typical page cost a model, in bytes of compact JSON.

Budgets (stated in the README, "Context budgets"; measured 2026-11-23 in brackets):
- `tools/list` of the default surface (30 tools, schemas compacted): <= 80,000 bytes [~74,500]
  (~20k tokens at ~4 chars/token; every conversation pays it once).
- `search_people(limit=25)`: structuredContent <= 8,000 bytes [~7,100], i.e. ~320 bytes a person,
  and a text summary <= 200 characters (the data is not sent twice).
- No tool result may approach 25k tokens: the largest page of the largest list tools stays < 60,000 bytes.
A deliberate change that needs more must raise the budget here and in the README, with a reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client

from fub_mcp.server.build import build_server
from fub_mcp.server.schema import compact_schema
from tests.tools.conftest import make_context, make_settings

pytestmark = pytest.mark.anyio

TOOLS_LIST_BUDGET = 80_000
SEARCH_25_BUDGET = 8_000
SUMMARY_BUDGET = 200
PAGE_CEILING = 60_000


def size(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


async def test_the_default_tools_list_fits_its_budget(sandbox_app: Any) -> None:
    settings = make_settings(toolsets=["default"], allow_delete=False)
    context = make_context(sandbox_app, settings)
    async with context.client, Client(build_server(settings, context), mode="legacy", cache=None) as client:
        tools = (await client.list_tools()).tools
    listed = size([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])
    assert listed <= TOOLS_LIST_BUDGET, f"default tools/list is {listed} bytes, budget {TOOLS_LIST_BUDGET}"
    for tool in tools:  # compacted: no derived titles, no null branches left to remove
        assert compact_schema(tool.input_schema) == tool.input_schema, tool.name
        assert compact_schema(tool.output_schema, output=True) == tool.output_schema, tool.name


async def test_a_page_of_25_people_fits_its_budget(client: Client) -> None:
    result = await client.call_tool("search_people", {"limit": 25})
    assert len(result.structured_content["items"]) == 25
    assert size(result.structured_content) <= SEARCH_25_BUDGET
    assert len(result.content[0].text) <= SUMMARY_BUDGET


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("search_people", {"limit": 100}),
        ("list_tasks", {"limit": 100}),
        ("list_deals", {"limit": 100}),
        ("workspace_context", {}),
    ],
)
async def test_the_largest_pages_stay_far_below_25k_tokens(client: Client, tool: str, args: dict[str, Any]) -> None:
    result = await client.call_tool(tool, args)
    assert result.is_error is False, result.content[0].text
    assert size(result.structured_content) < PAGE_CEILING
