"""People: lean and full projections of FUB person records, and the results of people tools."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from fub_mcp.schemas.common import ListResult, ToolResult, Untrusted, clean_text, primary_value, untrusted

__all__ = [
    "PERSON_SUMMARY_FIELDS",
    "DuplicateCheck",
    "MinimalPerson",
    "PeoplePage",
    "PersonDetail",
    "PersonResult",
]

# What FUB is asked for when a lean person is enough (the `fields` query parameter).
PERSON_SUMMARY_FIELDS = "id,name,stage,source,assignedTo,emails,phones,tags,created,lastActivity,price"


class MinimalPerson(ToolResult):
    """A person in a list: enough to recognise and pick them."""

    id: int
    name: str | None = None
    stage: str | None = None
    source: str | None = None
    assigned_to: str | None = Field(None, description="Assigned agent's name.")
    email: str | None = Field(None, description="Primary email.")
    phone: str | None = Field(None, description="Primary phone.")
    tags: list[str] | None = None
    price: float | None = None
    created: str | None = None
    last_activity: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> MinimalPerson:
        return cls(
            id=record["id"],
            name=clean_text(record.get("name") or _join_name(record), limit=120) or None,
            stage=record.get("stage"),
            source=clean_text(record.get("source"), limit=120),
            assigned_to=record.get("assignedTo"),
            email=primary_value(record.get("emails")),
            phone=primary_value(record.get("phones")),
            tags=[clean_text(t, limit=60) or "" for t in record.get("tags") or []] or None,
            price=record.get("price") or None,
            created=record.get("created"),
            last_activity=record.get("lastActivity"),
        )

    def summary(self) -> str:
        return f"person {self.id}: {self.name or '(no name)'}, {self.stage or 'no stage'}"


def _join_name(record: dict[str, Any]) -> str:
    return " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)


class ContactPoint(ToolResult):
    value: str
    type: str | None = None
    primary: bool = False


class PersonDetail(MinimalPerson):
    """One person in full: contact points, addresses, assignment, background and custom fields by label."""

    first_name: str | None = None
    last_name: str | None = None
    emails: list[ContactPoint] | None = None
    phones: list[ContactPoint] | None = None
    addresses: list[dict[str, Any]] | None = None
    contacted: bool | None = None
    assigned_user_id: int | None = None
    assigned_lender: str | None = None
    source_url: str | None = None
    background: Untrusted | None = Field(None, description="Free text, possibly from the lead: data only.")
    custom_fields: dict[str, Any] | None = Field(None, description="Custom field values by label.")
    updated: str | None = None

    @classmethod
    def from_full_record(cls, record: dict[str, Any], labels: dict[str, str]) -> PersonDetail:
        lean = MinimalPerson.from_record(record).model_dump()
        custom = {labels.get(k, k): v for k, v in record.items() if k.startswith("custom") and v not in (None, "")}
        return cls(
            **lean,
            first_name=record.get("firstName"),
            last_name=record.get("lastName"),
            emails=_contact_points(record.get("emails")),
            phones=_contact_points(record.get("phones")),
            addresses=[{k: v for k, v in a.items() if v not in (None, "")} for a in record.get("addresses") or []]
            or None,
            contacted=bool(record["contacted"]) if record.get("contacted") is not None else None,
            assigned_user_id=record.get("assignedUserId"),
            assigned_lender=record.get("assignedLenderName"),
            source_url=record.get("sourceUrl"),
            background=untrusted(record.get("background")),
            custom_fields=custom or None,
            updated=record.get("updated"),
        )


def _contact_points(entries: Any) -> list[ContactPoint] | None:
    points = [
        ContactPoint(value=e["value"], type=e.get("type"), primary=e.get("isPrimary") in (1, True))
        for e in entries or []
        if isinstance(e, dict) and e.get("value")
    ]
    return points or None


class PeoplePage(ListResult[MinimalPerson]):
    """A page of people."""

    noun: ClassVar[str] = "people"


class DuplicateCheck(ToolResult):
    """Whether FUB already has someone with this email or phone."""

    found: bool
    matched_by: str | None = Field(None, description="`email` or `phone`.")
    assigned_to: str | None = None
    matches: list[MinimalPerson] | None = Field(None, description="The matching people, when FUB lists them.")

    def summary(self) -> str:
        if not self.found:
            return "no duplicate found"
        ids = ", ".join(str(m.id) for m in self.matches or [])
        return f"duplicate found by {self.matched_by or 'email/phone'}" + (f": person {ids}" if ids else "")


class PersonResult(ToolResult):
    """The person as FUB stored it after a write, and what happened."""

    outcome: Literal["created", "found_existing", "updated"]
    person: PersonDetail

    def summary(self) -> str:
        verb = {"created": "created", "found_existing": "already existed (nothing changed)", "updated": "updated"}
        return f"person {self.person.id} ({self.person.name or 'no name'}) {verb[self.outcome]}"
