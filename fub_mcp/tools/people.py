"""People: search, read, de-duplicate, create and update FUB people (leads and contacts)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from fub_mcp.fub.errors import InvalidInputError
from fub_mcp.fub.pagination import decode_cursor, encode_cursor
from fub_mcp.schemas.people import (
    PERSON_SUMMARY_FIELDS,
    DuplicateCheck,
    MinimalPerson,
    PeoplePage,
    PersonDetail,
    PersonResult,
)
from fub_mcp.tools._base import Toolset, account, fub

TOOLSET = Toolset("people", "Find, read, create and update people (leads, clients, contacts).")
tool = TOOLSET.tool

PersonId = Annotated[int, Field(ge=1, description="FUB person id (from search_people).")]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")]
Cursor = Annotated[str | None, Field(max_length=2000, description="next_cursor from a previous page.")]
Emails = Annotated[list[Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]],
                   Field(max_length=10, description="Email addresses, primary first.")]
Phones = Annotated[list[Annotated[str, Field(min_length=3, max_length=40)]],
                   Field(max_length=10, description="Phone numbers, primary first.")]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=50)]
CustomFields = Annotated[
    dict[str, str | int | float | bool | None],
    Field(max_length=50, description="Custom field values by label or FUB name, e.g. {\"Closing Date\": \"2026-05-01\"}; null clears."),
]
PeopleSort = Literal[
    "created", "-created", "updated", "-updated", "lastActivity", "-lastActivity",
    "name", "-name", "price", "-price", "nextTask", "lastCommunication", "-lastCommunication",
]

_DIGITS = re.compile(r"\D")


def query_params(query: str) -> dict[str, str]:
    """FUB has no free-text search: route the text to `email`, `phone` or `name` by its shape."""
    text = query.strip()
    if "@" in text:
        return {"email": text}
    digits = _DIGITS.sub("", text)
    if len(digits) >= 7 and len(digits) >= len(text.replace(" ", "")) * 0.6:
        return {"phone": digits}
    return {"name": text}


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo is None else value.isoformat()
    return value.isoformat()


async def person_body(
    ctx: Context,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    stage: str | None = None,
    source: str | None = None,
    tags: list[str] | None = None,
    assigned_to: str | None = None,
    custom_fields: dict[str, Any] | None = None,
    background: str | None = None,
    price: float | None = None,
) -> dict[str, Any]:
    """Map tool arguments to FUB's person fields, resolving names (stage, agent, custom fields)."""
    acct = account(ctx)
    body: dict[str, Any] = {}
    if first_name is not None:
        body["firstName"] = first_name
    if last_name is not None:
        body["lastName"] = last_name
    if emails is not None:
        body["emails"] = [{"value": e} for e in emails]
    if phones is not None:
        body["phones"] = [{"value": p} for p in phones]
    if stage is not None:
        body["stage"] = await acct.person_stage(stage)
    if source is not None:
        body["source"] = source
    if tags is not None:
        body["tags"] = list(dict.fromkeys(tags))
    if assigned_to is not None:
        body["assignedUserId"] = await acct.user_id(assigned_to)
    if background is not None:
        body["background"] = background
    if price is not None:
        body["price"] = price
    for key, value in (custom_fields or {}).items():
        body[(await acct.custom_field(key))["name"]] = value
    return body


async def person_detail(ctx: Context, record: dict[str, Any]) -> PersonDetail:
    snapshot = await account(ctx).snapshot()
    return PersonDetail.from_full_record(record, snapshot.custom_field_labels())


@tool(title="Search people", read_only=True, idempotent=True)
async def search_people(
    ctx: Context,
    query: Annotated[str | None, Field(max_length=200, description="A name, email or phone (partial names match).")] = None,
    stage: Annotated[str | None, Field(max_length=100, description="Person stage name, e.g. Lead.")] = None,
    tags: Annotated[list[str] | None, Field(max_length=20, description="Match people with ANY of these tags.")] = None,
    source: Annotated[str | None, Field(max_length=100, description="Lead source, e.g. Zillow.")] = None,
    assigned_to: Annotated[str | None, Field(max_length=100, description="Agent name, email or id.")] = None,
    smart_list: Annotated[str | None, Field(max_length=100, description="Smart list name or id.")] = None,
    created_after: Annotated[datetime | date | None, Field(description="Only people created after this.")] = None,
    last_activity_after: Annotated[datetime | date | None, Field(description="Only people active after this.")] = None,
    include_trash: Annotated[bool, Field(description="Include people in the Trash stage.")] = False,
    sort: Annotated[PeopleSort, Field(description="Sort key; a leading '-' sorts descending.")] = "-created",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> PeoplePage:
    """Find people (leads, clients, contacts) by name, email, phone, stage, tags, source, agent or smart list.

    Returns a lean page (id, name, stage, source, agent, primary email/phone, tags, dates) with
    `total`, `has_more` and `next_cursor`. With `cursor`, the other filters are taken from the cursor.
    Call get_person for one person's full record, or lead_timeline for their activity.
    """
    if cursor:
        params = decode_cursor(cursor)
    else:
        params: dict[str, Any] = {"sort": sort, "limit": limit, "fields": PERSON_SUMMARY_FIELDS}
        if query:
            params.update(query_params(query))
        if stage:
            params["stage"] = await account(ctx).person_stage(stage)
        if tags:
            params["tags"] = ",".join(tags)
        if source:
            params["source"] = source
        if assigned_to:
            params["assignedUserId"] = await account(ctx).user_id(assigned_to)
        if smart_list:
            params["smartListId"] = await account(ctx).smart_list_id(smart_list)
        if created_after:
            params["createdAfter"] = _iso(created_after)
        if last_activity_after:
            params["lastActivityAfter"] = _iso(last_activity_after)
        if include_trash:
            params["includeTrash"] = "true"
    page = await fub(ctx).get_page("/people", params)
    following = page.next_page_params()
    return PeoplePage(
        items=[MinimalPerson.from_record(r) for r in page.items],
        total=page.total,
        has_more=following is not None,
        next_cursor=encode_cursor({**params, **following}) if following else None,
    )


@tool(title="Get a person", read_only=True, idempotent=True)
async def get_person(
    ctx: Context,
    person_id: PersonId,
    detail: Annotated[Literal["summary", "full"], Field(description="`full` adds contacts, addresses, custom fields.")] = "summary",
) -> PersonDetail:
    """Read one person by id, lean (`summary`) or complete (`full`).

    `full` adds every email, phone and address, the assignment, background and custom fields by label.
    For their activity call lead_timeline."""
    if detail == "summary":
        record = await fub(ctx).get(f"/people/{person_id}", {"fields": PERSON_SUMMARY_FIELDS})
        return PersonDetail(**MinimalPerson.from_record(record).model_dump())
    record = await fub(ctx).get(f"/people/{person_id}", {"fields": "allFields"})
    return await person_detail(ctx, record)


@tool(title="Check for a duplicate person", read_only=True, idempotent=True)
async def check_duplicate(
    ctx: Context,
    email: Annotated[str | None, Field(max_length=254, description="Email to look for.")] = None,
    phone: Annotated[str | None, Field(max_length=40, description="Phone to look for.")] = None,
) -> DuplicateCheck:
    """Check whether FUB already has a person with this email or phone, before creating one.

    Returns `found`, `matched_by` and the matching people's lean records."""
    if not email and not phone:
        raise InvalidInputError("give an email or a phone to check")
    result = await fub(ctx).get("/people/checkDuplicate", {"email": email, "phone": phone})
    found = bool(result and result.get("found"))
    matches = None
    if found:
        lookup = {"email": email} if email and result.get("matchedBy") != "phone" else {"phone": _DIGITS.sub("", phone or "")}
        page = await fub(ctx).get_page("/people", {**lookup, "limit": 5, "fields": PERSON_SUMMARY_FIELDS, "includeTrash": "true"})
        matches = [MinimalPerson.from_record(r) for r in page.items] or None
    return DuplicateCheck(
        found=found,
        matched_by=(result or {}).get("matchedBy"),
        assigned_to=(result or {}).get("assignedTo") if isinstance((result or {}).get("assignedTo"), str) else None,
        matches=matches,
    )


@tool(title="Create a person", read_only=False, destructive=False, idempotent=False)
async def create_person(
    ctx: Context,
    first_name: Annotated[str | None, Field(max_length=100)] = None,
    last_name: Annotated[str | None, Field(max_length=100)] = None,
    emails: Emails | None = None,
    phones: Phones | None = None,
    stage: Annotated[str | None, Field(max_length=100, description="Person stage name (default Lead).")] = None,
    source: Annotated[str | None, Field(max_length=100, description="Lead source; only settable at creation.")] = None,
    tags: Tags | None = None,
    assigned_to: Annotated[str | None, Field(max_length=100, description="Agent name, email or id.")] = None,
    custom_fields: CustomFields | None = None,
    background: Annotated[str | None, Field(max_length=5000)] = None,
) -> PersonResult:
    """Add a contact directly (e.g. a sphere contact or a past client), de-duplicated by email/phone.

    For a new LEAD use log_event instead: only log_event routes the lead, notifies the agent and starts
    action plans. If someone with the same email or phone exists, nothing is changed and `outcome` is
    `found_existing` with that person; otherwise `created` with the person as FUB stored it."""
    if not (first_name or last_name or emails or phones):
        raise InvalidInputError("give at least a name, an email or a phone")
    body = await person_body(
        ctx, first_name=first_name, last_name=last_name, emails=emails, phones=phones, stage=stage,
        source=source, tags=tags, assigned_to=assigned_to, custom_fields=custom_fields, background=background,
    )
    # FUB's own check, atomic with the create: 200 + the existing person (unchanged) on a match.
    response = await fub(ctx).request("POST", "/people", params={"deduplicate": "true"}, json=body)
    outcome = "created" if response.status_code == 201 else "found_existing"
    return PersonResult(outcome=outcome, person=await person_detail(ctx, response.data))


# open world: a new stage or agent can start FUB automations and notify the agent.
@tool(title="Update a person", read_only=False, destructive=True, idempotent=True, open_world=True)
async def update_person(
    ctx: Context,
    person_id: PersonId,
    first_name: Annotated[str | None, Field(max_length=100)] = None,
    last_name: Annotated[str | None, Field(max_length=100)] = None,
    emails: Annotated[Emails | None, Field(description="REPLACES all emails (primary first).")] = None,
    phones: Annotated[Phones | None, Field(description="REPLACES all phones (primary first).")] = None,
    stage: Annotated[str | None, Field(max_length=100, description="Person stage name or id.")] = None,
    tags: Annotated[Tags | None, Field(description="REPLACES all tags; prefer add_tags/remove_tags.")] = None,
    add_tags: Annotated[Tags | None, Field(description="Tags to add, keeping the others.")] = None,
    remove_tags: Annotated[Tags | None, Field(description="Tags to remove, keeping the others.")] = None,
    assigned_to: Annotated[str | None, Field(max_length=100, description="Agent name, email or id.")] = None,
    custom_fields: CustomFields | None = None,
    background: Annotated[str | None, Field(max_length=5000)] = None,
    price: Annotated[float | None, Field(ge=0, le=1_000_000_000)] = None,
) -> PersonResult:
    """Change a person's name, contacts, stage, tags, agent, price, background or custom fields.

    FUB overwrites whole lists: `emails`, `phones` and `tags` replace what is there. To change tags
    safely use `add_tags` / `remove_tags` (the others are kept). Returns the person as FUB stored it."""
    if tags is not None and (add_tags or remove_tags):
        raise InvalidInputError("use either tags (replace all) or add_tags/remove_tags, not both")
    body = await person_body(
        ctx, first_name=first_name, last_name=last_name, emails=emails, phones=phones, stage=stage,
        tags=tags, assigned_to=assigned_to, custom_fields=custom_fields, background=background, price=price,
    )
    client = fub(ctx)
    params: dict[str, Any] = {}
    if remove_tags:
        current = await client.get(f"/people/{person_id}", {"fields": "tags"})
        drop = {t.lower() for t in remove_tags}
        kept = [t for t in current.get("tags") or [] if t.lower() not in drop]
        body["tags"] = list(dict.fromkeys(kept + list(add_tags or [])))
    elif add_tags:
        body["tags"] = list(dict.fromkeys(add_tags))
        params["mergeTags"] = "true"
    if not body:
        raise InvalidInputError("nothing to update: give at least one field")
    record = await client.put(f"/people/{person_id}", body, params)
    return PersonResult(outcome="updated", person=await person_detail(ctx, record))
