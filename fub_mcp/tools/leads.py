"""Leads: send a new lead, or a lead's activity, to FUB through POST /events (FUB's lead intake)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import AwareDatetime, Field

from fub_mcp.fub.errors import InvalidInputError, NotFoundError
from fub_mcp.insights.clock import to_utc_iso
from fub_mcp.schemas.events import EventResult, EventType, LeadPerson, LeadProperty
from fub_mcp.schemas.people import MinimalPerson
from fub_mcp.tools._base import Toolset, app, fub
from fub_mcp.tools.people import person_body

TOOLSET = Toolset("leads", "Send new leads and lead activity to FUB (routing, notifications, action plans).")
tool = TOOLSET.tool

_OUTCOMES = {201: "created_person", 200: "updated_existing_person", 204: "source_archived"}
HISTORICAL_AFTER = timedelta(days=1)  # FUB: events older than a day are history and trigger nothing

Text = Annotated[str | None, Field(max_length=5000)]
Source = Annotated[
    str | None, Field(max_length=100, description="Lead source, e.g. Zillow (picks the lead flow).")
]
When = Annotated[AwareDatetime | None, Field(description="When it happened, with UTC offset (default now).")]


# Not idempotent (each call adds an event); destructive because an existing person's price and custom
# fields are overwritten; open world because FUB routes the lead, notifies agents and starts action plans.
@tool(title="Log a lead event", read_only=False, destructive=True, idempotent=False, open_world=True)
async def log_event(
    ctx: Context,
    type: Annotated[EventType, Field(description="`Inquiry`: Property Inquiry if a property, else General.")],
    source: Source = None,
    message: Annotated[Text, Field(description="What the lead wrote.")] = None,
    description: Annotated[Text, Field(description="Extra context about the event.")] = None,
    person: Annotated[LeadPerson | None, Field(description="The lead's details (new, or to add).")] = None,
    person_id: Annotated[int | None, Field(ge=1, description="An existing person's id.")] = None,
    property: Annotated[LeadProperty | None, Field(description="The property the lead asked about.")] = None,
    occurred_at: When = None,
) -> EventResult:
    """Send a new lead or a lead's activity (inquiry, registration, showing request...) to FUB.

    This is FUB's preferred lead intake, unlike create_person: FUB de-duplicates by email/phone, adds
    the event to the timeline, routes the lead through the lead flow of `source`, notifies the agent
    and starts action plans/automations (Registration, Inquiry types, Visited Open House).
    `occurred_at` more than a day ago is logged as history: no notifications, no automations.
    FUB cannot re-assign a person through events: call update_person afterwards.
    Returns `outcome` (created_person / updated_existing_person / source_archived) and the person."""
    if person is None and person_id is None:
        raise InvalidInputError("give `person` (the lead's details) or `person_id` (an existing person)")
    fields: dict[str, Any] = {"id": person_id} if person_id else {}
    fields.update(await person_body(ctx, **(person.model_dump(exclude_none=True) if person else {})))
    body = {
        "type": type,
        "source": source,
        "system": app(ctx).settings.system,
        "message": message,
        "description": description,
        "occurredAt": to_utc_iso(occurred_at) if occurred_at else None,
        "person": fields,
        "property": property.to_fub() if property else None,
    }
    body = {k: v for k, v in body.items() if v is not None}
    try:
        response = await fub(ctx).request("POST", "/events", json=body)
    except NotFoundError as exc:  # FUB's 404 on /events means person.id is unknown
        raise InvalidInputError(f"person {person_id} not found (or not visible to this key's user)") from exc
    historical = occurred_at is not None and datetime.now(UTC) - occurred_at > HISTORICAL_AFTER
    return EventResult(
        outcome=_OUTCOMES.get(response.status_code, "updated_existing_person"),
        person=MinimalPerson.from_record(response.data) if isinstance(response.data, dict) else None,
        note="occurred_at is over a day ago: logged as history, no automations ran" if historical else None,
    )
