"""Notes, tasks, calls, text messages and appointments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from starlette.responses import Response

from fub_mcp.sandbox._util import (
    account_tz,
    as_bool,
    as_int,
    bad_request,
    check_fields,
    csv,
    csv_ints,
    fmt_ts,
    forbidden,
    norm_phone,
    not_found,
    parse_date,
    parse_ts,
    require,
)
from fub_mcp.sandbox.api_people import (
    can_see,
    common_filters,
    person_exists,
    touch_activity,
    user_by_id,
    user_by_name,
    visible_person_ids_sql,
)
from fub_mcp.sandbox.http import BASIC_SORTS, Req, json_response, no_content, paginate

__all__ = ["ACTIVITY_ROUTES"]


def _person_filter(req: Req, where: list[str], params: list[Any]) -> None:
    visible = visible_person_ids_sql(req)
    if visible:
        where.append(visible)
    if req.q("personId"):
        ids = csv_ints(req.q("personId") or "", "personId")
        where.append(f"person_id IN ({','.join('?' * len(ids))})")
        params.extend(ids)


def _load(req: Req, table: str) -> dict[str, Any]:
    """A person-linked record visible to the caller, else 404."""
    doc = req.sandbox.db.get(table, as_int(req.path_params["id"], "id"))
    if doc is None:
        raise not_found()
    person = req.sandbox.db.get("people", doc.get("personId") or 0)
    if person is not None and not can_see(req, person):
        raise not_found()
    return doc


def _string(body: Mapping[str, Any], key: str) -> None:
    if body.get(key) is not None and not isinstance(body[key], str):
        raise bad_request(f"Invalid {key}: expected a string")


# --- notes ------------------------------------------------------------------------------------------

NOTE_FIELDS = {"personId", "subject", "body", "isHtml"}
NOTE_OUT = (
    "id",
    "created",
    "updated",
    "createdBy",
    "updatedBy",
    "createdById",
    "updatedById",
    "personId",
    "subject",
    "body",
    "type",
    "isHtml",
)


def note_out(note: Mapping[str, Any]) -> dict[str, Any]:
    return {k: note.get(k) for k in NOTE_OUT}


async def list_notes(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    _person_filter(req, where, params)
    common_filters(req, req.query, where, params)
    return paginate(req, "notes", "notes", where=where, params=params, serialize=note_out)


async def get_note(req: Req) -> Response:
    return json_response(note_out(_load(req, "notes")))


def _note_fields(req: Req, note: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in ("subject", "body"):
        _string(body, key)
    if "personId" in body:
        note["personId"] = person_exists(req, body["personId"])["id"]
    for key in ("subject", "body"):
        if key in body:
            note[key] = body[key]
    if "isHtml" in body:
        note["isHtml"] = as_bool(body["isHtml"], "isHtml")


async def create_note(req: Req) -> Response:
    body = req.body()
    check_fields(body, NOTE_FIELDS)
    require(body, "personId")
    now = fmt_ts(req.sandbox.now())
    note = {
        "created": now,
        "updated": now,
        "createdBy": req.user["name"],
        "updatedBy": req.user["name"],
        "createdById": req.user_id,
        "updatedById": req.user_id,
        "personId": None,
        "subject": None,
        "body": "",
        "type": "Note",
        "isHtml": False,
    }
    _note_fields(req, note, body)
    with req.sandbox.db.write():
        note = req.sandbox.db.insert("notes", note)
        touch_activity(req, note["personId"], now)
    req.sandbox.emit("notesCreated", [note["id"]])
    return json_response(note_out(note), 201)


async def update_note(req: Req) -> Response:
    note = _load(req, "notes")
    body = req.body()
    check_fields(body, NOTE_FIELDS)
    _note_fields(req, note, body)
    note.update(updated=fmt_ts(req.sandbox.now()), updatedBy=req.user["name"], updatedById=req.user_id)
    req.sandbox.db.update("notes", note)
    req.sandbox.emit("notesUpdated", [note["id"]])
    return json_response(note_out(note))


async def delete_note(req: Req) -> Response:
    note = _load(req, "notes")
    req.sandbox.db.delete("notes", note["id"])
    req.sandbox.emit("notesDeleted", [note["id"]])
    return no_content()


# --- tasks ------------------------------------------------------------------------------------------

TASK_TYPES = (
    "Follow Up",
    "Call",
    "Email",
    "Text",
    "Appointment",
    "Showing",
    "Closing",
    "Open House",
    "Thank You",
)
TASK_FIELDS = {
    "personId",
    "assignedTo",
    "assignedUserId",
    "name",
    "type",
    "isCompleted",
    "dueDate",
    "dueDateTime",
    "remindSecondsBefore",
}
TASK_OUT = (
    "id",
    "created",
    "updated",
    "completed",
    "createdBy",
    "updatedBy",
    "createdById",
    "personId",
    "AssignedTo",
    "assignedUserId",
    "name",
    "type",
    "isCompleted",
    "dueDate",
    "dueDateTime",
    "remindSecondsBefore",
    "person",
)
_DUE_SQL = "COALESCE(json_extract(data, '$.dueDateTime'), json_extract(data, '$.dueDate') || 'T00:00:00Z')"
TASK_SORTS = {
    **BASIC_SORTS,
    "dueDate": f"COALESCE({_DUE_SQL}, '')",
    "name": "lower(COALESCE(json_extract(data, '$.name'), ''))",
}


def task_out(task: Mapping[str, Any]) -> dict[str, Any]:
    # `AssignedTo` with a capital A, as in FUB's official example (⚠️ no lowercase duplicate is emitted)
    return {k: task.get(k) for k in TASK_OUT}


def _today(req: Req) -> date:
    return req.sandbox.now().astimezone(account_tz()).date()


async def list_tasks(req: Req) -> Response:
    """`due`: today = due on today's date in the account time zone (America/Chicago); overdue = not
    completed and due before today; upcoming = not completed and due after today (⚠️ FUB's exact
    definitions are undocumented)."""
    where: list[str] = []
    params: list[Any] = []
    _person_filter(req, where, params)
    common_filters(req, req.query, where, params)
    j = "json_extract(data, '$.{}')".format
    if req.q("assignedUserId"):
        where.append(f"{j('assignedUserId')} = ?")
        params.append(as_int(req.q("assignedUserId"), "assignedUserId"))
    if req.q("assignedTo"):
        where.append(f"lower({j('AssignedTo')}) = ?")
        params.append((req.q("assignedTo") or "").strip().lower())
    if req.q("name"):
        where.append(f"lower({j('name')}) LIKE ?")
        params.append(f"%{(req.q('name') or '').lower()}%")
    if req.q("type"):
        types = csv(req.q("type") or "")
        where.append(f"{j('type')} IN ({','.join('?' * len(types))})")
        params.extend(types)
    if req.q("isCompleted"):
        where.append(f"{j('isCompleted')} = ?")
        params.append(1 if as_bool(req.q("isCompleted"), "isCompleted") else 0)
    due = req.q("due")
    if due:
        today = _today(req).isoformat()
        if due == "today":
            where.append(f"{j('dueDate')} = ?")
        elif due == "overdue":
            where.append(f"{j('dueDate')} < ? AND {j('isCompleted')} = 0")
        elif due == "upcoming":
            where.append(f"{j('dueDate')} > ? AND {j('isCompleted')} = 0")
        else:
            raise bad_request("Invalid due: expected today, overdue or upcoming")
        params.append(today)
    if req.q("dueStart"):
        where.append(f"{j('dueDate')} >= ?")
        params.append(_day(req.q("dueStart"), "dueStart"))
    if req.q("dueEnd"):
        where.append(f"{j('dueDate')} <= ?")
        params.append(_day(req.q("dueEnd"), "dueEnd"))
    return paginate(req, "tasks", "tasks", where=where, params=params, sorts=TASK_SORTS, serialize=task_out)


def _day(value: Any, field: str) -> str:
    text = str(value or "")
    if len(text) > 10:
        return parse_ts(text, field).astimezone(account_tz()).date().isoformat()
    return parse_date(text, field)


def _task_fields(req: Req, task: dict[str, Any], body: Mapping[str, Any]) -> None:
    _string(body, "name")
    if "personId" in body:
        person = person_exists(req, body["personId"])
        task["personId"], task["person"] = person["id"], {"id": person["id"], "name": person["name"]}
    if body.get("assignedUserId") is not None:
        user = user_by_id(req, body["assignedUserId"], "assignedUserId")
        task["assignedUserId"], task["AssignedTo"] = user["id"], user["name"]
    elif body.get("assignedTo") is not None:
        user = user_by_name(req, body["assignedTo"], "assignedTo")
        task["assignedUserId"], task["AssignedTo"] = user["id"], user["name"]
    if "name" in body:
        task["name"] = body["name"]
    if "type" in body:
        if body["type"] not in TASK_TYPES:
            raise bad_request(f"Invalid type '{body['type']}'. Valid: {', '.join(TASK_TYPES)}")
        task["type"] = body["type"]
    if body.get("dueDateTime") is not None:
        due = parse_ts(body["dueDateTime"], "dueDateTime")
        task["dueDateTime"] = fmt_ts(due)
        task["dueDate"] = due.astimezone(account_tz()).date().isoformat()
    elif body.get("dueDate") is not None:
        task["dueDate"], task["dueDateTime"] = parse_date(body["dueDate"], "dueDate"), None
    if "remindSecondsBefore" in body:
        if body["remindSecondsBefore"] is not None and not task.get("dueDateTime"):
            raise bad_request("remindSecondsBefore can only be used with a dueDateTime")
        task["remindSecondsBefore"] = (
            None
            if body["remindSecondsBefore"] is None
            else as_int(body["remindSecondsBefore"], "remindSecondsBefore", minimum=0)
        )
    if "isCompleted" in body:
        done = as_bool(body["isCompleted"], "isCompleted")
        if done != task.get("isCompleted"):
            task["completed"] = fmt_ts(req.sandbox.now()) if done else None
        task["isCompleted"] = done


def refresh_next_task(req: Req, person_id: int | None) -> None:
    """The hidden `nextTask` sort key of a person: their earliest open task."""
    if not person_id:
        return
    db = req.sandbox.db
    due = db.scalar(
        f"SELECT MIN({_DUE_SQL}) FROM tasks WHERE person_id = ? AND json_extract(data, '$.isCompleted') = 0",
        (person_id,),
    )
    person = db.get("people", person_id)
    if person is not None and person.get("_nextTask") != due:
        person["_nextTask"] = due
        db.update("people", person)


async def get_task(req: Req) -> Response:
    return json_response(task_out(_load(req, "tasks")))


async def create_task(req: Req) -> Response:
    body = req.body()
    check_fields(body, TASK_FIELDS)
    require(body, "personId", "name")
    if body.get("assignedUserId") is None and body.get("assignedTo") is None:
        raise bad_request("assignedUserId or assignedTo is required")
    now = fmt_ts(req.sandbox.now())
    task: dict[str, Any] = {
        "created": now,
        "updated": now,
        "completed": None,
        "createdBy": req.user["name"],
        "updatedBy": req.user["name"],
        "createdById": req.user_id,
        "personId": None,
        "AssignedTo": None,
        "assignedUserId": None,
        "name": "",
        "type": "Follow Up",
        "isCompleted": False,
        "dueDate": None,
        "dueDateTime": None,
        "remindSecondsBefore": None,
        "person": None,
    }
    _task_fields(req, task, body)
    with req.sandbox.db.write():
        task = req.sandbox.db.insert("tasks", task)
        refresh_next_task(req, task["personId"])
    req.sandbox.emit("tasksCreated", [task["id"]])
    return json_response(task_out(task), 201)


async def update_task(req: Req) -> Response:
    task = _load(req, "tasks")
    body = req.body()
    check_fields(body, TASK_FIELDS)
    old_person = task.get("personId")
    _task_fields(req, task, body)
    task.update(updated=fmt_ts(req.sandbox.now()), updatedBy=req.user["name"])
    with req.sandbox.db.write():
        req.sandbox.db.update("tasks", task)
        refresh_next_task(req, task["personId"])
        if old_person != task["personId"]:
            refresh_next_task(req, old_person)
    req.sandbox.emit("tasksUpdated", [task["id"]])
    return json_response(task_out(task))


async def delete_task(req: Req) -> Response:
    task = _load(req, "tasks")
    with req.sandbox.db.write():
        req.sandbox.db.delete("tasks", task["id"])
        refresh_next_task(req, task.get("personId"))
    req.sandbox.emit("tasksDeleted", [task["id"]])
    return no_content()


# --- calls ------------------------------------------------------------------------------------------

CALL_OUTCOMES = ("Interested", "Not Interested", "Left Message", "No Answer", "Busy", "Bad Number")
CALL_FIELDS = {
    "personId",
    "phone",
    "isIncoming",
    "note",
    "outcome",
    "duration",
    "toNumber",
    "fromNumber",
    "userId",
    "recordingUrl",
}
CALL_OUT = (
    "id",
    "created",
    "updated",
    "createdById",
    "updatedById",
    "phone",
    "personId",
    "userId",
    "userName",
    "note",
    "outcome",
    "isIncoming",
    "duration",
    "ringDuration",
    "recordingUrl",
    "toNumber",
    "fromNumber",
)


def call_out(call: Mapping[str, Any]) -> dict[str, Any]:
    return {k: call.get(k) for k in CALL_OUT}


async def list_calls(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    _person_filter(req, where, params)
    common_filters(req, req.query, where, params)
    for key in ("phone", "toNumber", "fromNumber"):
        if req.q(key):
            where.append(f"digits(json_extract(data, '$.{key}')) LIKE ?")
            params.append(f"%{norm_phone(req.q(key))}")
    if req.q("userId"):
        where.append("json_extract(data, '$.userId') = ?")
        params.append(as_int(req.q("userId"), "userId"))
    return paginate(req, "calls", "calls", where=where, params=params, serialize=call_out)


def _call_fields(req: Req, call: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in ("phone", "note", "toNumber", "fromNumber", "recordingUrl"):
        _string(body, key)
    if "personId" in body:
        call["personId"] = person_exists(req, body["personId"])["id"]
    for key in ("phone", "note", "toNumber", "fromNumber", "recordingUrl"):
        if key in body:
            call[key] = body[key]
    if "isIncoming" in body:
        call["isIncoming"] = as_bool(body["isIncoming"], "isIncoming")
    if "outcome" in body:
        if body["outcome"] is not None and body["outcome"] not in CALL_OUTCOMES:
            raise bad_request(f"Invalid outcome '{body['outcome']}'. Valid: {', '.join(CALL_OUTCOMES)}")
        call["outcome"] = body["outcome"]
    if "duration" in body:
        call["duration"] = as_int(body["duration"], "duration", minimum=0)
    if body.get("userId") is not None:
        user = user_by_id(req, body["userId"], "userId")
        if user["id"] != req.user_id and not (req.owner or req.user.get("role") == "Broker"):
            raise forbidden("Only admins can log calls for another user")
        call["userId"], call["userName"] = user["id"], user["name"]


async def create_call(req: Req) -> Response:
    body = req.body()
    check_fields(body, CALL_FIELDS)
    require(body, "personId", "phone")
    if "isIncoming" not in body or body["isIncoming"] is None:
        raise bad_request("isIncoming is required")
    now = fmt_ts(req.sandbox.now())
    call: dict[str, Any] = {
        "created": now,
        "updated": now,
        "createdById": req.user_id,
        "updatedById": req.user_id,
        "phone": None,
        "personId": None,
        "userId": req.user_id,
        "userName": req.user["name"],
        "note": None,
        "outcome": None,
        "isIncoming": False,
        "duration": 0,
        "ringDuration": 0,
        "recordingUrl": None,
        "toNumber": None,
        "fromNumber": None,
        "_system": req.system,
    }
    _call_fields(req, call, body)
    with req.sandbox.db.write():
        call = req.sandbox.db.insert("calls", call)
        touch_activity(req, call["personId"], now, communication=True)
    req.sandbox.emit("callsCreated", [call["id"]])
    return json_response(call_out(call), 201)


async def get_call(req: Req) -> Response:
    return json_response(call_out(_load(req, "calls")))


async def update_call(req: Req) -> Response:
    call = _load(req, "calls")
    if not req.system or call.get("_system") != req.system:
        raise forbidden("Only calls created by your system can be updated")
    body = req.body()
    check_fields(body, CALL_FIELDS)
    _call_fields(req, call, body)
    call.update(updated=fmt_ts(req.sandbox.now()), updatedById=req.user_id)
    req.sandbox.db.update("calls", call)
    req.sandbox.emit("callsUpdated", [call["id"]])
    return json_response(call_out(call))


# --- text messages ----------------------------------------------------------------------------------

TEXT_FILTERS = (
    "personId",
    "threadId",
    "phone",
    "toNumber",
    "fromNumber",
    "sharedInboxId",
    "groupTextId",
    "participants",
    "id",
)
TEXT_FIELDS = {"personId", "message", "toNumber", "fromNumber", "isIncoming", "externalLabel", "externalUrl"}
TEXT_OUT = (
    "id",
    "created",
    "updated",
    "createdById",
    "updatedById",
    "personId",
    "name",
    "firstName",
    "lastName",
    "picture",
    "userId",
    "userName",
    "status",
    "message",
    "fromNumber",
    "toNumber",
    "sent",
    "isIncoming",
    "archived",
    "read",
    "sharedInboxId",
    "actionPlanId",
    "groupTextId",
    "isExternal",
    "externalUrl",
    "externalLabel",
    "systemId",
    "media",
    "systemName",
)


def text_out(text: Mapping[str, Any]) -> dict[str, Any]:
    return {k: text.get(k) for k in TEXT_OUT}


async def list_texts(req: Req) -> Response:
    if not any(req.q(k) for k in TEXT_FILTERS):
        raise bad_request(
            "personId, threadId, phone, toNumber, fromNumber, sharedInboxId, groupTextId, "
            "participants, or id list must be specified"
        )
    where: list[str] = []
    params: list[Any] = []
    _person_filter(req, where, params)
    common_filters(req, req.query, where, params)
    for key in ("toNumber", "fromNumber"):
        if req.q(key):
            where.append(f"digits(json_extract(data, '$.{key}')) LIKE ?")
            params.append(f"%{norm_phone(req.q(key))}")
    if req.q("phone"):
        digits = f"%{norm_phone(req.q('phone'))}"
        where.append(
            "(digits(json_extract(data, '$.toNumber')) LIKE ? OR "
            "digits(json_extract(data, '$.fromNumber')) LIKE ?)"
        )
        params.extend([digits, digits])
    for key in ("threadId", "sharedInboxId", "groupTextId", "participants"):
        if req.q(key):  # the sandbox has no shared inboxes, group texts or threads
            where.append("0")
    return paginate(req, "textmessages", "textmessages", where=where, params=params, serialize=text_out)


async def get_text(req: Req) -> Response:
    return json_response(text_out(_load(req, "textmessages")))


async def create_text(req: Req) -> Response:
    """Logs a text (nothing is sent). Registered systems only."""
    req.require_registered()
    body = req.body()
    check_fields(body, TEXT_FIELDS)
    require(body, "personId", "message", "toNumber", "fromNumber")
    for key in ("message", "toNumber", "fromNumber", "externalLabel", "externalUrl"):
        _string(body, key)
    person = person_exists(req, body["personId"])
    incoming = as_bool(body.get("isIncoming", False), "isIncoming")
    now = fmt_ts(req.sandbox.now())
    text = req.sandbox.db.insert(
        "textmessages",
        {
            "created": now,
            "updated": now,
            "createdById": req.user_id,
            "updatedById": req.user_id,
            "personId": person["id"],
            "name": person["name"],
            "firstName": person.get("firstName"),
            "lastName": person.get("lastName"),
            "picture": None,
            "userId": req.user_id,
            "userName": req.user["name"],
            "status": "Received" if incoming else "Delivered",
            "message": body["message"],
            "fromNumber": body["fromNumber"],
            "toNumber": body["toNumber"],
            "sent": now,
            "isIncoming": incoming,
            "archived": False,
            "read": not incoming,
            "sharedInboxId": None,
            "actionPlanId": None,
            "groupTextId": None,
            "isExternal": True,
            "externalUrl": body.get("externalUrl"),
            "externalLabel": body.get("externalLabel"),
            "systemId": 1,
            "media": [],
            "systemName": req.system,
        },
    )
    touch_activity(req, person["id"], now, communication=True)
    req.sandbox.emit("textMessagesCreated", [text["id"]])
    return json_response(text_out(text), 201)


# --- appointments -----------------------------------------------------------------------------------

APPOINTMENT_FIELDS = {
    "title",
    "start",
    "end",
    "description",
    "allDay",
    "location",
    "invitees",
    "createdById",
    "typeId",
    "outcomeId",
}
APPOINTMENT_OUT = (
    "id",
    "created",
    "updated",
    "createdById",
    "updatedById",
    "title",
    "description",
    "start",
    "end",
    "allDay",
    "originFub",
    "location",
    "invitees",
    "typeId",
    "type",
    "outcomeId",
    "outcome",
    "externalEventLink",
    "externalCalendarId",
    "isEditable",
    "detailsVisible",
)


def appointment_out(appointment: Mapping[str, Any]) -> dict[str, Any]:
    return {k: appointment.get(k) for k in APPOINTMENT_OUT}


def _appointment_visible_sql(req: Req) -> str | None:
    if req.owner or req.user.get("role") == "Broker":
        return None
    uid = req.user_id
    return (
        f"(json_extract(data, '$.createdById') = {uid} OR EXISTS (SELECT 1 FROM json_each(appointments.data, "
        f"'$.invitees') i WHERE json_extract(i.value, '$.userId') = {uid}))"
    )


async def list_appointments(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    visible = _appointment_visible_sql(req)
    if visible:
        where.append(visible)
    common_filters(req, req.query, where, params)
    for key, path in (("personId", "personId"), ("userId", "userId")):
        if req.q(key):
            ids = csv_ints(req.q(key) or "", key)
            where.append(
                f"EXISTS (SELECT 1 FROM json_each(appointments.data, '$.invitees') i WHERE "
                f"json_extract(i.value, '$.{path}') IN ({','.join('?' * len(ids))}))"
            )
            params.extend(ids)
    start, end = req.q("start"), req.q("end")
    if bool(start) != bool(end):
        raise bad_request("start and end must be given together")
    if start and end:  # appointments overlapping [start, end]
        where.append("json_extract(data, '$.end') >= ? AND json_extract(data, '$.start') <= ?")
        params.extend([fmt_ts(parse_ts(start, "start")), fmt_ts(parse_ts(end, "end"))])
    sorts = {**BASIC_SORTS, "start": "COALESCE(json_extract(data, '$.start'), '')"}
    return paginate(
        req,
        "appointments",
        "appointments",
        where=where,
        params=params,
        sorts=sorts,
        serialize=appointment_out,
    )


def _load_appointment(req: Req) -> dict[str, Any]:
    appointment = req.sandbox.db.get("appointments", as_int(req.path_params["id"], "id"))
    if appointment is None:
        raise not_found()
    visible = (
        req.owner
        or req.user.get("role") == "Broker"
        or appointment.get("createdById") == req.user_id
        or any(i.get("userId") == req.user_id for i in appointment.get("invitees") or [])
    )
    if not visible:
        raise not_found()
    return appointment


def _invitees(req: Req, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise bad_request('invitees must be an array like [{"userId": 1}, {"personId": 2}]')
    out = []
    for item in value:
        check_fields(item, {"userId", "personId", "name", "email"})
        if item.get("userId") is not None:
            user = user_by_id(req, item["userId"], "invitees.userId")
            out.append(
                {
                    "userId": user["id"],
                    "name": item.get("name") or user["name"],
                    "email": item.get("email") or user["email"],
                }
            )
        elif item.get("personId") is not None:
            person = person_exists(req, item["personId"], "invitees.personId")
            emails = person.get("emails") or []
            out.append(
                {
                    "personId": person["id"],
                    "name": item.get("name") or person["name"],
                    "email": item.get("email") or (emails[0]["value"] if emails else None),
                }
            )
        else:
            raise bad_request("each invitee needs a userId or a personId")
    return out


def _appointment_fields(req: Req, appointment: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in ("title", "description", "location"):
        _string(body, key)
        if key in body:
            appointment[key] = body[key]
    start = parse_ts(body["start"], "start") if "start" in body else None
    end = parse_ts(body["end"], "end") if "end" in body else None
    if start is not None:
        appointment["start"] = fmt_ts(start)
    if end is not None:
        appointment["end"] = fmt_ts(end)
    if appointment.get("start") and appointment.get("end") and appointment["end"] < appointment["start"]:
        raise bad_request("end must not be before start")
    if "allDay" in body:
        appointment["allDay"] = as_bool(body["allDay"], "allDay")
    if "invitees" in body:
        appointment["invitees"] = _invitees(req, body["invitees"] or [])
    if body.get("createdById") is not None:
        if not (req.owner or req.user.get("role") == "Broker"):
            raise forbidden("Only admins can set createdById")
        appointment["createdById"] = user_by_id(req, body["createdById"], "createdById")["id"]
    for key, table in (("typeId", "appointmenttypes"), ("outcomeId", "appointmentoutcomes")):
        if key in body:
            if body[key] is None:
                appointment[key] = appointment[key[:-2]] = None
                continue
            ref = req.sandbox.db.get(table, as_int(body[key], key))
            if ref is None:
                raise bad_request(f"Invalid {key}: {body[key]} does not exist")
            appointment[key], appointment[key[:-2]] = ref["id"], ref["name"]


async def create_appointment(req: Req) -> Response:
    body = req.body()
    check_fields(body, APPOINTMENT_FIELDS)
    require(body, "title", "start", "end")
    now = fmt_ts(req.sandbox.now())
    appointment: dict[str, Any] = {
        "created": now,
        "updated": now,
        "createdById": req.user_id,
        "updatedById": req.user_id,
        "title": "",
        "description": "",
        "start": None,
        "end": None,
        "allDay": False,
        "originFub": True,
        "location": None,
        "invitees": [],
        "typeId": None,
        "type": None,
        "outcomeId": None,
        "outcome": None,
        "externalEventLink": None,
        "externalCalendarId": None,
        "isEditable": True,
        "detailsVisible": True,
    }
    _appointment_fields(req, appointment, body)
    appointment = req.sandbox.db.insert("appointments", appointment)
    req.sandbox.emit("appointmentsCreated", [appointment["id"]])
    return json_response(appointment_out(appointment), 201)


async def get_appointment(req: Req) -> Response:
    return json_response(appointment_out(_load_appointment(req)))


async def update_appointment(req: Req) -> Response:
    appointment = _load_appointment(req)
    body = req.body()
    check_fields(body, APPOINTMENT_FIELDS)
    if not body.get("start") or not body.get("end"):  # FUB wants both on every update
        raise bad_request("start and end are required")
    _appointment_fields(req, appointment, body)
    appointment.update(updated=fmt_ts(req.sandbox.now()), updatedById=req.user_id)
    req.sandbox.db.update("appointments", appointment)
    req.sandbox.emit("appointmentsUpdated", [appointment["id"]])
    return json_response(appointment_out(appointment))


async def delete_appointment(req: Req) -> Response:
    appointment = _load_appointment(req)
    req.sandbox.db.delete("appointments", appointment["id"])
    req.sandbox.emit("appointmentsDeleted", [appointment["id"]])
    return no_content()


def _ordered_list(table: str) -> Any:
    async def handler(req: Req) -> Response:
        sorts = {
            "id": "id",
            "name": "lower(json_extract(data, '$.name'))",
            "orderWeight": "json_extract(data, '$.orderWeight')",
        }
        return paginate(req, table, table, sorts=sorts, default_sort="orderWeight", cursors=True)

    handler.__name__ = f"list_{table}"
    return handler


ACTIVITY_ROUTES = [
    ("/notes", "GET", list_notes),
    ("/notes", "POST", create_note),
    ("/notes/{id:int}", "GET", get_note),
    ("/notes/{id:int}", "PUT", update_note),
    ("/notes/{id:int}", "DELETE", delete_note),
    ("/tasks", "GET", list_tasks),
    ("/tasks", "POST", create_task),
    ("/tasks/{id:int}", "GET", get_task),
    ("/tasks/{id:int}", "PUT", update_task),
    ("/tasks/{id:int}", "DELETE", delete_task),
    ("/calls", "GET", list_calls),
    ("/calls", "POST", create_call),
    ("/calls/{id:int}", "GET", get_call),
    ("/calls/{id:int}", "PUT", update_call),
    ("/textMessages", "GET", list_texts),
    ("/textMessages", "POST", create_text),
    ("/textMessages/{id:int}", "GET", get_text),
    ("/appointments", "GET", list_appointments),
    ("/appointments", "POST", create_appointment),
    ("/appointments/{id:int}", "GET", get_appointment),
    ("/appointments/{id:int}", "PUT", update_appointment),
    ("/appointments/{id:int}", "DELETE", delete_appointment),
    ("/appointmentTypes", "GET", _ordered_list("appointmenttypes")),
    ("/appointmentOutcomes", "GET", _ordered_list("appointmentoutcomes")),
]
