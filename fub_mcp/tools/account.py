"""Account: the workspace snapshot (who am I and every name a tool accepts) and action plans."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from fub_mcp.fub.account import choices_text, match_records  # the same matching rules as every other name
from fub_mcp.fub.errors import FUBError, InvalidInputError
from fub_mcp.schemas.account import ActionPlan, ActionPlanAssignment, ActionPlansPage, Workspace
from fub_mcp.tools._base import Toolset, account, app, fub
from fub_mcp.tools.notes import read_page
from fub_mcp.tools.people import Cursor, PersonId

TOOLSET = Toolset(
    "account", "Workspace names (users, stages, pipelines, custom fields, smart lists) and action plans."
)
tool = TOOLSET.tool

DEAL_FIELDS_TTL = 300.0  # seconds, like the account snapshot
MAX_ACTION_PLANS = 500  # plans read to resolve a name


def resolve(
    records: list[dict[str, Any]], wanted: str | int, keys: tuple[str, ...], noun: str
) -> dict[str, Any]:
    """The one record matching `wanted` (id, name, unique prefix); else an error listing the choices."""
    found = match_records(records, wanted, keys)
    if len(found) == 1:
        return found[0]
    names = choices_text(str(r.get(keys[0]) or r.get("id")) for r in found or records)
    if found:
        raise InvalidInputError(f"{wanted!r} matches several {noun}s ({names}); use the full name or id")
    raise InvalidInputError(f"no {noun} matches {wanted!r}; {noun}s: {names or 'none'}")


async def deal_custom_fields(ctx: Context) -> list[dict[str, Any]]:
    """The account's deal custom fields (GET /dealCustomFields), cached like the account snapshot."""
    cached = app(ctx).extras.get("deal_custom_fields")
    if cached and time.monotonic() - cached[0] < DEAL_FIELDS_TTL:
        return cached[1]
    fields = [f async for f in fub(ctx).paginate("/dealCustomFields", None, max_items=500)]
    app(ctx).extras["deal_custom_fields"] = (time.monotonic(), fields)
    return fields


@tool(title="Workspace context", read_only=True, idempotent=True)
async def workspace_context(ctx: Context) -> Workspace:
    """Get who you are and every name the other tools accept, in one call: users (agents, lenders),
    person stages, deal pipelines with their stages, person and deal custom fields (label, FUB name,
    type, dropdown choices) and smart lists.

    Call it first when a request names an agent, stage, pipeline, field or list you have not seen."""
    snap = await account(ctx).snapshot()
    notes: list[str] = []
    try:
        deal_fields = await deal_custom_fields(ctx)
    except FUBError as exc:  # an agent key may not read them; the rest is still useful
        deal_fields, notes = None, [f"deal custom fields unavailable: {exc}"]
    return Workspace.from_snapshot(snap, deal_fields, notes)


@tool(title="List action plans", read_only=True, idempotent=True)
async def list_action_plans(
    ctx: Context,
    status: Annotated[Literal["Active", "Deleted", "any"], Field(description="Which plans.")] = "Active",
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")] = 50,
    cursor: Cursor = None,
) -> ActionPlansPage:
    """List the account's action plans (automatic email/text/task sequences) with ids and names.

    Use a name or id with assign_action_plan. FUB flags action plans as planned for deprecation in
    favour of Automations 2.0."""
    params = {"status": "Active,Deleted" if status == "any" else status, "limit": limit}
    items, paging = await read_page(ctx, "/actionPlans", params, cursor)
    return ActionPlansPage(items=[ActionPlan.from_record(r) for r in items], **paging)


@tool(title="Assign an action plan", read_only=False, destructive=False, idempotent=False, open_world=True)
async def assign_action_plan(
    ctx: Context,
    person_id: PersonId,
    action_plan: Annotated[str, Field(min_length=1, max_length=150, description="Action plan name or id.")],
) -> ActionPlanAssignment:
    """Start an action plan for a person: FUB then sends its emails and texts and creates its tasks
    on schedule, so confirm with the user first.

    Returns the assignment (id, plan, status Running). FUB flags action plans as planned for
    deprecation in favour of Automations 2.0; list_action_plans shows the names."""
    active = fub(ctx).paginate("/actionPlans", {"status": "Active"}, max_items=MAX_ACTION_PLANS)
    plans = [p async for p in active]
    plan = resolve(plans, action_plan, ("name",), "action plan")
    record = await fub(ctx).post("/actionPlansPeople", {"personId": person_id, "actionPlanId": plan["id"]})
    return ActionPlanAssignment.from_record(record, plan.get("name"))
