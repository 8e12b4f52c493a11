"""Bulk: import many leads through FUB's lead intake, and change many people at once.

Both tools run concurrently (the shared client's rate limiter paces them to FUB's budget), report
MCP progress, and stop starting new work when their time budget runs out, so an MCP client never
times out: what was not done is said (import_leads: `next_index`; bulk_update_people: a cursor).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from pydantic import Field

from fub_mcp.fub.errors import (
    DeadlineExceededError,
    FUBError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
)
from fub_mcp.fub.pagination import decode_cursor, encode_cursor
from fub_mcp.schemas.bulk import BulkUpdateResult, IdOutcome, ImportLead, ImportResult, RowOutcome
from fub_mcp.tools._base import Toolset, account, app, fub
from fub_mcp.tools.leads import log_event
from fub_mcp.tools.people import Cursor, Tags, query_params

TOOLSET = Toolset(
    "bulk", "Import many leads and update many people at once (tags, stage, agent).", default=False
)
tool = TOOLSET.tool

TIME_BUDGET = 40.0  # seconds of starting new work per call (extras["bulk_time_budget"] overrides it)
GRACE = 10.0  # seconds in-flight requests may still take after the budget (MCP clients give up ~60 s)
UPDATE_WORKERS = 16  # enough to use the whole rate budget; the client's limiter paces them
PROGRESS_STEPS = 20
_ERROR_CHARS = 200


async def run_in_order(
    ctx: Context, count: int, work: Callable[[int, float], Awaitable[None]], *, workers: int, what: str
) -> int:
    """Run `work(i, seconds_left)` for i = 0..count-1 with `workers` at once, in order, reporting
    progress. Once the time budget is spent no new item starts (at least one always does), so the
    items done are exactly the first n; returns n."""
    stop_at = anyio.current_time() + app(ctx).extras.get("bulk_time_budget", TIME_BUDGET)
    step = max(1, count // PROGRESS_STEPS)
    started = done = 0

    async def worker() -> None:
        nonlocal started, done
        while started < count and (started == 0 or anyio.current_time() < stop_at):
            index, started = started, started + 1
            await work(index, max(1.0, stop_at + GRACE - anyio.current_time()))
            done += 1
            if done == count or done % step == 0:
                await ctx.report_progress(done, count, f"{what} {done}/{count}")

    async with anyio.create_task_group() as tg:
        for _ in range(min(workers, count)):
            tg.start_soon(worker)
    return started


def _error(exc: Exception) -> str:
    return str(exc)[:_ERROR_CHARS]


# --- import_leads -----------------------------------------------------------------------------------

# Not idempotent (each row adds an event); destructive as log_event (an existing person's price and
# custom fields are overwritten); open world: FUB routes the leads, notifies agents, starts action plans.
@tool(title="Import leads", read_only=False, destructive=True, idempotent=False, open_world=True)
async def import_leads(
    ctx: Context,
    leads: Annotated[list[ImportLead], Field(min_length=1, max_length=500, description="The leads, 1-500.")],
    concurrency: Annotated[int, Field(ge=1, le=16, description="Leads sent at once.")] = 8,
) -> ImportResult:
    """Send many leads to FUB in one call (a spreadsheet, an open-house sign-in sheet), each through
    FUB's lead intake exactly like log_event: de-duplicated by email (or phone plus name), routed by
    the lead flow of its `source`, agent notified, action plans started (for recent Registration and
    Inquiry events; `occurred_at` over a day ago imports quietly as history).

    Returns one outcome per row (created_person / updated_existing_person / source_archived / error /
    not_sent) with the person id; over 100 rows only the failures are listed. Rows from `next_index`
    were not sent because time ran out: call again with those rows."""
    rows: list[RowOutcome | None] = [None] * len(leads)

    async def send(index: int, _seconds_left: float) -> None:
        lead = leads[index]
        try:
            result = await log_event(
                ctx, type=lead.type, source=lead.source, message=lead.message, description=lead.description,
                person=lead.person(), property=lead.property, occurred_at=lead.occurred_at,
            )
        except FUBError as exc:
            rows[index] = RowOutcome(index=index, outcome="error", error=_error(exc))
            return
        person_id = result.person.id if result.person else None
        rows[index] = RowOutcome(index=index, outcome=result.outcome, person_id=person_id)

    sent = await run_in_order(ctx, len(leads), send, workers=concurrency, what="leads sent")
    outcomes = [r or RowOutcome(index=i, outcome="not_sent") for i, r in enumerate(rows)]
    return ImportResult.build(outcomes, sent if sent < len(leads) else None)


# --- bulk_update_people -----------------------------------------------------------------------------

def _digest(args: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _resume(cursor: str | None, digest: str, max_people: int) -> dict[str, Any]:
    if not cursor:
        return {"d": digest, "below": None, "redo": [], "left": max_people, "counts": {}}
    try:
        state = decode_cursor(cursor)
    except ValueError:
        raise InvalidInputError("invalid cursor: pass next_cursor exactly as returned") from None
    if state.get("d") != digest:
        raise InvalidInputError("this cursor belongs to other arguments: repeat the same arguments with it")
    return state


async def _tags_of(ctx: Context, ids: Sequence[int]) -> dict[int, list[str]]:
    """Current tags of people by id, 100 per request; people FUB does not return are absent."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(ids), 100):
        chunk = list(ids[start : start + 100])
        params = {"id": chunk, "fields": "id,tags", "limit": 100, "includeTrash": True}
        page = await fub(ctx).get_page("/people", params)
        found.update({int(p["id"]): list(p.get("tags") or []) for p in page.items})
    return found


async def _matching(
    ctx: Context, filters: dict[str, Any], below: int | None, cap: int
) -> tuple[list[int], dict[int, list[str]], bool]:
    """Ids of the people matching a search below id `below`, highest first, with their tags; True when
    more than `cap` match."""
    params = {**filters, "sort": "-id", "fields": "id,tags", "idLessThan": below}
    people = [p async for p in fub(ctx).paginate("/people", params, max_items=cap + 1)]
    tags = {int(p["id"]): list(p.get("tags") or []) for p in people}
    return [int(p["id"]) for p in people[:cap]], tags, len(people) > cap


async def _search_filters(
    ctx: Context, query: str | None, stage: str | None, tags: list[str] | None, source: str | None,
    assigned_to: str | None, smart_list: str | None,
) -> dict[str, Any]:
    acct = account(ctx)
    filters: dict[str, Any] = query_params(query) if query else {}
    filters.update({
        "stage": await acct.person_stage(stage) if stage else None,
        "tags": tags or None,
        "source": source,
        "assignedUserId": await acct.user_id(assigned_to) if assigned_to else None,
        "smartListId": await acct.smart_list_id(smart_list) if smart_list else None,
    })
    return {k: v for k, v in filters.items() if v is not None}


def _new_tags(current: list[str], add: list[str], remove: list[str]) -> list[str]:
    drop = {t.lower() for t in remove}
    kept = [t for t in current if t.lower() not in drop]
    have = {t.lower() for t in kept}
    return kept + [t for t in dict.fromkeys(add) if t.lower() not in have]


Match = Annotated[str | None, Field(max_length=100)]


# Destructive: stage and agent are overwritten, tags removed. Idempotent: every operation sets a final
# state (tags = current - remove + add), so repeating the same call changes nothing more. Open world:
# FUB notifies a newly assigned agent, and stage changes can start action plans/automations.
@tool(title="Bulk update people", read_only=False, destructive=True, idempotent=True, open_world=True)
async def bulk_update_people(
    ctx: Context,
    person_ids: Annotated[
        list[Annotated[int, Field(ge=1)]] | None,
        Field(max_length=1000, description="Change these people (or use match_* filters)."),
    ] = None,
    match_query: Annotated[Match, Field(description="Filter: name, email or phone.")] = None,
    match_stage: Annotated[Match, Field(description="Filter: person stage.")] = None,
    match_tags: Annotated[Tags | None, Field(max_length=20, description="Filter: any of these tags.")] = None,
    match_source: Annotated[Match, Field(description="Filter: lead source.")] = None,
    match_assigned_to: Annotated[Match, Field(description="Filter: agent (name, email or id).")] = None,
    match_smart_list: Annotated[Match, Field(description="Filter: smart list (name or id).")] = None,
    add_tags: Annotated[Tags | None, Field(description="Tags to add (others kept).")] = None,
    remove_tags: Annotated[Tags | None, Field(description="Tags to remove (others kept).")] = None,
    stage: Annotated[Match, Field(description="Set this person stage (name or id).")] = None,
    assigned_to: Annotated[Match, Field(description="Assign to this agent (name, email or id).")] = None,
    max_people: Annotated[int, Field(ge=1, le=5000, description="Change at most this many people.")] = 500,
    cursor: Annotated[Cursor, Field(description="next_cursor of the previous call (same arguments).")] = None,
) -> BulkUpdateResult:
    """Add or remove tags, set the stage or reassign many people at once: a list of ids, or everyone
    matching match_* filters (like search_people). Confirm the scope with the user first: stages and
    agents are overwritten, a new agent is notified, stage changes may start automations.

    Returns per-outcome counts and per-person outcomes (updated / unchanged / not_found / error; over
    100 only failures are listed). When time runs out, `has_more` is true: call again with the SAME
    arguments plus cursor=next_cursor until it is false."""
    args = {k: v for k, v in locals().items() if k not in ("ctx", "cursor")}
    filters = (match_query, match_stage, match_tags, match_source, match_assigned_to, match_smart_list)
    if bool(person_ids) == any(filters):
        raise InvalidInputError("give either person_ids or match_* filters (not both, not neither)")
    if not (add_tags or remove_tags or stage or assigned_to):
        raise InvalidInputError("nothing to change: give add_tags, remove_tags, stage or assigned_to")
    if {t.lower() for t in add_tags or []} & {t.lower() for t in remove_tags or []}:
        raise InvalidInputError("a tag cannot be both added and removed")
    state = _resume(cursor, _digest(args), max_people)
    acct = account(ctx)
    base = {"stage": await acct.person_stage(stage) if stage else None,
            "assignedUserId": await acct.user_id(assigned_to) if assigned_to else None}
    base = {k: v for k, v in base.items() if v is not None}
    notes: list[str] = []
    below, redo = state["below"], list(state["redo"])
    known: dict[int, list[str]] = {}
    if person_ids:
        main = [i for i in sorted(set(person_ids), reverse=True) if below is None or i < below]
    else:
        main, known, capped = await _matching(ctx, await _search_filters(ctx, *filters), below, state["left"])
        if capped:
            notes.append(f"more people match than max_people ({max_people}): only that many are changed")
    todo = redo + main
    tags = {**known, **await _tags_of(ctx, [i for i in todo if i not in known])} if remove_tags else {}
    outcomes: list[IdOutcome | None] = [None] * len(todo)
    late: list[int] = []  # held up by the rate limit past the time budget: redone by the next call
    client = fub(ctx)

    async def update(index: int, seconds_left: float) -> None:
        pid = todo[index]
        body, params = dict(base), {}
        if remove_tags:
            if pid not in tags:
                outcomes[index] = IdOutcome(id=pid, outcome="not_found")
                return
            body["tags"] = _new_tags(tags[pid], add_tags or [], remove_tags)
            if body["tags"] == tags[pid] and not base:
                outcomes[index] = IdOutcome(id=pid, outcome="unchanged")
                return
        elif add_tags:
            body["tags"], params = list(dict.fromkeys(add_tags)), {"mergeTags": True}
        try:
            await client.request("PUT", f"/people/{pid}", params=params, json=body, deadline=seconds_left)
            outcomes[index] = IdOutcome(id=pid, outcome="updated")
        except NotFoundError:
            outcomes[index] = IdOutcome(id=pid, outcome="not_found")
        except (DeadlineExceededError, RateLimitError) as exc:  # not done (FUB: a 429 was not processed)
            if index >= len(redo):
                late.append(pid)  # the next call does it
            else:
                outcomes[index] = IdOutcome(id=pid, outcome="error", error=f"{_error(exc)} (twice; try later)")
        except FUBError as exc:
            outcomes[index] = IdOutcome(id=pid, outcome="error", error=_error(exc))

    started = await run_in_order(ctx, len(todo), update, workers=UPDATE_WORKERS, what="people updated")
    main_done = max(0, started - len(redo))
    redo_left = redo[started:] + late
    more_main = main[main_done:]
    if redo_left or more_main:
        notes.append(f"time budget used: {len(redo_left) + len(more_main)} people left for the next call")
    result = BulkUpdateResult.build([o for o in outcomes if o], state["counts"], notes)
    if redo_left or more_main:
        result.has_more, result.next_cursor = True, encode_cursor({
            **state, "below": main[main_done - 1] if main_done else below, "redo": redo_left,
            "left": state["left"] - main_done, "counts": result.counts_so_far or result.counts,
        })
    return result
