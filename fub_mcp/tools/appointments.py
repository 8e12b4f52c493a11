"""Appointments: read and create appointments on FUB calendars."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import AwareDatetime, Field

from fub_mcp.fub.errors import InvalidInputError
from fub_mcp.insights.clock import to_utc_iso
from fub_mcp.schemas.appointments import AppointmentsPage, MinimalAppointment
from fub_mcp.tools._base import Toolset, fub
from fub_mcp.tools.notes import read_page
from fub_mcp.tools.people import Cursor
from fub_mcp.tools.tasks import Agent, user_id

PersonIds = Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=20)]
Agents = Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=20)]

TOOLSET = Toolset("appointments", "Read and create appointments (showings, listing meetings, calls).")
tool = TOOLSET.tool


@tool(title="List appointments", read_only=True, idempotent=True)
async def list_appointments(
    ctx: Context,
    person_id: Annotated[int | None, Field(ge=1, description="Only appointments with this person.")] = None,
    user: Agent = None,
    start: Annotated[AwareDatetime | None, Field(description="Window start (with `end`).")] = None,
    end: Annotated[AwareDatetime | None, Field(description="Window end (with `start`).")] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")] = 25,
    cursor: Cursor = None,
) -> AppointmentsPage:
    """List appointments by person, agent or time window (start and end together).

    FUB returns only appointments made in FUB (not ones synced from outside calendars). Returns title,
    times (UTC), location, type, outcome and invitees, with a cursor for more."""
    if (start is None) != (end is None):
        raise InvalidInputError("give start and end together (FUB needs both for a window)")
    params = {
        "personId": person_id,
        "userId": await user_id(ctx, user) if user and not cursor else None,
        "start": to_utc_iso(start) if start else None,
        "end": to_utc_iso(end) if end else None,
        "limit": limit,
    }
    items, paging = await read_page(ctx, "/appointments", params, cursor)
    return AppointmentsPage(items=[MinimalAppointment.from_record(r) for r in items], **paging)


@tool(title="Create an appointment", read_only=False, destructive=False, idempotent=False)
async def create_appointment(
    ctx: Context,
    title: Annotated[str, Field(min_length=1, max_length=200, description="e.g. Showing: 12 Oak St.")],
    start: Annotated[AwareDatetime, Field(description="Start, with UTC offset (2026-05-01T15:00:00-05:00).")],
    end: Annotated[AwareDatetime, Field(description="End, with UTC offset.")],
    person_ids: Annotated[PersonIds | None, Field(description="People (leads/clients) invited.")] = None,
    users: Annotated[Agents | None, Field(description="Agents: names, emails or ids (default: you).")] = None,
    location: Annotated[str | None, Field(max_length=500)] = None,
    description: Annotated[str | None, Field(max_length=5000)] = None,
    all_day: bool = False,
) -> MinimalAppointment:
    """Put an appointment (showing, listing meeting, call) on the calendar with people and agents.

    No invitation emails are sent. Returns the appointment as FUB stored it."""
    if end < start:
        raise InvalidInputError("end is before start")
    agents = [await user_id(ctx, u) for u in users or ["me"]]
    # ⚠️ Invitee shape: FUB's reference shows {personId, name, email} / {userId, name} (name and email
    # optional); one client sends [{type, id}] instead. The documented shape is used, ids only.
    invitees = [{"personId": p} for p in dict.fromkeys(person_ids or [])] + [
        {"userId": u} for u in dict.fromkeys(agents)
    ]
    body = {"title": title, "start": to_utc_iso(start), "end": to_utc_iso(end), "allDay": all_day,
            "invitees": invitees, "location": location, "description": description}
    record = await fub(ctx).post("/appointments", {k: v for k, v in body.items() if v is not None})
    return MinimalAppointment.from_record(record)
