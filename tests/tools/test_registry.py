"""Registry-wide contracts: every tool is complete, and its public schema is snapshotted.

Snapshots live in tests/tools/__toolsnaps__/<tool>.json. A deliberate change to a tool's surface
is recorded with `UPDATE_TOOLSNAPS=1 pytest tests/tools`; in CI a missing snapshot fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from fub_mcp.server.build import build_server, select_tools
from fub_mcp.tools import ALL_TOOLSETS, all_tools
from tests.tools.conftest import make_context, make_settings

SNAPSHOTS = Path(__file__).parent / "__toolsnaps__"
DEFAULT_TOOL_LIMIT = 30


async def _listed_tools(sandbox_app: Any) -> list[Any]:
    settings = make_settings()
    context = make_context(sandbox_app, settings)
    async with context.client:
        async with Client(build_server(settings, context), mode="legacy", cache=None) as client:
            return (await client.list_tools()).tools


def _snapshot(tool: Any) -> dict[str, Any]:
    return {
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True),
        "inputSchema": tool.input_schema,
        "outputSchema": tool.output_schema,
    }


def test_every_tool_has_a_unique_name_a_toolset_and_all_four_hints() -> None:
    names = [t.name for t in all_tools()]
    assert len(names) == len(set(names))
    for tool in all_tools():
        hints = tool.annotations
        assert tool.toolset in {t.id for t in ALL_TOOLSETS}
        assert None not in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint), tool.name
        assert tool.title and tool.description, tool.name
        if hints.read_only_hint:
            assert not hints.destructive_hint, f"{tool.name} cannot be read-only and destructive"


def test_the_default_surface_stays_small() -> None:
    default = select_tools(make_settings(toolsets=["default"], allow_delete=False))
    assert 0 < len(default) <= DEFAULT_TOOL_LIMIT


def test_read_only_mode_leaves_no_write_tool() -> None:
    tools = select_tools(make_settings(read_only=True, toolsets=["all"], allow_delete=True))
    assert tools and all(t.read_only for t in tools)


def test_delete_tools_exist_only_when_allowed() -> None:
    allowed = {t.name for t in select_tools(make_settings(allow_delete=True))}
    denied = {t.name for t in select_tools(make_settings(allow_delete=False))}
    deletes = {t.name for t in all_tools() if t.deletes}
    assert deletes <= allowed
    assert not deletes & denied


@pytest.mark.anyio
async def test_every_listed_tool_has_an_output_schema_and_matches_its_snapshot(sandbox_app: Any) -> None:
    tools = await _listed_tools(sandbox_app)
    update = os.environ.get("UPDATE_TOOLSNAPS") == "1"
    SNAPSHOTS.mkdir(exist_ok=True)
    names = set()
    for tool in tools:
        names.add(tool.name)
        assert tool.output_schema, f"{tool.name} has no output schema"
        snap = json.dumps(_snapshot(tool), indent=2, sort_keys=True) + "\n"
        path = SNAPSHOTS / f"{tool.name}.json"
        if update or (not path.exists() and not os.environ.get("CI")):
            path.write_text(snap)
        assert path.exists(), f"missing snapshot for {tool.name}: run UPDATE_TOOLSNAPS=1 pytest tests/tools"
        assert path.read_text() == snap, f"{tool.name} changed its public surface: review, then UPDATE_TOOLSNAPS=1"
    stale = {p.stem for p in SNAPSHOTS.glob("*.json")} - names
    assert not stale, f"snapshots without a tool: {sorted(stale)}"
