"""Deals: list deals by pipeline, stage, person or agent; create and update them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from fub_mcp.fub.account import match_records
from fub_mcp.fub.errors import FUBError, InvalidInputError
from fub_mcp.fub.pagination import decode_cursor, encode_cursor
from fub_mcp.schemas.deals import DealDetail, DealResult, DealsPage, MinimalDeal
from fub_mcp.tools._base import Toolset, account, fub
from fub_mcp.tools.account import deal_custom_fields, resolve
from fub_mcp.tools.notes import read_page
from fub_mcp.tools.people import Cursor
from fub_mcp.tools.tasks import user_id

TOOLSET = Toolset("deals", "List, create and update deals (transactions) in the account's pipelines.")
tool = TOOLSET.tool

STAGE_SCAN_MAX = 2000  # FUB cannot filter deals by stage: at most this many deals are read and filtered

DealId = Annotated[int, Field(ge=1, description="FUB deal id (from list_deals).")]
Pipeline = Annotated[
    str | None, Field(max_length=100, description="Pipeline name or id (needed when a stage is in several).")
]
Stage = Annotated[str | None, Field(max_length=100, description="Deal stage name or id, e.g. Closed.")]
PeopleIds = Annotated[
    list[Annotated[int, Field(ge=1)]] | None, Field(max_length=20, description="Person ids of the clients.")
]
Agents = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
    Field(max_length=20, description="Agents: names, emails or ids (`me`); none hides the deal from agents."),
]
Money = Annotated[float | None, Field(ge=0, le=1_000_000_000)]
CloseDate = Annotated[date | None, Field(description="Projected close date, YYYY-MM-DD.")]
Commission = Annotated[Money, Field(description="Total commission.")]
AgentShare = Annotated[Money, Field(description="The agents' share of the commission.")]
TeamShare = Annotated[Money, Field(description="The team's share of the commission.")]
Description = Annotated[str | None, Field(max_length=5000, description="Notes on the deal.")]
DealFields = Annotated[
    dict[str, str | int | float | bool | None] | None,
    Field(max_length=30, description="Deal custom field values by label or FUB name; null clears."),
]
# Tool arguments sent to FUB as they are, under FUB's name (never the old doc spelling agentCommision).
_PLAIN = {
    "name": "name",
    "price": "price",
    "commission_value": "commissionValue",
    "agent_commission": "agentCommission",
    "team_commission": "teamCommission",
    "description": "description",
    "status": "status",
}


async def deal_detail(ctx: Context, record: dict[str, Any]) -> DealDetail:
    """A deal record for the caller: names from the account, custom fields by label when FUB names them."""
    labels: dict[str, str] = {}
    if any(k.startswith("custom") for k in record):
        try:
            fields = await deal_custom_fields(ctx)
            labels = {f["name"]: f.get("label") or f["name"] for f in fields if f.get("name")}
        except FUBError:  # the write succeeded; show FUB's names rather than fail
            pass
    return DealDetail.from_full_record(record, (await account(ctx).snapshot()).pipelines, labels)


async def _stage_id(ctx: Context, stage: str, pipeline: str | None, deal_id: int | None) -> int:
    acct = account(ctx)
    if pipeline is None and deal_id is not None and not stage.strip().isdigit():
        current = await fub(ctx).get(f"/deals/{deal_id}")  # prefer the deal's own pipeline
        try:
            return (await acct.deal_stage(stage, current.get("pipelineId")))[0]
        except InvalidInputError:
            pass
    return (await acct.deal_stage(stage, pipeline))[0]


async def _custom_field_name(ctx: Context, key: str) -> str:
    fields = await deal_custom_fields(ctx)
    exact = [f for f in fields if f.get("name") in (key, f"custom{key}")]
    return (exact[0] if exact else resolve(fields, key, ("label", "name"), "deal custom field"))["name"]


async def deal_body(
    ctx: Context,
    *,
    deal_id: int | None = None,
    stage: str | None = None,
    pipeline: str | None = None,
    people: list[int] | None = None,
    users: list[str] | None = None,
    projected_close_date: date | None = None,
    custom_fields: dict[str, Any] | None = None,
    **plain: Any,
) -> dict[str, Any]:
    """Map tool arguments to FUB's deal fields (stageId, peopleIds, userIds, agentCommission...)."""
    body = {_PLAIN[k]: v for k, v in plain.items() if v is not None}
    if stage:
        body["stageId"] = await _stage_id(ctx, stage, pipeline, deal_id)
    if people is not None:
        body["peopleIds"] = list(dict.fromkeys(people))
    if users is not None:
        body["userIds"] = list(dict.fromkeys([await user_id(ctx, u) for u in users]))
    if projected_close_date:
        body["projectedCloseDate"] = projected_close_date.isoformat()
    for key, value in (custom_fields or {}).items():
        body[await _custom_field_name(ctx, key)] = value
    return body


async def _stage_ids(ctx: Context, stage: str, pipeline: str | None) -> tuple[list[int], int | None]:
    """Every stage called `stage` (in `pipeline`, else in any pipeline), and the one pipeline they share."""
    acct = account(ctx)
    pipelines = [await acct.pipeline(pipeline)] if pipeline else (await acct.snapshot()).pipelines
    stages = [{**s, "pipelineId": p["id"]} for p in pipelines for s in p["stages"]]
    found = match_records(stages, stage, ("name",))
    if not found:  # a unique prefix, or the error listing every stage
        stage_id, pipeline_id = await acct.deal_stage(stage, pipeline)
        found = [{"id": stage_id, "pipelineId": pipeline_id}]
    shared = {s["pipelineId"] for s in found}
    return [int(s["id"]) for s in found], shared.pop() if len(shared) == 1 else None


async def _stage_page(ctx: Context, state: dict[str, Any]) -> DealsPage:
    """A page of deals in some stages: FUB filters by pipeline only, so the pipeline is read and filtered."""
    stage_ids, skip, limit = set(state["stageIds"]), state.get("skip", 0), state["limit"]
    matches, scanned = [], 0
    async for deal in fub(ctx).paginate("/deals", state["params"], max_items=STAGE_SCAN_MAX):
        scanned += 1
        if deal.get("stageId") in stage_ids:
            matches.append(deal)
    pipelines = (await account(ctx).snapshot()).pipelines
    more = skip + limit < len(matches)
    capped = scanned >= STAGE_SCAN_MAX
    return DealsPage(
        items=[MinimalDeal.from_record(d, pipelines) for d in matches[skip : skip + limit]],
        total=len(matches),
        has_more=more,
        next_cursor=encode_cursor({**state, "skip": skip + limit}) if more else None,
        note=f"only the newest {STAGE_SCAN_MAX} deals were searched for this stage" if capped else None,
    )


@tool(title="List deals", read_only=True, idempotent=True)
async def list_deals(
    ctx: Context,
    pipeline: Pipeline = None,
    stage: Stage = None,
    person_id: Annotated[int | None, Field(ge=1, description="Only this person's deals.")] = None,
    user: Annotated[
        str | None, Field(max_length=100, description="Only this agent's deals (name, email, id or `me`).")
    ] = None,
    status: Annotated[Literal["Active", "Archived", "Deleted"], Field(description="Deal status.")] = "Active",
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")] = 25,
    cursor: Cursor = None,
) -> DealsPage:
    """List deals (transactions) by pipeline, stage, person, agent or status, newest first.

    Returns lean deals (name, pipeline, stage, price, clients, agents, projected close, status) with
    `total`, `has_more` and `next_cursor`. For counts and value by stage use pipeline_summary."""
    state = decode_cursor(cursor) if cursor else {}
    params = {"limit": limit, "personId": person_id, "status": status}
    if not cursor:
        params["userId"] = await user_id(ctx, user) if user else None
        if stage is not None:
            stage_ids, params["pipelineId"] = await _stage_ids(ctx, stage, pipeline)
            params = {k: v for k, v in params.items() if v is not None and k != "limit"}
            state = {"stageIds": stage_ids, "limit": limit, "params": params}
        elif pipeline:
            params["pipelineId"] = (await account(ctx).pipeline(pipeline))["id"]
    if "stageIds" in state:
        return await _stage_page(ctx, state)
    items, paging = await read_page(ctx, "/deals", params, cursor)
    pipelines = (await account(ctx).snapshot()).pipelines
    return DealsPage(items=[MinimalDeal.from_record(r, pipelines) for r in items], **paging)


@tool(title="Create a deal", read_only=False, destructive=False, idempotent=False)
async def create_deal(
    ctx: Context,
    name: Annotated[str, Field(min_length=1, max_length=200, description="Deal name, e.g. the address.")],
    stage: Annotated[str, Field(min_length=1, max_length=100, description="Deal stage name or id.")],
    pipeline: Pipeline = None,
    people: PeopleIds = None,
    users: Agents = None,
    price: Money = None,
    projected_close_date: CloseDate = None,
    commission_value: Commission = None,
    agent_commission: AgentShare = None,
    team_commission: TeamShare = None,
    description: Description = None,
    custom_fields: DealFields = None,
) -> DealResult:
    """Create a deal (transaction) in a pipeline stage, linked to clients (person ids) and agents.

    Give `users`: FUB hides a deal with no agents from agents. Returns the deal as FUB stored it.
    workspace_context lists the pipelines, stages and deal custom fields."""
    args = {k: v for k, v in locals().items() if k != "ctx"}  # every argument, as deal_body names them
    record = await fub(ctx).post("/deals", await deal_body(ctx, **args))
    return DealResult(outcome="created", deal=await deal_detail(ctx, record))


@tool(title="Update a deal", read_only=False, destructive=True, idempotent=True)
async def update_deal(
    ctx: Context,
    deal_id: DealId,
    stage: Annotated[Stage, Field(description="New stage (name or id); the deal's pipeline first.")] = None,
    pipeline: Pipeline = None,
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None,
    price: Money = None,
    people: Annotated[PeopleIds, Field(description="REPLACES all clients on the deal (person ids).")] = None,
    users: Annotated[Agents, Field(description="REPLACES all agents on the deal (names, ids).")] = None,
    projected_close_date: CloseDate = None,
    commission_value: Commission = None,
    agent_commission: AgentShare = None,
    team_commission: TeamShare = None,
    description: Description = None,
    custom_fields: DealFields = None,
    status: Annotated[Literal["Active", "Archived"] | None, Field(description="Archive, reactivate.")] = None,
) -> DealResult:
    """Change a deal: move it to another stage, or set its name, price, close date, commissions,
    clients, agents, custom fields or status.

    `people` and `users` REPLACE the whole list: include everyone who should stay. Returns the deal
    as FUB stored it."""
    body = await deal_body(ctx, **{k: v for k, v in locals().items() if k != "ctx"})
    if not body:
        raise InvalidInputError("nothing to update: give at least one field")
    record = await fub(ctx).put(f"/deals/{deal_id}", body)
    return DealResult(outcome="updated", deal=await deal_detail(ctx, record))
