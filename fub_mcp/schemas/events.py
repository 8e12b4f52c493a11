"""Events (lead intake): FUB's event types, the lead and property inputs, and what FUB did with them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from fub_mcp.schemas.common import ToolResult
from fub_mcp.schemas.people import MinimalPerson

__all__ = ["EventOutcome", "EventResult", "EventType", "LeadPerson", "LeadProperty"]

EventType = Literal[
    "Registration", "Inquiry", "Seller Inquiry", "Property Inquiry", "General Inquiry", "Viewed Property",
    "Saved Property", "Visited Website", "Incoming Call", "Unsubscribed", "Property Search",
    "Saved Property Search", "Visited Open House", "Viewed Page",
]
EventOutcome = Literal["created_person", "updated_existing_person", "source_archived"]

Short = Annotated[str, Field(min_length=1, max_length=100)]


class LeadPerson(BaseModel):
    """Who the lead is. FUB matches an existing person by email (or phone plus first and last name)."""

    model_config = ConfigDict(extra="forbid")

    first_name: Short | None = None
    last_name: Short | None = None
    emails: list[Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] | None = Field(
        None, max_length=10, description="Primary first."
    )
    phones: list[Annotated[str, Field(min_length=3, max_length=40)]] | None = Field(
        None, max_length=10, description="Primary first."
    )
    tags: list[Short] | None = Field(None, max_length=50, description="Added to the person's tags.")
    custom_fields: dict[str, str | int | float | bool | None] | None = Field(
        None, max_length=50, description="Custom field values by label or FUB name."
    )


class LeadProperty(BaseModel):
    """The property the event is about (sent to FUB as `property`)."""

    model_config = ConfigDict(extra="forbid", alias_generator=AliasGenerator(serialization_alias=to_camel))

    street: Annotated[str, Field(max_length=200)] | None = None
    city: Short | None = None
    state: Annotated[str, Field(max_length=50, description="Abbreviation, e.g. TX.")] | None = None
    code: Annotated[str, Field(max_length=12, description="ZIP/postal code (a string).")] | None = None
    mls_number: Annotated[str, Field(max_length=50)] | None = None
    price: Annotated[float, Field(ge=0, le=1_000_000_000)] | None = None
    for_rent: bool | None = None
    url: Annotated[str, Field(max_length=1000)] | None = None
    type: Annotated[str, Field(max_length=100, description="e.g. Single-Family Home, Condo.")] | None = None
    bedrooms: Annotated[float, Field(ge=0, le=100)] | None = None
    bathrooms: Annotated[float, Field(ge=0, le=100)] | None = None
    area: Annotated[float, Field(ge=0, description="Square feet.")] | None = None
    lot: Annotated[float, Field(ge=0, description="Acres.")] | None = None

    def to_fub(self) -> dict[str, object]:
        return self.model_dump(by_alias=True, exclude_none=True)


class EventResult(ToolResult):
    """What FUB did with the event, and the person as FUB stored it."""

    outcome: EventOutcome = Field(
        description="created_person (201), updated_existing_person (200), or source_archived (204: FUB "
        "ignored the lead because the lead flow of this source is archived; no person)."
    )
    person: MinimalPerson | None = None
    note: str | None = None

    def summary(self) -> str:
        note = f". {self.note}" if self.note else ""
        if self.person is None:
            return f"FUB ignored the lead: this source's lead flow is archived, no person was created{note}"
        who = f"person {self.person.id} ({self.person.name or 'no name'})"
        if self.outcome == "created_person":
            return f"new lead {who} created, assigned to {self.person.assigned_to or 'nobody'}{note}"
        return f"event logged on existing {who}; new details added{note}"
