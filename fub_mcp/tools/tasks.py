"""Tasks: create, list, update and complete follow-up tasks on people."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import AwareDatetime, Field

from fub_mcp.fub.errors import InvalidInputError
from fub_mcp.schemas.tasks import DueFilter, MinimalTask, TasksPage, TaskType, due_fields
from fub_mcp.tools._base import Toolset, account, fub
from fub_mcp.tools.notes import read_page
from fub_mcp.tools.people import Cursor, PersonId

TOOLSET = Toolset("tasks", "Create, list, update and complete follow-up tasks.")
tool = TOOLSET.tool

Agent = Annotated[str | None, Field(max_length=100, description="Agent name, email or id; `me` for you.")]
Due = Annotated[
    AwareDatetime | date | None,
    Field(description="A date (YYYY-MM-DD) or a time with its UTC offset (2026-05-01T15:00:00-05:00)."),
]
TaskName = Annotated[str, Field(min_length=1, max_length=200, description="What to do.")]


async def user_id(ctx: Context, wanted: str | None) -> int:
    """An agent's id from a name, email or id; None or `me` -> the calling user."""
    if wanted is None or wanted.strip().lower() == "me":
        return int((await account(ctx).snapshot()).me["id"])
    return await account(ctx).user_id(wanted)


@tool(title="Create a task", read_only=False, destructive=False, idempotent=False)
async def create_task(
    ctx: Context,
    person_id: PersonId,
    name: TaskName,
    type: Annotated[TaskType, Field(description="FUB task type.")] = "Follow Up",
    due: Due = None,
    assigned_to: Annotated[Agent, Field(description="Agent name, email or id (default: you).")] = None,
) -> MinimalTask:
    """Create a follow-up task (call, email, showing...) on a person, for you or another agent.

    Returns the task as FUB stored it; update_task changes or completes it."""
    body = {"personId": person_id, "name": name, "type": type, **due_fields(due),
            "assignedUserId": await user_id(ctx, assigned_to)}
    return MinimalTask.from_record(await fub(ctx).post("/tasks", body))


@tool(title="List tasks", read_only=True, idempotent=True)
async def list_tasks(
    ctx: Context,
    person_id: Annotated[int | None, Field(ge=1, description="Only this person's tasks.")] = None,
    assigned_to: Agent = None,
    due: Annotated[DueFilter | None, Field(description="today, overdue (open, past due), upcoming.")] = None,
    completed: Annotated[bool | None, Field(description="true: done only; false: open only.")] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")] = 25,
    cursor: Cursor = None,
) -> TasksPage:
    """List tasks by person, agent, due window (today / overdue / upcoming) or completion.

    Returns lean tasks (name, type, person, agent, due, done) with a cursor for more."""
    agent = await user_id(ctx, assigned_to) if assigned_to and not cursor else None
    params = {"personId": person_id, "assignedUserId": agent, "due": due, "isCompleted": completed,
              "limit": limit}
    items, paging = await read_page(ctx, "/tasks", params, cursor)
    return TasksPage(items=[MinimalTask.from_record(r) for r in items], **paging)


@tool(title="Update or complete a task", read_only=False, destructive=True, idempotent=True)
async def update_task(
    ctx: Context,
    task_id: Annotated[int, Field(ge=1, description="Task id (from list_tasks).")],
    name: Annotated[TaskName | None, Field(description="New name.")] = None,
    type: Annotated[TaskType | None, Field(description="New FUB task type.")] = None,
    due: Due = None,
    assigned_to: Agent = None,
    completed: Annotated[bool | None, Field(description="true completes the task; false reopens it.")] = None,
) -> MinimalTask:
    """Change a task's name, type, due date or agent, or mark it complete (completed=true) or open.

    Only the fields given change; they overwrite FUB's values. Returns the task as FUB stored it."""
    body: dict[str, Any] = {"name": name, "type": type, "isCompleted": completed, **due_fields(due)}
    if assigned_to is not None:
        body["assignedUserId"] = await user_id(ctx, assigned_to)
    body = {k: v for k, v in body.items() if v is not None}
    if not body:
        raise InvalidInputError("nothing to update: give at least one field (e.g. completed=true)")
    # ⚠️ FUB's PUT /tasks reference lists no due fields; dueDate/dueDateTime are sent as on create.
    return MinimalTask.from_record(await fub(ctx).put(f"/tasks/{task_id}", body))
