"""Tasks: FUB's task types, lean task records, and the due-date mapping."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from fub_mcp.schemas.common import ListResult, ToolResult, clean_text

__all__ = ["DueFilter", "MinimalTask", "TaskType", "TasksPage", "due_fields"]

TaskType = Literal[
    "Follow Up", "Call", "Email", "Text", "Appointment", "Showing", "Closing", "Open House", "Thank You"
]
DueFilter = Literal["today", "overdue", "upcoming"]


def due_fields(due: date | datetime | None) -> dict[str, str]:
    """A date -> FUB's `dueDate` (YYYY-MM-DD); an aware datetime -> `dueDateTime` (ISO with offset)."""
    if due is None:
        return {}
    if isinstance(due, datetime):
        return {"dueDateTime": due.isoformat()}
    return {"dueDate": due.isoformat()}


class MinimalTask(ToolResult):
    """A task (to-do) on a person."""

    id: int
    name: str | None = None
    type: str | None = None
    person_id: int | None = None
    person: str | None = Field(None, description="The person's name.")
    assigned_to: str | None = Field(None, description="Assigned agent's name.")
    assigned_user_id: int | None = None
    due: str | None = Field(None, description="Due time (ISO, UTC) when one is set, else the due date.")
    completed: bool = False
    completed_at: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> MinimalTask:
        person = record.get("person") if isinstance(record.get("person"), dict) else {}
        return cls(
            id=record["id"],
            name=clean_text(record.get("name"), limit=200),
            type=record.get("type"),
            person_id=record.get("personId"),
            person=clean_text(person.get("name"), limit=120),
            # FUB's documented example spells it `AssignedTo`; read the usual casing too.
            assigned_to=record.get("AssignedTo") or record.get("assignedTo"),
            assigned_user_id=record.get("assignedUserId"),
            due=record.get("dueDateTime") or record.get("dueDate"),
            completed=bool(record.get("isCompleted")),
            completed_at=record.get("completed"),
        )

    def summary(self) -> str:
        done = ", done" if self.completed else ""
        who = self.person or f"person {self.person_id}"
        return f"task {self.id} {self.name!r} ({self.type}) for {who}, due {self.due or 'no date'}{done}"


class TasksPage(ListResult[MinimalTask]):
    """A page of tasks."""

    noun: ClassVar[str] = "tasks"
