"""The tasks toolset against the sandbox, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from fub_mcp.schemas.tasks import MinimalTask
from fub_mcp.tools import tasks
from tests.tools.conftest import requests_seen
from tests.tools.test_leads import hint_table
from tests.tools.test_people import call, error_text

pytestmark = pytest.mark.anyio


def test_tasks_tools_declare_honest_hints() -> None:
    assert hint_table(tasks.TOOLSET) == {
        "create_task": (False, False, False, False),
        "list_tasks": (True, False, True, False),
        "update_task": (False, True, True, False),
    }


async def test_create_task_on_a_date_is_assigned_to_the_caller(client: Client, sandbox_app: Any) -> None:
    args = {"person_id": 5, "name": "Send CMA", "type": "Email", "due": "2026-12-01"}
    task = await call(client, "create_task", args)
    assert (task["assigned_to"], task["due"], task["completed"]) == ("Olivia Owner", "2026-12-01", False)
    sent = requests_seen(sandbox_app, "POST", "/v1/tasks")[-1]["json"]
    assert sent == {"personId": 5, "name": "Send CMA", "type": "Email", "dueDate": "2026-12-01",
                    "assignedUserId": 1}


async def test_create_task_at_a_time_sends_due_date_time(client: Client, sandbox_app: Any) -> None:
    args = {"person_id": 5, "name": "Call", "due": "2026-12-01T15:00:00-06:00", "assigned_to": "Marcus Reed"}
    task = await call(client, "create_task", args)
    assert task["assigned_to"] == "Marcus Reed" and task["due"] == "2026-12-01T21:00:00Z"
    sent = requests_seen(sandbox_app, "POST", "/v1/tasks")[-1]["json"]
    assert sent["dueDateTime"] == "2026-12-01T15:00:00-06:00" and "dueDate" not in sent


async def test_create_task_refuses_a_time_without_offset_and_an_unknown_agent(client: Client) -> None:
    await error_text(client, "create_task", {"person_id": 5, "name": "x", "due": "2026-12-01T15:00:00"})
    text = await error_text(client, "create_task", {"person_id": 5, "name": "x", "assigned_to": "Nobody"})
    assert "no user matches" in text and "Olivia Owner" in text


async def test_list_tasks_sends_fub_filters_and_pages(client: Client, sandbox_app: Any) -> None:
    args = {"assigned_to": "me", "completed": False, "due": "overdue", "limit": 2}
    first = await call(client, "list_tasks", args)
    assert first["items"] and first["has_more"]
    assert all(t["assigned_to"] == "Olivia Owner" and not t["completed"] for t in first["items"])
    query = requests_seen(sandbox_app, "GET", "/v1/tasks")[-1]["query"]
    assert query == {"assignedUserId": "1", "due": "overdue", "isCompleted": "false", "limit": "2"}
    second = await call(client, "list_tasks", {"cursor": first["next_cursor"]})
    assert {t["id"] for t in first["items"]}.isdisjoint(t["id"] for t in second["items"])


async def test_update_task_completes_it(client: Client, sandbox_app: Any) -> None:
    task = await call(client, "create_task", {"person_id": 6, "name": "Follow up"})
    done = await call(client, "update_task", {"task_id": task["id"], "completed": True, "name": "Done"})
    assert done["completed"] is True and done["completed_at"] and done["name"] == "Done"
    sent = requests_seen(sandbox_app, "PUT", "/v1/tasks")[-1]["json"]
    assert sent == {"name": "Done", "isCompleted": True}


async def test_update_task_needs_a_field_and_an_existing_task(client: Client) -> None:
    assert "nothing to update" in await error_text(client, "update_task", {"task_id": 1})
    text = await error_text(client, "update_task", {"task_id": 987654, "completed": True})
    assert "task 987654 not found" in text


def test_a_task_reads_assigned_to_in_either_casing() -> None:
    assert MinimalTask.from_record({"id": 1, "AssignedTo": "A"}).assigned_to == "A"
    assert MinimalTask.from_record({"id": 1, "assignedTo": "B"}).assigned_to == "B"
