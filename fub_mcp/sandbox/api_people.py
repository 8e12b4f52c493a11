"""People, `/people/checkDuplicate` and events (lead intake), with FUB's dedupe rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from starlette.responses import Response

from fub_mcp.sandbox._util import (
    FUBError,
    as_bool,
    as_int,
    as_number,
    bad_request,
    check_fields,
    csv,
    csv_ints,
    fmt_ts,
    norm_email,
    norm_phone,
    not_found,
    parse_date,
    parse_ts,
)
from fub_mcp.sandbox.http import BASIC_SORTS, Req, json_response, no_content, paginate

__all__ = ["PEOPLE_ROUTES", "EVENT_TYPES"]

PERSON_FIELDS = (
    "id",
    "created",
    "updated",
    "createdVia",
    "lastActivity",
    "name",
    "firstName",
    "lastName",
    "stage",
    "stageId",
    "source",
    "sourceUrl",
    "contacted",
    "price",
    "assignedLenderId",
    "assignedLenderName",
    "assignedUserId",
    "assignedPondId",
    "assignedTo",
    "tags",
    "emails",
    "phones",
    "addresses",
    "picture",
    "background",
    "collaborators",
    "timeframeId",
)
WRITABLE = {
    "firstName",
    "lastName",
    "stage",
    "contacted",
    "price",
    "assignedTo",
    "assignedUserId",
    "assignedPondId",
    "assignedLenderName",
    "assignedLenderId",
    "emails",
    "phones",
    "addresses",
    "tags",
    "background",
    "collaborators",
    "timeframeId",
}
CREATE_ONLY = {"createdAt", "source", "sourceUrl"}  # FUB: source/sourceUrl are only settable at creation
EVENT_PERSON_FIELDS = {
    "id",
    "firstName",
    "lastName",
    "stage",
    "source",
    "sourceUrl",
    "contacted",
    "price",
    "assignedTo",
    "assignedLenderName",
    "assignedUserId",
    "assignedLenderId",
    "emails",
    "phones",
    "addresses",
    "tags",
}
ADDRESS_FIELDS = {"type", "street", "city", "state", "code", "country"}
CONTACT_FIELDS = {"value", "type", "isPrimary", "status"}

EVENT_TYPES = (
    "Registration",
    "Inquiry",
    "Seller Inquiry",
    "Property Inquiry",
    "General Inquiry",
    "Viewed Property",
    "Saved Property",
    "Visited Website",
    "Incoming Call",
    "Unsubscribed",
    "Property Search",
    "Saved Property Search",
    "Visited Open House",
    "Viewed Page",
)
EVENT_FIELDS = {
    "source",
    "system",
    "type",
    "message",
    "description",
    "occurredAt",
    "pageTitle",
    "pageUrl",
    "pageReferrer",
    "pageDuration",
    "person",
    "property",
    "propertySearch",
    "campaign",
}
PROPERTY_FIELDS = {
    "street",
    "city",
    "state",
    "code",
    "mlsNumber",
    "price",
    "forRent",
    "url",
    "type",
    "bedrooms",
    "bathrooms",
    "area",
    "lot",
}
PROPERTY_ORDER = (
    "street",
    "city",
    "state",
    "code",
    "mlsNumber",
    "price",
    "forRent",
    "url",
    "type",
    "bedrooms",
    "bathrooms",
    "area",
    "lot",
)
SEARCH_FIELDS = {
    "type",
    "neighborhood",
    "city",
    "state",
    "code",
    "minPrice",
    "maxPrice",
    "minBedrooms",
    "maxBedrooms",
    "minBathrooms",
    "maxBathrooms",
}
CAMPAIGN_FIELDS = {"source", "medium", "term", "content", "name"}
DEFAULT_SOURCE = "<unspecified>"  # ⚠️ what FUB shows for a person created without a source

PEOPLE_SORTS = {
    **BASIC_SORTS,
    "created": "COALESCE(created, '')",
    "name": "lower(COALESCE(json_extract(data, '$.name'), ''))",
    "firstName": "lower(COALESCE(json_extract(data, '$.firstName'), ''))",
    "lastName": "lower(COALESCE(json_extract(data, '$.lastName'), ''))",
    "price": "COALESCE(json_extract(data, '$.price'), 0)",
    "stage": "lower(COALESCE(json_extract(data, '$.stage'), ''))",
    "lastActivity": "COALESCE(json_extract(data, '$.lastActivity'), '')",
    "lastLeadActivity": "COALESCE(json_extract(data, '$.lastActivity'), '')",
    "lastCommunication": "COALESCE(json_extract(data, '$._lastCommunication'), '')",
    "nextTask": "COALESCE(json_extract(data, '$._nextTask'), '9999')",
}


# --- account lookups --------------------------------------------------------------------------------


def custom_fields(req: Req) -> dict[str, dict[str, Any]]:
    """Person custom fields by `name` (e.g. customClosingDate)."""
    return {f["name"]: f for f in req.sandbox.db.select("customfields")}


def users(req: Req) -> list[dict[str, Any]]:
    return req.sandbox.db.select("users")


def stage_by_name(req: Req, name: str) -> dict[str, Any] | None:
    for stage in req.sandbox.db.select("stages"):
        if stage["name"].lower() == name.strip().lower():
            return stage
    return None


def trash_stage_id(req: Req) -> int:
    stage = stage_by_name(req, "Trash")
    return int(stage["id"]) if stage else -1


def user_by_id(req: Req, user_id: Any, field: str) -> dict[str, Any]:
    uid = as_int(user_id, field)
    user = req.sandbox.db.get("users", uid)
    if user is None or user.get("status") == "Deleted":
        raise bad_request(f"Invalid {field}: there is no user with id {uid}")
    return user


def user_by_name(req: Req, name: Any, field: str) -> dict[str, Any]:
    for user in users(req):
        if isinstance(name, str) and user["name"].lower() == name.strip().lower():
            return user
    raise bad_request(f"Invalid {field}: there is no user named '{name}'")


# --- visibility -------------------------------------------------------------------------------------


def _collaborator_sql(uid: int) -> str:
    return (
        f"EXISTS (SELECT 1 FROM json_each(people.data, '$.collaborators') c "
        f"WHERE json_extract(c.value, '$.id') = {uid})"
    )


def visible_people_sql(req: Req) -> str | None:
    """SQL condition on `people` for what the caller may see (None: everything).

    Owner and brokers see everyone; an agent sees people assigned to them or where they collaborate;
    a lender sees people where they are the assigned lender."""
    role = req.user.get("role")
    uid = req.user_id
    if req.owner or role == "Broker":
        return None
    if role == "Lender":
        return f"json_extract(people.data, '$.assignedLenderId') = {uid}"
    return f"(people.assigned_user_id = {uid} OR {_collaborator_sql(uid)})"


def visible_person_ids_sql(req: Req) -> str | None:
    """SQL condition on another table's `person_id` column (None: everything)."""
    condition = visible_people_sql(req)
    return None if condition is None else f"person_id IN (SELECT id FROM people WHERE {condition})"


def can_see(req: Req, person: Mapping[str, Any]) -> bool:
    role = req.user.get("role")
    uid = req.user_id
    if req.owner or role == "Broker":
        return True
    if role == "Lender":
        return person.get("assignedLenderId") == uid
    return person.get("assignedUserId") == uid or any(
        c.get("id") == uid for c in person.get("collaborators") or []
    )


def get_person(req: Req, person_id: Any) -> dict[str, Any]:
    """The person, or FUB's 404 when absent or not visible to the caller."""
    try:
        pid = int(person_id)
    except (TypeError, ValueError):
        raise not_found() from None
    person = req.sandbox.db.get("people", pid)
    if person is None or not can_see(req, person):
        raise not_found()
    return person


def person_exists(req: Req, person_id: Any, field: str = "personId") -> dict[str, Any]:
    """For bodies that reference a person: 400 when there is no such (visible) person."""
    pid = as_int(person_id, field)
    person = req.sandbox.db.get("people", pid)
    if person is None or not can_see(req, person):
        raise bad_request(f"Invalid {field}: person {pid} does not exist")
    return person


# --- output -----------------------------------------------------------------------------------------


class Selection:
    """The `fields` parameter: a comma list (id always included), `allFields`, `allCustom`."""

    def __init__(self, raw: str | None) -> None:
        self.default = not raw
        names = set(csv(raw or ""))
        self.all_fields = "allFields" in names
        self.all_custom = "allCustom" in names or self.all_fields
        self.names = names - {"allFields", "allCustom"}


# FUB's per-channel rollups on person records (fub-api.md §7.1 lists them as sort keys). ⚠️ Which of
# them FUB returns by default is undocumented: here they come with fields=allFields or when named.
ROLLUP_FIELDS = (
    "lastIncomingCall", "lastOutgoingCall", "lastCall", "callsIncoming", "callsOutgoing", "callsDuration",
    "lastReceivedText", "lastSentText", "lastText", "textsReceived", "textsSent",
    "lastReceivedEmail", "lastSentEmail", "lastEmail", "emailsReceived", "emailsSent",
    "lastCommunication", "lastLeadActivity", "lastIdxVisit", "propertiesViewed", "propertiesSaved", "pagesViewed",
)
_IDX_TYPES = ("Viewed Property", "Visited Website", "Viewed Page", "Property Search", "Saved Property",
              "Saved Property Search")
_ROLLUP_SQL = {
    "calls": (
        "SELECT COALESCE(SUM(inc), 0), COALESCE(SUM(1 - inc), 0), MAX(CASE WHEN inc THEN at END), "
        "MAX(CASE WHEN NOT inc THEN at END), MAX(at), COALESCE(SUM(dur), 0) FROM (SELECT "
        "COALESCE(json_extract(data, '$.isIncoming'), 0) AS inc, json_extract(data, '$.created') AS at, "
        "COALESCE(json_extract(data, '$.duration'), 0) AS dur FROM calls WHERE person_id = ?)"
    ),
    "textmessages": (
        "SELECT COALESCE(SUM(inc), 0), COALESCE(SUM(1 - inc), 0), MAX(CASE WHEN inc THEN at END), "
        "MAX(CASE WHEN NOT inc THEN at END), MAX(at) FROM (SELECT "
        "COALESCE(json_extract(data, '$.isIncoming'), 0) AS inc, json_extract(data, '$.created') AS at "
        "FROM textmessages WHERE person_id = ?)"
    ),
    "events": (
        "SELECT MAX(at), MAX(CASE WHEN type IN (" + ",".join("?" * len(_IDX_TYPES)) + ") THEN at END), "
        "COALESCE(SUM(type = 'Viewed Property'), 0), COALESCE(SUM(type = 'Saved Property'), 0), "
        "COALESCE(SUM(type IN ('Viewed Page', 'Visited Website')), 0) FROM (SELECT "
        "json_extract(data, '$.type') AS type, json_extract(data, '$.created') AS at FROM events WHERE person_id = ?)"
    ),
}


def rollups(req: Req, person: Mapping[str, Any]) -> dict[str, Any]:
    """The per-channel rollups of one person, computed from their calls, texts and events (no emails
    are kept here, so the email ones are 0 / null)."""
    with req.sandbox.db.read() as conn:
        calls = conn.execute(_ROLLUP_SQL["calls"], (person["id"],)).fetchone()
        texts = conn.execute(_ROLLUP_SQL["textmessages"], (person["id"],)).fetchone()
        events = conn.execute(_ROLLUP_SQL["events"], (*_IDX_TYPES, person["id"])).fetchone()
    return {
        "callsIncoming": calls[0], "callsOutgoing": calls[1], "lastIncomingCall": calls[2],
        "lastOutgoingCall": calls[3], "lastCall": calls[4], "callsDuration": calls[5],
        "textsReceived": texts[0], "textsSent": texts[1], "lastReceivedText": texts[2], "lastSentText": texts[3],
        "lastText": texts[4], "emailsReceived": 0, "emailsSent": 0, "lastReceivedEmail": None,
        "lastSentEmail": None, "lastEmail": None, "lastCommunication": person.get("_lastCommunication"),
        "lastLeadActivity": events[0], "lastIdxVisit": events[1], "propertiesViewed": events[2],
        "propertiesSaved": events[3], "pagesViewed": events[4],
    }


def person_out(
    person: Mapping[str, Any],
    selection: Selection,
    customs: Iterable[str],
    rollup: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if selection.default or selection.all_fields:
        out = {k: person.get(k) for k in PERSON_FIELDS}
    else:
        out = {k: person.get(k) for k in PERSON_FIELDS if k == "id" or k in selection.names}
    wanted = ROLLUP_FIELDS if selection.all_fields else [k for k in ROLLUP_FIELDS if k in selection.names]
    if wanted and rollup is not None:
        computed = rollup(person)
        out.update((k, computed[k]) for k in wanted)
    for name in customs:
        if selection.all_custom or name in selection.names:
            out[name] = person.get(name)
    if "relationships" in selection.names:
        out["relationships"] = []
    return out


def serializer(req: Req) -> Any:
    selection = Selection(req.q("fields"))
    customs = list(custom_fields(req))
    return lambda person: person_out(person, selection, customs, lambda p: rollups(req, p))


# --- writing ----------------------------------------------------------------------------------------


def _emails(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise bad_request(
            'emails must be an array of objects like {"value": "jane@example.com", "type": "home"}'
        )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in value:
        check_fields(item, CONTACT_FIELDS)
        text = item.get("value")
        if not isinstance(text, str) or "@" not in text or len(text.strip()) < 3:
            raise bad_request(f"Invalid email address: {text!r}")
        if norm_email(text) in seen:
            continue
        seen.add(norm_email(text))
        out.append(
            {
                "value": text.strip(),
                "type": item.get("type") or "home",
                "status": "Not Validated",
                "isPrimary": 0,
            }
        )
    for i, email in enumerate(out):
        email["isPrimary"] = 1 if i == 0 else 0
    return out


def _phones(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
        raise bad_request(
            'phones must be an array of objects like {"value": "555-555-5555", "type": "mobile"}'
        )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in value:
        check_fields(item, CONTACT_FIELDS)
        text = item.get("value")
        digits = norm_phone(text) if isinstance(text, (str, int)) else ""
        if len(digits) < 7:
            raise bad_request(f"Invalid phone number: {text!r}")
        if digits in seen:
            continue
        seen.add(digits)
        out.append(
            {
                "value": str(text).strip(),
                "normalized": digits,
                "type": item.get("type") or "mobile",
                "status": "Not Validated",
                "isPrimary": 0,
            }
        )
    for i, phone in enumerate(out):
        phone["isPrimary"] = 1 if i == 0 else 0
    return out


def _addresses(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
        raise bad_request("addresses must be an array of objects")
    out = []
    for item in value:
        check_fields(item, ADDRESS_FIELDS)  # e.g. "zip" is rejected: FUB's postal code key is "code"
        out.append(
            {
                "type": item.get("type") or "home",
                **{k: item.get(k) for k in ("street", "city", "state", "code", "country")},
            }
        )
    return out


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise bad_request("tags must be an array of strings")
    return merge_tags([], value)


def merge_tags(current: Iterable[str], added: Iterable[str]) -> list[str]:
    """Tags are case-insensitive: the first spelling wins."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in [*current, *added]:
        text = tag.strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out


def custom_value(field: Mapping[str, Any], value: Any) -> Any:
    """Validate a custom field value by its type (⚠️ FUB's exact rules are undocumented; strict here)."""
    name = field["name"]
    if value is None:
        return None
    kind = field.get("type")
    if kind == "date":
        return parse_date(value, name)
    if kind == "number":
        return as_number(value, name)
    if kind == "dropdown":
        choices = field.get("choices") or []
        if value not in choices:
            raise bad_request(
                f"Invalid value for {name}: {value!r} is not one of {', '.join(map(str, choices))}"
            )
        return value
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise bad_request(f"Invalid value for {name}: expected text")
    return str(value)


def apply_fields(
    req: Req, person: dict[str, Any], body: Mapping[str, Any], *, merge: bool = False
) -> list[str]:
    """Set validated body fields on `person` (lists overwrite, tags merge with `merge`). Returns the
    tags that are new to the person."""
    customs = custom_fields(req)
    before_tags = list(person.get("tags") or [])
    for key, value in body.items():
        if key in ("firstName", "lastName", "background"):
            if value is not None and not isinstance(value, str):
                raise bad_request(f"Invalid {key}: expected a string")
            person[key] = value.strip() if isinstance(value, str) and key != "background" else value
        elif key == "stage":
            if not isinstance(value, str) or (stage := stage_by_name(req, value)) is None:
                raise bad_request(f"Invalid stage: '{value}' is not a stage in this account")
            person["stage"], person["stageId"] = stage["name"], stage["id"]
        elif key == "contacted":
            person["contacted"] = 1 if as_bool(value, "contacted") else 0
        elif key == "price":
            person["price"] = 0 if value is None else as_number(value, "price")
        elif key == "assignedUserId":
            if value is None:
                person["assignedUserId"] = person["assignedTo"] = None
            else:
                user = user_by_id(req, value, key)
                person["assignedUserId"], person["assignedTo"] = user["id"], user["name"]
        elif key == "assignedTo":
            if "assignedUserId" in body:
                continue
            if value is None:
                person["assignedUserId"] = person["assignedTo"] = None
            else:
                user = user_by_name(req, value, key)
                person["assignedUserId"], person["assignedTo"] = user["id"], user["name"]
        elif key == "assignedLenderId":
            if value is None:
                person["assignedLenderId"] = person["assignedLenderName"] = None
            else:
                user = user_by_id(req, value, key)
                person["assignedLenderId"], person["assignedLenderName"] = user["id"], user["name"]
        elif key == "assignedLenderName":
            if "assignedLenderId" in body:
                continue
            if value is None:
                person["assignedLenderId"] = person["assignedLenderName"] = None
            else:
                user = user_by_name(req, value, key)
                person["assignedLenderId"], person["assignedLenderName"] = user["id"], user["name"]
        elif key == "assignedPondId":
            if value is not None:
                raise bad_request(f"Invalid assignedPondId: pond {value} does not exist")
            person["assignedPondId"] = None
        elif key == "emails":
            person["emails"] = _emails(value)
        elif key == "phones":
            person["phones"] = _phones(value)
        elif key == "addresses":
            person["addresses"] = _addresses(value)
        elif key == "tags":
            tags = _tags(value)
            person["tags"] = merge_tags(before_tags, tags) if merge else tags
        elif key == "collaborators":
            if not isinstance(value, list):
                raise bad_request("collaborators must be an array of user ids")
            collaborators = []
            for item in value:  # ids (docs) or {"id": n} objects (as some clients send)
                uid = item.get("id") if isinstance(item, dict) else item
                user = user_by_id(req, uid, "collaborators")
                collaborators.append(
                    {"id": user["id"], "name": user["name"], "assigned": False, "role": user["role"]}
                )
            person["collaborators"] = collaborators
        elif key == "timeframeId":
            person["timeframeId"] = None if value is None else as_int(value, key)
        elif key == "source" or key == "sourceUrl":
            if value is not None and not isinstance(value, str):
                raise bad_request(f"Invalid {key}: expected a string")
            person[key] = value if key == "sourceUrl" else (value or DEFAULT_SOURCE)
        elif key == "createdAt":
            person["created"] = fmt_ts(parse_ts(value, "createdAt"))
        elif key in customs:
            cleaned = custom_value(customs[key], value)
            if cleaned is None:
                person.pop(key, None)
            else:
                person[key] = cleaned
    person["name"] = " ".join(p for p in (person.get("firstName"), person.get("lastName")) if p)
    known = {t.lower() for t in before_tags}
    return [t for t in person.get("tags") or [] if t.lower() not in known]


def save_person(req: Req, person: dict[str, Any]) -> dict[str, Any]:
    db = req.sandbox.db
    with db.write():
        if person.get("id") is None:
            person = db.insert("people", person)
        else:
            db.update("people", person)
        keys = [("email", norm_email(e["value"])) for e in person.get("emails") or []]
        keys += [("phone", p.get("normalized") or norm_phone(p["value"])) for p in person.get("phones") or []]
        keys += [("tag", t.lower()) for t in person.get("tags") or []]
        db.set_person_keys(person["id"], keys)
    return person


def new_person(req: Req) -> dict[str, Any]:
    now = fmt_ts(req.sandbox.now())
    stage = stage_by_name(req, "Lead") or {"id": None, "name": "Lead"}
    return {
        "created": now,
        "updated": now,
        "createdVia": "API",
        "lastActivity": now,
        "name": "",
        "firstName": None,
        "lastName": None,
        "stage": stage["name"],
        "stageId": stage["id"],
        "source": DEFAULT_SOURCE,
        "sourceUrl": None,
        "contacted": 0,
        "price": 0,
        "assignedLenderId": None,
        "assignedLenderName": None,
        "assignedUserId": None,
        "assignedPondId": None,
        "assignedTo": None,
        "tags": [],
        "emails": [],
        "phones": [],
        "addresses": [],
        "picture": None,
        "background": None,
        "collaborators": [],
        "timeframeId": None,
        "_lastCommunication": None,
        "_nextTask": None,
    }


def emit_person_changes(
    req: Req, person: Mapping[str, Any], before: Mapping[str, Any], added_tags: list[str]
) -> None:
    sandbox = req.sandbox
    sandbox.emit("peopleUpdated", [person["id"]])
    if before.get("stageId") != person.get("stageId"):
        sandbox.emit("peopleStageUpdated", [person["id"]], {"stage": person.get("stage")})
    if added_tags:
        sandbox.emit("peopleTagsCreated", [person["id"]], {"tags": added_tags})


def touch_activity(req: Req, person_id: int, when: str, *, communication: bool = False) -> None:
    """Keep `lastActivity` (and the hidden last-communication sort key) in step with new activity.
    FUB does not change a person's `updated` for this (a note is a separate record)."""
    person = req.sandbox.db.get("people", person_id)
    if person is None:
        return
    changed = False
    if (person.get("lastActivity") or "") < when:
        person["lastActivity"] = when
        changed = True
    if communication and (person.get("_lastCommunication") or "") < when:
        person["_lastCommunication"] = when
        changed = True
    if changed:
        req.sandbox.db.update("people", person)


# --- filters ----------------------------------------------------------------------------------------


def common_filters(
    req: Req,
    query: Mapping[str, str],
    where: list[str],
    params: list[Any],
    *,
    created: str = "json_extract(data, '$.created')",
) -> None:
    """FUB's common filters: id/ids, idLessThan/idGreaterThan, created*/updated* After/Before."""
    ids = query.get("id") or query.get("ids")
    if ids:
        values = csv_ints(ids, "id")
        where.append(f"id IN ({','.join('?' * len(values))})" if values else "0")
        params.extend(values)
    if query.get("idLessThan"):
        where.append("id < ?")
        params.append(as_int(query["idLessThan"], "idLessThan"))
    if query.get("idGreaterThan"):
        where.append("id > ?")
        params.append(as_int(query["idGreaterThan"], "idGreaterThan"))
    for name, column in (("created", created), ("updated", "json_extract(data, '$.updated')")):
        for suffix, op in (("After", ">"), ("Before", "<")):
            value = query.get(name + suffix)
            if value:
                where.append(f"{column} {op} ?")
                params.append(fmt_ts(parse_ts(value, name + suffix)))


def _people_filters(req: Req, query: Mapping[str, str], where: list[str], params: list[Any]) -> None:
    j = "json_extract(data, '$.{}')".format
    common_filters(req, query, where, params, created="created")
    for key in ("name", "firstName", "lastName"):
        if query.get(key):
            where.append(f"lower(COALESCE({j(key)}, '')) LIKE ?")
            params.append(f"%{query[key].strip().lower()}%")
    if query.get("email"):
        where.append("id IN (SELECT person_id FROM person_keys WHERE kind = 'email' AND value = ?)")
        params.append(norm_email(query["email"]))
    if query.get("phone"):
        digits = norm_phone(query["phone"])
        where.append("id IN (SELECT person_id FROM person_keys WHERE kind = 'phone' AND value LIKE ?)")
        params.append(f"%{digits}" if digits else "-")
    if query.get("tags"):
        tags = [t.lower() for t in csv(query["tags"])]
        where.append(
            f"id IN (SELECT person_id FROM person_keys WHERE kind = 'tag' AND value IN "
            f"({','.join('?' * len(tags))}))"
        )
        params.extend(tags)
    if query.get("stage"):
        stage = stage_by_name(req, query["stage"])
        where.append("stage_id = ?")
        params.append(stage["id"] if stage else -1)  # an unknown stage matches nobody
    for key in ("source", "assignedTo", "assignedLenderName"):
        if query.get(key):
            where.append(f"lower(COALESCE({j(key)}, '')) = ?")
            params.append(query[key].strip().lower())
    if query.get("assignedUserId"):
        where.append("assigned_user_id = ?")
        params.append(as_int(query["assignedUserId"], "assignedUserId"))
    for key in ("assignedLenderId", "assignedPondId"):
        if query.get(key):
            where.append(f"{j(key)} = ?")
            params.append(as_int(query[key], key))
    if query.get("contacted"):
        where.append(f"{j('contacted')} = ?")
        params.append(1 if as_bool(query["contacted"], "contacted") else 0)
    if query.get("priceAbove"):
        where.append(f"COALESCE({j('price')}, 0) >= ?")
        params.append(as_number(query["priceAbove"], "priceAbove"))
    if query.get("priceBelow"):
        where.append(f"COALESCE({j('price')}, 0) <= ?")
        params.append(as_number(query["priceBelow"], "priceBelow"))
    for suffix, op in (("After", ">"), ("Before", "<")):
        if query.get("lastActivity" + suffix):
            where.append(f"{j('lastActivity')} {op} ?")
            params.append(fmt_ts(parse_ts(query["lastActivity" + suffix], "lastActivity" + suffix)))
    # relative filters used by seeded smart lists
    if query.get("createdWithinDays"):
        where.append("created > ?")
        params.append(fmt_ts(req.sandbox.now() - timedelta(days=float(query["createdWithinDays"]))))
    customs = custom_fields(req)
    for key, value in query.items():
        if key in customs and value:
            field = customs[key]
            if field.get("type") == "date":  # ",YYYY-MM-DD" <=, "YYYY-MM-DD" >=, "A,B" range
                low, sep, high = value.partition(",")
                if low.strip():
                    where.append(f"{j(key)} >= ?")
                    params.append(parse_date(low.strip(), key))
                if sep and high.strip():
                    where.append(f"{j(key)} <= ?")
                    params.append(parse_date(high.strip(), key))
            elif field.get("type") == "number":
                where.append(f"{j(key)} = ?")
                params.append(as_number(value, key))
            else:
                where.append(f"lower(CAST({j(key)} AS TEXT)) = ?")
                params.append(value.strip().lower())


def people_where(req: Req) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    visible = visible_people_sql(req)
    if visible:
        where.append(visible)
    query = dict(req.query)
    _people_filters(req, query, where, params)
    stages_named = {query.get("stage", "").strip().lower()}
    smart_list_id = query.get("smartListId") or query.get("listId")
    if smart_list_id:
        smart_list = req.sandbox.db.get("smartlists", as_int(smart_list_id, "smartListId"))
        if smart_list is None:
            raise bad_request(f"Invalid smartListId: smart list {smart_list_id} does not exist")
        stored = {k: str(v) for k, v in (smart_list.get("_filter") or {}).items()}
        stages_named.add(stored.get("stage", "").lower())
        _people_filters(req, stored, where, params)
    include_trash = query.get("includeTrash") and as_bool(query["includeTrash"], "includeTrash")
    if not include_trash and "trash" not in stages_named:  # ⚠️ asking for stage=Trash shows Trash
        where.append("stage_id IS NOT ?")
        params.append(trash_stage_id(req))
    return where, params


# --- handlers ---------------------------------------------------------------------------------------


async def list_people(req: Req) -> Response:
    sorts = dict(PEOPLE_SORTS)
    for name in custom_fields(req):
        sorts[name] = f"COALESCE(json_extract(data, '$.{name}'), '')"
    where, params = people_where(req)
    return paginate(
        req, "people", "people", where=where, params=params, sorts=sorts, serialize=serializer(req)
    )


async def get_one(req: Req) -> Response:
    return json_response(serializer(req)(get_person(req, req.path_params["id"])))


def _find_by_contacts(
    req: Req, emails: list[str], phones: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    db = req.sandbox.db
    for kind, values in (("email", emails), ("phone", phones)):
        for value in values:
            for pid in db.people_with_key(kind, value):
                person = db.get("people", pid)
                if person is not None and can_see(req, person):
                    return person, kind
    return None, None


async def create_person(req: Req) -> Response:
    body = req.body()
    customs = custom_fields(req)
    check_fields(body, WRITABLE | CREATE_ONLY, custom=customs)
    if req.q("deduplicate") and as_bool(req.q("deduplicate"), "deduplicate"):
        emails = [norm_email(e["value"]) for e in _emails(body.get("emails"))]
        phones = [p["normalized"] for p in _phones(body.get("phones"))]
        existing, _ = _find_by_contacts(req, emails, phones)
        if existing is not None:  # FUB: 200 with the existing person, nothing changed
            return json_response(serializer(req)(existing), 200)
    person = new_person(req)
    apply_fields(req, person, body)
    if (
        person["assignedUserId"] is None
        and req.user.get("role") == "Agent"
        and not ("assignedUserId" in body or "assignedTo" in body)
    ):
        # ⚠️ an agent's new contact is theirs (otherwise the agent could not see what it just created)
        person["assignedUserId"], person["assignedTo"] = req.user_id, req.user["name"]
    if not (person["name"] or person["emails"] or person["phones"]):
        raise bad_request("A person needs at least a name, an email address or a phone number")
    person["lastActivity"] = person["created"]
    person = save_person(req, person)
    req.sandbox.emit("peopleCreated", [person["id"]])
    return json_response(serializer(req)(person), 201)


async def update_person(req: Req) -> Response:
    person = get_person(req, req.path_params["id"])
    body = req.body()
    check_fields(body, WRITABLE, custom=custom_fields(req))
    merge = bool(req.q("mergeTags")) and as_bool(req.q("mergeTags"), "mergeTags")
    before = dict(person)
    added = apply_fields(req, person, body, merge=merge)
    if person != before:
        person["updated"] = fmt_ts(req.sandbox.now())
        save_person(req, person)
        emit_person_changes(req, person, before, added)
    return json_response(serializer(req)(person), 200)


async def delete_person(req: Req) -> Response:
    person = get_person(req, req.path_params["id"])
    db = req.sandbox.db
    with db.write():
        db.delete("people", person["id"])
        db.set_person_keys(person["id"], [])
    req.sandbox.emit("peopleDeleted", [person["id"]])
    return no_content()


async def check_duplicate(req: Req) -> Response:
    email, phone = req.q("email"), req.q("phone")
    if not email and not phone:
        raise bad_request("email or phone must be specified")
    db = req.sandbox.db
    for kind, value in (
        ("email", norm_email(email) if email else None),
        ("phone", norm_phone(phone) if phone else None),
    ):
        if value:
            ids = db.people_with_key(kind, value)
            if ids:
                person = db.get("people", ids[0]) or {}
                return json_response(
                    {"found": True, "matchedBy": kind, "assignedTo": person.get("assignedTo")}
                )
    return json_response({"found": False, "matchedBy": None, "assignedTo": None})


# --- events -----------------------------------------------------------------------------------------


def _sub_object(body: Mapping[str, Any], key: str, allowed: set[str]) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"{key} must be an object")
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise bad_request("Invalid fields in the request body: " + ", ".join(f"{key}.{k}" for k in unknown))
    return dict(value)


def _event_dedupe(req: Req, fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """FUB's lead dedupe (HELP "Lead Deduplication"): the email matches, OR the phone AND the first
    and last name match. An agent key only matches that agent's people (agent-owned lead flows)."""
    db = req.sandbox.db
    for email in _emails(fields.get("emails")):
        for pid in db.people_with_key("email", norm_email(email["value"])):
            person = db.get("people", pid)
            if person is not None and can_see(req, person):
                return person
    first = (fields.get("firstName") or "").strip().lower()
    last = (fields.get("lastName") or "").strip().lower()
    if first and last:
        for phone in _phones(fields.get("phones")):
            for pid in db.people_with_key("phone", phone["normalized"]):
                person = db.get("people", pid)
                if (
                    person is not None
                    and can_see(req, person)
                    and (person.get("firstName") or "").lower() == first
                    and (person.get("lastName") or "").lower() == last
                ):
                    return person
    return None


async def create_event(req: Req) -> Response:
    """POST /events: 201 + the new person, 200 + the updated existing person, 204 when the source's
    lead flow is archived, 404 when `person.id` does not exist."""
    sandbox = req.sandbox
    body = req.body()
    check_fields(body, EVENT_FIELDS)
    source = body.get("source")
    if source is not None and not isinstance(source, str):
        raise bad_request("source must be a string")
    if source and source.strip().lower() in {s.lower() for s in sandbox.archived_sources}:
        return no_content()
    kind = body.get("type")
    if not kind:
        raise bad_request("type is required")
    if kind not in EVENT_TYPES:
        raise bad_request(f"Invalid event type '{kind}'. Valid: {', '.join(EVENT_TYPES)}")
    prop = _sub_object(body, "property", PROPERTY_FIELDS)
    if prop is not None:
        if prop.get("code") is not None and not isinstance(prop["code"], str):
            raise bad_request("property.code must be a string")
        prop = {k: prop.get(k) for k in PROPERTY_ORDER}
    search = _sub_object(body, "propertySearch", SEARCH_FIELDS)
    campaign = _sub_object(body, "campaign", CAMPAIGN_FIELDS)
    if campaign is not None and not campaign.get("source"):
        raise bad_request("campaign.source is required when a campaign is sent")
    if kind == "Inquiry":  # FUB's shorthand
        kind = "Property Inquiry" if prop else "General Inquiry"
    fields = body.get("person")
    if not isinstance(fields, dict) or not fields:
        raise bad_request("person is required")
    customs = custom_fields(req)
    unknown = [k for k in fields if k not in EVENT_PERSON_FIELDS and k not in customs]
    if unknown:
        raise bad_request("Invalid fields in the request body: " + ", ".join(f"person.{k}" for k in unknown))
    now = sandbox.now()
    occurred = fmt_ts(parse_ts(body["occurredAt"], "occurredAt")) if body.get("occurredAt") else fmt_ts(now)

    if fields.get("id") is not None:
        try:
            person = get_person(req, as_int(fields["id"], "person.id"))
        except FUBError:
            raise FUBError(404, f"Person with id {fields['id']} not found") from None
    else:
        person = _event_dedupe(req, fields)

    created = person is None
    changed = False
    added: list[str] = []
    if created:
        person = new_person(req)
        initial = {k: v for k, v in fields.items() if k != "id"}
        initial["source"] = source or fields.get("source") or DEFAULT_SOURCE
        apply_fields(req, person, initial)
        if person.get("assignedUserId") is None:  # the lead flow's default routing
            person["assignedUserId"], person["assignedTo"] = req.user_id, req.user["name"]
            if req.user.get("role") == "Lender":
                person["assignedUserId"] = person["assignedTo"] = None
        person["lastActivity"] = max(occurred, person["created"])
        before: dict[str, Any] = {}
    else:
        # An event adds to the existing person: new emails/phones/addresses/tags are appended, missing
        # names filled in, custom fields and price set; stage, source and assignment are left alone
        # (FUB: "a person cannot be re-assigned at the same time they are updated via /v1/events").
        assert person is not None
        before = dict(person)
        update: dict[str, Any] = {}
        if fields.get("emails"):
            update["emails"] = list(person["emails"]) + _emails(fields["emails"])
        if fields.get("phones"):
            update["phones"] = list(person["phones"]) + _phones(fields["phones"])
        if fields.get("addresses"):
            known = {(a.get("street") or "").lower() for a in person.get("addresses") or []}
            update["addresses"] = list(person.get("addresses") or []) + [
                a for a in _addresses(fields["addresses"]) if (a.get("street") or "").lower() not in known
            ]
        if fields.get("tags"):
            update["tags"] = fields["tags"]
        for key in ("firstName", "lastName"):
            if fields.get(key) and not person.get(key):
                update[key] = fields[key]
        for key in [*customs, "price"]:
            if key in fields:
                update[key] = fields[key]
        for key in ("emails", "phones"):
            if key in update:
                update[key] = [{k: v for k, v in item.items() if k in CONTACT_FIELDS} for item in update[key]]
        added = apply_fields(req, person, update, merge=True)
        person["lastActivity"] = max(person.get("lastActivity") or "", occurred)
        changed = {k: v for k, v in person.items() if k != "lastActivity"} != {
            k: v for k, v in before.items() if k != "lastActivity"
        }
        if changed:
            person["updated"] = fmt_ts(now)
    with sandbox.db.write():  # the person and the event, atomically
        person = save_person(req, person)
        event = sandbox.db.insert(
            "events",
            {
                "created": occurred,
                "updated": occurred,
                "personId": person["id"],
                "message": body.get("message"),
                "description": body.get("description"),
                "noteId": None,
                "source": source or person.get("source"),
                "system": body.get("system") or req.system,
                "type": kind,
                "property": prop,
                "propertySearch": search,
                "campaign": campaign,
                "pageTitle": body.get("pageTitle"),
                "pageUrl": body.get("pageUrl"),
                "pageReferrer": body.get("pageReferrer"),
                "pageDuration": body.get("pageDuration"),
            },
        )
    if created:
        sandbox.emit("peopleCreated", [person["id"]])
    elif changed:
        emit_person_changes(req, person, before, added)
    sandbox.emit("eventsCreated", [event["id"]])
    return json_response(person_out(person, Selection(None), customs), 201 if created else 200)


EVENT_OUT = (
    "id",
    "created",
    "updated",
    "personId",
    "message",
    "description",
    "noteId",
    "source",
    "type",
    "property",
    "propertySearch",
    "pageTitle",
    "pageUrl",
    "pageDuration",
)


def event_out(event: Mapping[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in EVENT_OUT}


async def list_events(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    visible = visible_person_ids_sql(req)
    if visible:
        where.append(visible)
    common_filters(req, req.query, where, params)
    if req.q("personId"):
        ids = csv_ints(req.q("personId") or "", "personId")
        where.append(f"person_id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    if req.q("type"):
        types = csv(req.q("type") or "")
        where.append(f"json_extract(data, '$.type') IN ({','.join('?' * len(types))})")
        params.extend(types)
    if req.q("hasProperty"):
        has = as_bool(req.q("hasProperty"), "hasProperty")
        where.append("json_type(data, '$.property') " + ("= 'object'" if has else "IS NOT 'object'"))
    if req.q("propertyAddress"):
        where.append(
            "lower(COALESCE(json_extract(data, '$.property.street'), '') || ' ' || "
            "COALESCE(json_extract(data, '$.property.city'), '')) LIKE ?"
        )
        params.append(f"%{(req.q('propertyAddress') or '').lower()}%")
    return paginate(req, "events", "events", where=where, params=params, serialize=event_out)


async def get_event(req: Req) -> Response:
    event = req.sandbox.db.get("events", as_int(req.path_params["id"], "id"))
    if event is None:
        raise not_found()
    get_person(req, event["personId"])
    return json_response(event_out(event))


PEOPLE_ROUTES = [
    ("/people", "GET", list_people),
    ("/people", "POST", create_person),
    ("/people/checkDuplicate", "GET", check_duplicate),
    ("/people/{id:int}", "GET", get_one),
    ("/people/{id:int}", "PUT", update_person),
    ("/people/{id:int}", "DELETE", delete_person),
    ("/events", "GET", list_events),
    ("/events", "POST", create_event),
    ("/events/{id:int}", "GET", get_event),
]
