"""Every toolset, listed once. A new toolset is one module, one line here, one test module."""

from __future__ import annotations

from fub_mcp.tools._base import AppContext, ToolDef, Toolset

__all__ = ["ALL_TOOLSETS", "AppContext", "ToolDef", "Toolset", "all_tools"]


def _load() -> list[Toolset]:
    from fub_mcp.tools import (
        account,
        appointments,
        bulk,
        chatgpt,
        comms,
        deals,
        insights,
        leads,
        notes,
        people,
        tasks,
        webhooks,
    )

    return [people.TOOLSET, leads.TOOLSET, notes.TOOLSET, tasks.TOOLSET, comms.TOOLSET, appointments.TOOLSET,
            deals.TOOLSET, account.TOOLSET, insights.TOOLSET, bulk.TOOLSET, chatgpt.TOOLSET, webhooks.TOOLSET]


ALL_TOOLSETS: list[Toolset] = _load()


def all_tools() -> list[ToolDef]:
    """Every tool of every toolset, in declaration order."""
    return [tool for toolset in ALL_TOOLSETS for tool in toolset.tools]
