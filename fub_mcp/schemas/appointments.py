"""Appointments: lean records with their invitees (people and agents)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from fub_mcp.schemas.common import ListResult, ToolResult, clean_text

__all__ = ["AppointmentsPage", "Invitee", "MinimalAppointment"]


class Invitee(ToolResult):
    """An agent (`user_id`) or a person (`person_id`) invited to an appointment."""

    user_id: int | None = None
    person_id: int | None = None
    name: str | None = None


class MinimalAppointment(ToolResult):
    """An appointment on a FUB calendar."""

    id: int
    title: str | None = None
    start: str | None = Field(None, description="UTC.")
    end: str | None = Field(None, description="UTC.")
    all_day: bool | None = None
    location: str | None = None
    description: str | None = Field(None, description="Shortened.")
    type: str | None = None
    outcome: str | None = None
    invitees: list[Invitee] | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> MinimalAppointment:
        invitees = [
            Invitee(user_id=i.get("userId"), person_id=i.get("personId"),
                    name=clean_text(i.get("name"), limit=120))
            for i in record.get("invitees") or []
            if isinstance(i, dict)
        ]
        return cls(
            id=record["id"],
            title=clean_text(record.get("title"), limit=200),
            start=record.get("start"),
            end=record.get("end"),
            all_day=record.get("allDay"),
            location=clean_text(record.get("location"), limit=200) or None,
            description=clean_text(record.get("description"), limit=300) or None,
            type=record.get("type"),
            outcome=record.get("outcome"),
            invitees=invitees or None,
        )

    def summary(self) -> str:
        return f"appointment {self.id} {self.title!r} {self.start} - {self.end}"


class AppointmentsPage(ListResult[MinimalAppointment]):
    """A page of appointments."""

    noun: ClassVar[str] = "appointments"
